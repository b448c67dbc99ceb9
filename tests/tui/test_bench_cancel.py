"""A benchmark stopped with esc in the wizard is a cancelled run, not a failed one (issue 25 item 4): the
step, its table of earlier runs and `gpuless history` all say "cancelled" with what the run finished."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from textual.widgets import Static

from tests.faults.server import MODEL, FaultServer
from toolkit.adapters.bench.history import History
from toolkit.cli.render_bench import history_lines
from toolkit.tui.app import create_app
from toolkit.tui.deps import WizardDeps

from .conftest import settle, text_of


async def test_esc_stops_a_benchmark_and_the_history_lists_it_as_cancelled(
    services: WizardDeps, tmp_path: Path
) -> None:
    path = tmp_path / "history.sqlite3"
    with FaultServer("slow") as server:  # the measured chat streams a token every 0.2 s for a minute
        svc = dataclasses.replace(services, ollama_url=server.url, history_path=path)
        app = create_app(svc, start="benchmark")
        async with app.run_test(size=(100, 30)) as pilot:
            app.engine = (server.url, MODEL)
            await pilot.press("b")
            for _ in range(600):  # the warm-up is done and the measured request streams (at most 30 s)
                if "POST /api/chat" in server.requests:
                    break
                await pilot.pause(0.05)
            await pilot.press("escape")
            await settle(pilot)
            screen: Any = app.screen
            status = text_of(screen.query_one("#bench-status", Static))
            assert status.startswith("Cancelled: the finished requests are kept"), status
            earlier = text_of(screen.query_one("#bench-history", Static))
            assert "cancelled (nothing" in earlier, earlier
    with History(path) as store:
        runs = store.list_runs()
    assert len(runs) == 1 and runs[0].error == "cancelled after 0 requests"
    lines = history_lines(runs)
    assert "cancelled (nothing finished)" in lines[1] and "failed" not in lines[1]
