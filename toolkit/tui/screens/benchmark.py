"""Step 5, Benchmark: run ``BenchRunner`` (the same run as ``gpuless bench``) and show it as it goes.

The run is the quick plan of ``gpuless bench`` (``toolkit.core.benchplan.QUICK``), an async worker on the
UI loop (HTTP streaming). Live numbers arrive through the runner's ``on_request`` callback, so the charts
fill per repetition from the metrics the history stores; ``LiveProgress`` redraws the time elapsed and
left every second. Grade, users held and NUM_PARALLEL advice are the CLI's lines. Esc cancels: the runner
closes its streams and leaves the stored run marked incomplete.
Ctrl-C stops a run (or a tune) as esc does, and a second ctrl+c quits, as in the CLI.

The target is the server the wizard knows: the one launched in this session, else the one it found
running (``toolkit.services.world``), and the header names the URL the run really goes to. The tune
(t, u, a, k) is ``bench_tune.TuneSteps``.
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

from toolkit.adapters.bench_progress import LiveProgress
from toolkit.adapters.history import History
from toolkit.core.benchconcurrency import streams_label
from toolkit.core.benchplan import QUICK
from toolkit.core.benchverdict import model_step_lines, verdict
from toolkit.core.model_choice import default_model
from toolkit.core.thinking import bench_lines
from toolkit.tui import fmt
from toolkit.tui.plain import plain
from toolkit.tui.screens.bench_tune import TuneSteps
from toolkit.tui.widgets.benchchart import ConcurrencyChart, RepetitionChart
from toolkit.tui.widgets.plain import Plain

#: The run of the default ``gpuless bench`` (the quick plan); tests shorten it more.
WIZARD_BENCH: dict[str, Any] = QUICK.as_config()


def history_table(runs: list[Any], model: str | None) -> Table:
    title = plain("Earlier runs" + (f" of {model}" if model else ""))
    table = Table(title=title, expand=True, title_justify="left")
    for column in ("run", "when", "model", "status", "decode tok/s", "TTFT"):
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
            plain(run.status),
            fmt.tps(tps),
            fmt.seconds(ttft),
        )
    return table


class BenchmarkScreen(TuneSteps):
    """Live line, two charts, then results (predicted vs measured, grade, users) and history."""

    STEP_ID = "benchmark"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "start", "Run benchmark"),
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
        self.watch(self.wizard, "engine", self.show_target)
        self.watch(self.wizard, "world", self.show_target)
        self.live: LiveProgress | None = None
        self._last_line = ""
        self.set_interval(1.0, self.tick)

    def tick(self) -> None:
        """Redraw the counter (elapsed, time left) while a run goes, even between requests."""
        if self.live is not None and self.busy:
            self.query_one("#bench-progress", Static).update(f"{self.live.prefix()} {self._last_line}")
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
            f"Target: {where}. b runs a quick benchmark (about {QUICK.max_seconds:g} s, "
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
        from toolkit.adapters.ollama_client import OllamaClient
        from toolkit.errors import GpulessError

        try:
            async with OllamaClient(url, timeout=10.0, connect_timeout=2.0) as client:
                names = await client.list_models()
        except GpulessError:
            names = []
        picked = getattr(self.wizard.choice, "tag", None)
        if names:
            return default_model(names, picked)
        self.show_problem(
            f"No model to benchmark at {url}.", "What to do: start one in the Launch step (4) first."
        )
        return None

    def action_cancel(self) -> None:
        self.workers.cancel_group(self, "bench")
        self.stop_tune()

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
    async def run_bench(self, url: str, model: str | None, calibrate: bool = True) -> None:
        from toolkit.adapters.bench_runner import BenchRunner
        from toolkit.adapters.joined import is_joined
        from toolkit.adapters.probes import busy_share
        from toolkit.adapters.server_slots import server_slots
        from toolkit.core.benchconfig import BenchConfig

        if not url:
            url = await asyncio.to_thread(self.services.resolve_url)
        if model is None:
            model = await self._model_at(url)
            if model is None:
                return
        services = self.services
        explicit = is_joined(url, services.settings)  # the share joined with `gpuless join` was typed
        config = BenchConfig(model, url, explicit, **{**WIZARD_BENCH, **services.bench_overrides})
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
        # history off stores nothing, as in the CLI; B runs one that leaves the calibration alone
        calibrate = calibrate and history is not None and machine is not None
        # Read while the server idles, before the first request: what it sees is other work.
        busy = await asyncio.to_thread(busy_share) if calibrate else None
        try:
            result = await runner.run()
        finally:
            if history is not None:
                history.close()
            partial = runner.result
            self.show_levels(partial)
        note = "Calibration left alone (B)." if history is not None and not calibrate else None
        if calibrate and machine is not None:
            from toolkit.services.estimating import record_benchmark

            calibrated = await asyncio.to_thread(
                record_benchmark, services.settings.calibration_path, machine, result, busy=busy
            )
            if calibrated is not None:
                note = calibrated.summary() + " (B runs a benchmark that leaves it alone)"
        self.show_result(result, note)
        self.show_history(model)

    def show_levels(self, result: Any) -> None:
        levels = [
            (lv.streams, lv.aggregate_tps, lv.per_stream_tps.median if lv.per_stream_tps else 0.0)
            for lv in result.concurrency
        ]
        self.query_one(ConcurrencyChart).set_levels(levels)

    def show_result(self, result: Any, calibration: str | None = None) -> None:
        table = Table(
            title=plain(f"Result: {result.model} ({result.status})"), expand=True, title_justify="left"
        )
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
        step = [*bench_lines(result), *model_step_lines(result.model, result.model_step, result.served_file)]
        notes = [calibration[:1].upper() + calibration[1:]] if calibration else []
        self.query_one("#bench-live", Static).update("\n".join([*read.lines(), *step, *notes]))

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
        if worker.group == "tune" and state == WorkerState.ERROR:
            self._tune_done(f"Tune failed: {getattr(worker.error, 'message', worker.error)}")
        if worker.group == "bench" and state == WorkerState.CANCELLED:
            again = " ctrl+c again quits." if self.interrupted else ""
            self.query_one("#bench-status", Static).update(
                f"Cancelled: the finished requests are kept as an incomplete run.{again}"
            )
            self.show_history(self.wizard.engine[1] if self.wizard.engine else None)


SCREEN = BenchmarkScreen
