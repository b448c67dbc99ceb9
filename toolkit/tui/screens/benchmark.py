"""Step 5, Benchmark: run the same benchmark as ``gpuless bench`` and show it as it goes.

The run is the quick plan of ``gpuless bench`` (``toolkit.core.bench.schedule.QUICK``) through
``toolkit.services.benchmarking`` (the CLI's run), an async worker on the UI loop (HTTP streaming). Live
numbers arrive through its ``on_request`` callback, so the charts fill per repetition from the metrics the
history stores; its live counter redraws the time elapsed and left every second. Grade, users held and
NUM_PARALLEL advice are the CLI's lines. Esc cancels: the runner closes its streams and the history lists
the run as cancelled, with what it finished.
Ctrl-C stops a run (or a tune) as esc does, and a second ctrl+c quits, as in the CLI.

The target is the server the wizard knows: the one launched in this session, else the one it found
running (``toolkit.services.world``), and the header names the URL the run really goes to. The tune
(t, u, a, k) is ``bench_tune.TuneSteps``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, ClassVar

from rich import box
from rich.table import Table
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from toolkit.core.bench.concurrency import streams_label
from toolkit.core.bench.metrics import definitions
from toolkit.core.bench.schedule import QUICK, duration_words
from toolkit.core.bench.verdict import model_step_lines, verdict_of
from toolkit.core.catalog.thinking import bench_lines
from toolkit.services.benchmarking import Benchmark, recent_runs
from toolkit.tui import fmt
from toolkit.tui.plain import plain
from toolkit.tui.screens.bench_tune import TuneSteps
from toolkit.tui.widgets.bench_history import history_table
from toolkit.tui.widgets.benchchart import ConcurrencyChart, RepetitionChart
from toolkit.tui.widgets.plain import Plain

#: The run of the default ``gpuless bench`` (the quick plan); tests shorten it more.
WIZARD_BENCH: dict[str, Any] = QUICK.as_config()


class BenchmarkScreen(TuneSteps):
    """Live line, two charts, then results (predicted vs measured, grade, users) and history."""

    STEP_ID = "benchmark"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "start", "Run"),
        Binding("B", "start(False)", "Run, leave the calibration alone", show=False),
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+c", "interrupt", "Stop", show=False),
    ]

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(classes="step-body"):
            yield Plain(id="bench-status", classes="status")
            yield Plain("", id="bench-progress", classes="status")
            yield Plain("", id="bench-live", classes="status")
            with Horizontal(id="bench-chart"):
                yield RepetitionChart(id="bench-reps")
                yield ConcurrencyChart(id="bench-levels")
            yield Plain(id="bench-result")
            yield Plain("", id="tune-status", classes="status")
            yield Plain(id="tune-result")
            yield Plain(id="bench-history")

    def on_mount(self) -> None:
        self.watch(self.app, "engine", self.show_target)
        self.watch(self.app, "world", self.show_target)
        self.bench_run: Benchmark | None = None
        self._last_line = ""
        self.set_interval(1.0, self.tick)

    def tick(self) -> None:
        """Redraw the counter (elapsed, time left) while a run goes, even between requests."""
        if self.bench_run is not None and self.busy:
            self.query_one("#bench-progress", Static).update(
                f"{self.bench_run.live.prefix()} {self._last_line}"
            )
        self.tick_tune()

    def target(self) -> tuple[str, str | None]:
        """Where b sends the run: the engine (launched here, or found running), else the server the wizard
        found (its first model, or the Model step's pick); ("", None) before the wizard has looked."""
        engine, world = self.wizard.engine, self.wizard.world
        if engine is not None:
            return engine
        return (world.url if world is not None else "", None)

    def show_target(self, _changed: object = None) -> None:
        url, model = self.target()
        world = self.wizard.world
        if not url:
            where = "looking for the server…"
        elif model:
            where = f"{model} at {url}"
        elif world is not None and world.version:
            where = f"the server at {url} (its first model)"
        else:
            where = f"the server at {url}, where nothing answers yet (start one in Launch, 4)"
        box = world.running if world is not None else None
        if box is not None and box.url == url:
            where += f", container {box.name} {box.health or box.state}"
        self.query_one("#bench-status", Static).update(
            f"Target: {where}. b runs a quick benchmark ({duration_words(QUICK.max_seconds)}; "
            "like `gpuless bench`; `gpuless bench --thorough` for the full sweep); esc or ctrl+c stops it."
        )
        self.show_history(model)

    def action_interrupt(self) -> None:
        """ctrl+c: stop the run or the tune under way (as esc does); a second ctrl+c quits, as in the CLI."""
        if self.busy or self.tuning:
            self.interrupted = True
            self.action_cancel()
        elif self.interrupted:
            self.app.exit()
        else:
            self.app.action_help_quit()

    def action_start(self, calibrate: bool = True) -> None:
        if self.busy:
            return
        self.query_one(RepetitionChart).clear_points()
        self.query_one(ConcurrencyChart).set_levels([])
        self.query_one("#bench-result", Static).update("")
        self.interrupted = False
        # The target the header names (without a launch in this session, a server the user already runs:
        # its first model, or the one the Model step picked when it has that).
        url, model = self.target()
        self.run_bench(url, model, calibrate)

    async def _model_at(self, url: str) -> str | None:
        from toolkit.errors import GpulessError
        from toolkit.services.models import default_model_at

        picked = getattr(self.wizard.choice, "tag", None)
        try:
            return await default_model_at(url, picked, timeout=10.0, connect_timeout=2.0)
        except GpulessError:  # it does not answer, or it has no model
            pass
        self.show_problem(
            f"No model to benchmark at {url}.", "What to do: start one in the Launch step (4) first."
        )
        return None

    def action_cancel(self) -> None:
        self.workers.cancel_group(self, "bench")
        self.stop_tune()

    def on_request(self, phase: str, shape: str, streams: int, metrics: Mapping[str, Any]) -> None:
        tps, ttft = metrics.get("client_decode_tps"), metrics.get("ttft_s")
        self.query_one(RepetitionChart).add(tps, ttft)
        where = f"{shape} rep" if phase == "shape" else streams_label(streams)
        self.query_one("#bench-live", Static).update(
            f"last request ({where}): {fmt.tps(tps)}, TTFT {fmt.seconds(ttft)},"
            f" {metrics.get('output_tokens')} tokens"
        )

    def on_progress(self, line: str) -> None:
        self._last_line = line
        prefix = f"{self.bench_run.live.prefix()} " if self.bench_run is not None else ""
        self.query_one("#bench-progress", Static).update(prefix + line)

    @work(exclusive=True, group="bench", exit_on_error=False)
    async def run_bench(self, url: str, model: str | None, calibrate: bool = True) -> None:
        from toolkit.core.bench.config import BenchConfig
        from toolkit.services.join import is_joined

        if not url:
            url = await asyncio.to_thread(self.services.resolve_url)
        if model is None:
            model = await self._model_at(url)
            if model is None:
                return
        services = self.services
        explicit = is_joined(url, services.settings)  # the share joined with `gpuless join` was typed
        config = BenchConfig(model, url, explicit, **{**WIZARD_BENCH, **services.bench_overrides})
        # history off stores nothing, as in the CLI; B runs one that leaves the calibration alone
        self.bench_run = run = Benchmark(
            config,
            history_path=services.history_path,
            machine=self.wizard.machine,
            catalog=services.catalog(),
            calibration_path=services.settings.calibration_path if calibrate else None,
            progress=self.on_progress,
            on_request=self.on_request,
        )
        bound = duration_words(config.max_seconds)
        self.on_progress(f"starting: {run.live.planned} requests to {model}; {bound}")
        try:
            outcome = await run.run()
        finally:
            self.show_levels(run.result)
        note = "Calibration left alone (B)." if run.history is not None and not run.calibrates else None
        if outcome.calibration is not None:
            note = outcome.calibration.summary() + " (B runs a benchmark that leaves it alone)"
        self.show_result(outcome.result, note)
        self.show_history(model)

    def show_levels(self, result: Any) -> None:
        levels = [
            (lv.streams, lv.aggregate_tps, lv.per_stream_tps.median if lv.per_stream_tps else 0.0)
            for lv in result.concurrency
        ]
        self.query_one(ConcurrencyChart).set_levels(levels)

    def show_result(self, result: Any, calibration: str | None = None) -> None:
        title = plain(f"Result: {result.model} ({result.status})")
        # Light rules and bare numbers (each metric names its unit): the table fits 60 columns.
        table = Table(title=title, expand=True, title_justify="left", box=box.SIMPLE_HEAD)
        for column in ("metric", "predicted", "measured", "vs predicted"):
            table.add_column(column, no_wrap=True)
        for row in result.comparisons:
            show = (lambda v: fmt.tps(v).removesuffix(" tok/s")) if row.unit == "tok/s" else fmt.seconds
            table.add_row(row.metric, show(row.predicted), show(row.measured), row.error_short)
        chat = next(iter(result.shapes), None)
        decode = chat.client_decode_tps.median if chat and chat.client_decode_tps else None
        ttft = chat.ttft_s.median if chat and chat.ttft_s else None
        if not result.comparisons:
            table.add_row("decode tok/s", "–", fmt.tps(decode), "–")
            table.add_row("TTFT, chat prompt", "–", fmt.seconds(ttft), "–")
        read = verdict_of(result)
        self.query_one("#bench-result", Static).update(table)
        step = [*bench_lines(result), *model_step_lines(result.model, result.model_step, result.served_file)]
        notes = [*definitions(), *([calibration[:1].upper() + calibration[1:]] if calibration else [])]
        self.query_one("#bench-live", Static).update("\n".join([*read.lines(), *step, *notes]))

    def show_history(self, model: str | None) -> None:
        path = self.services.history_path
        if path is None:
            self.query_one("#bench-history", Static).update("History is off.")
            return
        runs = recent_runs(path, model)
        self.query_one("#bench-history", Static).update(
            history_table(runs, model) if runs else "No earlier runs."
        )

    def worker_changed(self, worker: Worker[object], state: WorkerState) -> None:
        if worker.group == "tune" and state == WorkerState.ERROR:
            self._tune_done(f"Tune failed: {getattr(worker.error, 'message', worker.error)}")
        if worker.group == "bench" and state == WorkerState.CANCELLED:
            again = " ctrl+c again quits." if self.interrupted else ""
            self.query_one("#bench-status", Static).update(
                f"Cancelled: the finished requests are kept; the history lists the run as cancelled.{again}"
            )
            self.show_history(self.wizard.engine[1] if self.wizard.engine else None)


SCREEN = BenchmarkScreen
