"""Step 5, Benchmark: run ``BenchRunner`` (the same run as ``gpuless bench``) and show it as it goes.

The run is the quick plan of ``gpuless bench`` (``toolkit.core.benchplan.QUICK``), an async worker
on the UI loop (it is HTTP streaming). Live numbers arrive through the runner's ``on_request``
callback, so the charts fill per repetition from the same metrics dicts the history stores; a
counter with the time elapsed and left (``LiveProgress``) is redrawn every second. The result's
grade, users held and NUM_PARALLEL advice are the CLI's lines (``toolkit.core.benchverdict``).
Esc cancels: the runner closes its streams and leaves the stored run marked incomplete.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, ClassVar

from rich.table import Table
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from toolkit.core.benchplan import QUICK
from toolkit.core.benchstats import streams_label
from toolkit.core.benchverdict import model_step_lines, verdict
from toolkit.engine.bench_progress import LiveProgress
from toolkit.engine.history import History
from toolkit.tui import fmt
from toolkit.tui.screens.base import WizardScreen
from toolkit.tui.widgets.benchchart import ConcurrencyChart, RepetitionChart

#: The run of the default ``gpuless bench`` (the quick plan); tests shorten it more.
WIZARD_BENCH: dict[str, Any] = QUICK.as_config()


def history_table(runs: list[Any], model: str | None) -> Table:
    table = Table(title="Earlier runs" + (f" of {model}" if model else ""), expand=True, title_justify="left")
    for column in ("run", "when", "model", "status", "decode tok/s", "TTFT"):
        table.add_column(column, no_wrap=True)
    for run in runs:
        shapes = {s.get("shape"): s for s in (run.summary or {}).get("shapes", [])}
        chat: dict[str, Any] = shapes.get("chat") or next(iter(shapes.values()), {})
        tps = (chat.get("client_decode_tps") or {}).get("median")
        ttft = (chat.get("ttft_s") or {}).get("median")
        table.add_row(
            str(run.id),
            run.started_at[:16].replace("T", " "),
            run.name,
            run.status,
            fmt.tps(tps),
            fmt.seconds(ttft),
        )
    return table


class BenchmarkScreen(WizardScreen):
    """Live line, two charts, then results (predicted vs measured, grade, users) and history."""

    STEP_ID = "benchmark"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "start", "Run benchmark"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(classes="step-body"):
            yield Static(id="bench-status", classes="status")
            yield Static("", id="bench-progress", classes="status")
            yield Static("", id="bench-live", classes="status")
            with Horizontal(id="bench-chart"):
                yield RepetitionChart(id="bench-reps")
                yield ConcurrencyChart(id="bench-levels")
            yield Static(id="bench-result")
            yield Static(id="bench-history")

    def on_mount(self) -> None:
        self.watch(self.wizard, "engine", self.engine_changed)
        self.live: LiveProgress | None = None
        self._last_line = ""
        self.set_interval(1.0, self.tick)

    def tick(self) -> None:
        """Redraw the counter (elapsed, time left) while a run goes, even between requests."""
        if self.live is not None and self.busy:
            self.query_one("#bench-progress", Static).update(f"{self.live.prefix()} {self._last_line}")

    def engine_changed(self, engine: tuple[str, str] | None) -> None:
        target = (
            f"{engine[1]} at {engine[0]}"
            if engine
            else f"the server at {self.services.url} (its first model)"
        )
        self.query_one("#bench-status", Static).update(
            f"Target: {target}. b runs a quick benchmark (about {QUICK.max_seconds:g} s, "
            "like `gpuless bench`; `gpuless bench --thorough` for the full sweep), esc cancels."
        )
        self.show_history(engine[1] if engine else None)

    @property
    def busy(self) -> bool:
        return any(w.group == "bench" and w.is_running for w in self.workers)

    def action_start(self) -> None:
        if self.busy:
            return
        self.query_one(RepetitionChart).clear_points()
        self.query_one(ConcurrencyChart).set_levels([])
        self.query_one("#bench-result", Static).update("")
        # Without a launch in this session, a server the user already runs (say, from `gpuless up`)
        # is benchmarked: its first model, or the one the Model step picked when it has that.
        url, model = self.wizard.engine or ("", None)
        self.run_bench(url, model)

    async def _model_at(self, url: str) -> str | None:
        from toolkit.engine.ollama_client import OllamaClient
        from toolkit.errors import GpulessError

        try:
            async with OllamaClient(url, timeout=10.0, connect_timeout=2.0) as client:
                names = await client.list_models()
        except GpulessError:
            names = []
        choice = self.wizard.choice
        picked = getattr(choice, "tag", None)
        if names:
            return picked if picked in names else names[0]
        self.notify(
            f"No model to benchmark at {url}.\nWhat to do: start one in the Launch step (4) first.",
            title="Benchmark",
            severity="warning",
        )
        return None

    def action_cancel(self) -> None:
        self.workers.cancel_group(self, "bench")

    def on_request(self, phase: str, shape: str, streams: int, metrics: Mapping[str, Any]) -> None:
        if self.live is not None:
            self.live.request(phase, shape, streams, metrics)
        tps, ttft = metrics.get("client_decode_tps"), metrics.get("ttft_s")
        self.query_one(RepetitionChart).add(tps, ttft)
        where = f"{shape} rep" if phase == "shape" else streams_label(streams)
        self.query_one("#bench-live", Static).update(
            f"last request ({where}): {fmt.tps(tps)}, TTFT {fmt.seconds(ttft)},"
            f" {metrics.get('output_tokens')} tokens"
        )

    def on_progress(self, line: str) -> None:
        self._last_line = line
        prefix = f"{self.live.prefix()} " if self.live is not None else ""
        self.query_one("#bench-progress", Static).update(prefix + line)

    @work(exclusive=True, group="bench", exit_on_error=False)
    async def run_bench(self, url: str, model: str | None) -> None:
        from toolkit.engine.bench_runner import BenchConfig, BenchRunner
        from toolkit.engine.server_slots import server_slots

        if not url:
            url = await asyncio.to_thread(self.services.resolve_url)
        if model is None:
            model = await self._model_at(url)
            if model is None:
                return
        services = self.services
        config = BenchConfig(model=model, url=url, **{**WIZARD_BENCH, **services.bench_overrides})
        history = History(services.history_path) if services.history_path is not None else None
        machine = self.wizard.machine
        self.live = LiveProgress(config)
        self.on_progress(f"starting: {self.live.planned} requests to {model}")
        runner = BenchRunner(
            config,
            history=history,
            machine=machine,
            catalog=services.catalog(),
            progress=self.on_progress,
            on_request=self.on_request,
            slots_of=server_slots,
        )
        try:
            result = await runner.run()
        finally:
            if history is not None:
                history.close()
            partial = runner.result
            self.show_levels(partial)
        self.show_result(result)
        self.show_history(model)

    def show_levels(self, result: Any) -> None:
        levels = [
            (lv.streams, lv.aggregate_tps, lv.per_stream_tps.median if lv.per_stream_tps else 0.0)
            for lv in result.concurrency
        ]
        self.query_one(ConcurrencyChart).set_levels(levels)

    def show_result(self, result: Any) -> None:
        table = Table(title=f"Result: {result.model} ({result.status})", expand=True, title_justify="left")
        table.add_column("metric", no_wrap=True)
        table.add_column("predicted")
        table.add_column("measured")
        table.add_column("error")
        for row in result.comparisons:
            show = fmt.tps if row.unit == "tok/s" else fmt.seconds
            error = "–" if row.error_pct is None else f"{row.error_pct:+.0f}%"
            table.add_row(row.metric, show(row.predicted), show(row.measured), error)
        chat = next(iter(result.shapes), None)
        decode = chat.client_decode_tps.median if chat and chat.client_decode_tps else None
        ttft = chat.ttft_s.median if chat and chat.ttft_s else None
        if not result.comparisons:
            table.add_row("decode tok/s", "–", fmt.tps(decode), "–")
            table.add_row("TTFT", "–", fmt.seconds(ttft), "–")
        read = verdict(
            result.shapes,
            result.concurrency,
            result.users,
            result.num_parallel,
            result.ttft_slo_s,
            result.server_slots,
        )
        self.query_one("#bench-result", Static).update(table)
        step = model_step_lines(result.model, result.model_step, result.served_file)
        self.query_one("#bench-live", Static).update("\n".join([*read.lines(), *step]))

    def show_history(self, model: str | None) -> None:
        path = self.services.history_path
        if path is None:
            self.query_one("#bench-history", Static).update("History is off.")
            return
        with History(path) as history:
            runs = [
                r for r in history.list_runs(limit=20) if model is None or r.name == model or r.model == model
            ]
        self.query_one("#bench-history", Static).update(
            history_table(runs[:5], model) if runs else "No earlier runs."
        )

    def worker_changed(self, worker: Worker[object], state: WorkerState) -> None:
        if worker.group == "bench" and state == WorkerState.CANCELLED:
            self.query_one("#bench-status", Static).update(
                "Cancelled: the finished requests are kept as an incomplete run."
            )
            self.show_history(self.wizard.engine[1] if self.wizard.engine else None)


SCREEN = BenchmarkScreen
