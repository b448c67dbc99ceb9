"""The benchmark result as text: the tables and verdict lines ``gpuless bench`` prints.

Also what ``scripts/bench_report.py`` prints, so the recorded report reads like the command. Text that
came from a server (model names, errors) is made terminal-safe here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from toolkit.core.bench.concurrency import streams_label
from toolkit.core.bench.metrics import definitions
from toolkit.core.bench.run import is_cancelled, status_label
from toolkit.core.bench.verdict import model_step_lines
from toolkit.core.catalog.thinking import bench_lines
from toolkit.core.safe_text import terminal_safe

if TYPE_CHECKING:
    from toolkit.core.bench.config import BenchResult
    from toolkit.core.bench.run import RunRow


def _num(value: float | None, digits: int = 1, suffix: str = "") -> str:
    return "—" if value is None else f"{value:.{digits}f}{suffix}"


def _table(rows: list[list[str]]) -> list[str]:
    rows = [[terminal_safe(cell, one_line=True) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def verdict_lines(result: BenchResult) -> list[str]:
    """Grade, users held and OLLAMA_NUM_PARALLEL of a ``BenchResult``, each with its reason."""
    from toolkit.core.bench.verdict import verdict_of

    return verdict_of(result).lines()


def format_result(result: BenchResult) -> list[str]:
    """Readable lines for a ``BenchResult``: shapes, concurrency, users per grade, predicted vs measured."""
    head = f"{result.model} at {result.url} ({result.api}"
    head += f", engine {result.engine_version}" if result.engine_version else ""
    head += f", {result.quantization}" if result.quantization else ""
    head += ")"
    run = f"run #{result.run_id}" if result.run_id is not None else "not stored"
    if result.history_error and result.run_id is not None:
        count = result.stored_requests
        stored = "" if count is None else f"{count} request{'' if count == 1 else 's'} "
        run += f" ({stored}stored up to a failed history write)"
    finished = sum(s.requests for s in result.shapes) + sum(lv.requests for lv in result.concurrency)
    status = status_label(result.status, result.error, finished)
    lines = [terminal_safe(f"{head}: {status}, {run}", one_line=True)]
    if result.cold_load_s is not None:
        lines.append(f"model load (preload, kept out of TTFT): {result.cold_load_s:.2f} s")
    if result.shapes:
        rows = [["shape", "reps", "decode tok/s", "spread", "server tok/s", "TTFT p50/p95 s", "prompt tok/s",
                 "ITL p50/p95 ms", "tokens in/out"]]  # fmt: skip
        for s in result.shapes:
            dec, srv, ttft, ptps = s.client_decode_tps, s.server_decode_tps, s.ttft_s, s.prompt_tps
            rows.append(
                [
                    s.shape,
                    str(s.requests),
                    _num(dec.median if dec else None),
                    _num(dec.spread_pct if dec else None, 0, "%"),
                    _num(srv.median if srv else None),
                    f"{_num(ttft.median if ttft else None, 3)} / {_num(ttft.p95 if ttft else None, 3)}",
                    _num(ptps.median if ptps else None, 0),
                    f"{_num(s.itl_p50_s * 1e3 if s.itl_p50_s else None)} / "
                    f"{_num(s.itl_p95_s * 1e3 if s.itl_p95_s else None)}",
                    f"{_num(s.prompt_tokens, 0)} / {_num(s.output_tokens, 0)}",
                ]
            )
        lines += ["", *_table(rows)]
    lines += [terminal_safe(line, one_line=True) for line in bench_lines(result)]
    if result.concurrency:
        rows = [["streams", "aggregate tok/s", "per-stream tok/s p50/min", "TTFT p50/p95 s", "requests"]]
        for lv in result.concurrency:
            per = lv.per_stream_tps
            rows.append(
                [
                    str(lv.streams),
                    _num(lv.aggregate_tps),
                    f"{_num(per.median if per else None)} / {_num(per.min if per else None)}",
                    f"{_num(lv.ttft_p50_s, 3)} / {_num(lv.ttft_p95_s, 3)}",
                    f"{lv.requests} ({lv.errors} refused: busy)" if lv.saturated else str(lv.requests),
                ]
            )
        lines += ["", *_table(rows)]
    if result.comparisons:
        rows = [["predicted vs measured", "predicted", "measured", "error"]]
        for c in result.comparisons:
            digits = 3 if c.unit == "s" else 1
            rows.append(
                [
                    c.metric if c.unit in c.metric.split() else f"{c.metric} ({c.unit})",
                    _num(c.predicted, digits),
                    _num(c.measured, digits),
                    c.error_words,
                ]
            )
        lines += ["", *_table(rows)]
    if result.shapes or result.concurrency:
        lines += ["", *definitions()]
    lines += model_step_lines(result.model, result.model_step, result.served_file)
    if result.shapes or result.concurrency:
        lines += ["", *verdict_lines(result)]
    saturated = [lv.streams for lv in result.concurrency if lv.saturated]
    if saturated:
        lines.append(
            f"saturated at {streams_label(saturated[0])}: the server's queue was full (HTTP 503); "
            "higher levels were not tried"
        )
    elif result.stopped_by:
        lines.append(f"stopped early: {result.stopped_by} reached")
    if result.error and is_cancelled(result.error):
        lines.append(terminal_safe(f"{result.error}: what finished is shown above and kept", one_line=True))
    elif result.error:
        lines.append(terminal_safe(f"stopped by an error: {result.error}", one_line=True))
    if result.history_error:
        lines.append(terminal_safe(f"history: {result.history_error}", one_line=True))
    return lines


def compare_lines(a: RunRow, b: RunRow, rows: list[dict[str, Any]]) -> list[str]:
    """``history --compare``: which runs, then one row per metric with its change."""
    lines = []
    for label, run in (("A", a), ("B", b)):
        text = f"{label} = run #{run.id} {run.name} ({run.started_at}, {run.status}"
        lines.append(terminal_safe(f"{text}, power {run.power_source})", one_line=True))
    rows_text = [["metric", "A", "B", "change"]]
    for row in rows:
        rows_text.append(
            [row["metric"], _num(row["a"], 2), _num(row["b"], 2), _num(row["change_pct"], 1, "%")]
        )
    return lines + _table(rows_text)


def history_lines(runs: list[RunRow]) -> list[str]:
    """``history``: one row per stored run (damaged ones say so)."""
    from toolkit.core.bench.run import median_of

    rows = [["id", "started", "status", "model", "quant", "engine", "chat decode tok/s", "chat TTFT s",
             "power"]]  # fmt: skip
    for run in runs:
        shapes: dict[str, dict[str, Any]] = {s["shape"]: s for s in (run.summary or {}).get("shapes", [])}
        chat_shape = shapes.get("chat") or next(iter(shapes.values()), {})
        decode = median_of(chat_shape.get("client_decode_tps"))
        ttft = median_of(chat_shape.get("ttft_s"))
        rows.append(
            [
                str(run.id),
                str(run.started_at).replace("T", " ")[:19],
                f"{run.status} (damaged: {', '.join(run.damaged)})"
                if run.damaged
                else status_label(run.status, run.error, run.requests),
                run.name,
                run.quantization or "—",
                run.engine_version or "—",
                _num(decode),
                _num(ttft, 3),
                run.power_source or "—",
            ]
        )
    # its cells are made terminal-safe one by one; the line keeps its alignment
    return [*_table(rows), "", *definitions()]
