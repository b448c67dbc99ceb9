"""The Benchmark step's table of earlier runs: the chat shape's figures (named as such) and each run's
status, a run the user stopped listed as cancelled with what it finished, as ``gpuless history`` lists it."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from toolkit.core.bench.run import status_label
from toolkit.tui import fmt
from toolkit.tui.plain import plain


def history_table(runs: list[Any], model: str | None) -> Table:
    title = plain("Earlier runs" + (f" of {model}" if model else ""))
    table = Table(title=title, expand=True, title_justify="left")
    for column in ("run", "when", "model", "status", "chat decode tok/s", "chat TTFT"):
        table.add_column(column, no_wrap=True)
    for run in runs:
        shapes = {s.get("shape"): s for s in (run.summary or {}).get("shapes", [])}
        chat: dict[str, Any] = shapes.get("chat") or next(iter(shapes.values()), {})
        tps = (chat.get("client_decode_tps") or {}).get("median")
        ttft = (chat.get("ttft_s") or {}).get("median")
        table.add_row(
            str(run.id),
            plain(run.started_at[:16].replace("T", " ")),
            plain(run.name),
            plain(status_label(run.status, run.error, run.requests)),
            fmt.tps(tps),
            fmt.seconds(ttft),
        )
    return table
