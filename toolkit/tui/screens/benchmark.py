"""Step 5, Benchmark: run the same benchmark as ``gpuless bench`` and show it as it goes.

The run is the quick plan of ``gpuless bench`` (``toolkit.core.bench.schedule.QUICK``) through
``toolkit.services.benchmarking`` (the CLI's run), an async worker on the UI loop (HTTP streaming). Live
numbers arrive through its ``on_request`` callback, so the charts fill per repetition from the metrics the
history stores; its live counter redraws the time elapsed and left every second. Grade, users held and
NUM_PARALLEL advice are the CLI's lines. Esc cancels: the runner closes its streams and leaves the stored
run marked incomplete.

Tune (t: one user, u: four users) runs ``gpuless tune``'s loop (``toolkit.services.tuning``) on the
container of the Compose step's compose.yaml in a thread, holding its project lock until the user chooses:
a applies the winner left running (compose.yaml edited through the safe write, a backup kept, ``verify``),
k restarts the configuration that ran before. Esc stops a tune between steps and restores the start.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from rich.table import Table
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from toolkit.core.bench.concurrency import streams_label
from toolkit.core.bench.schedule import QUICK
from toolkit.core.bench.verdict import model_step_lines, verdict_of
from toolkit.core.catalog.thinking import bench_lines
from toolkit.core.tune.knobs import Objective
from toolkit.services.benchmarking import Benchmark, recent_runs
from toolkit.tui import fmt
from toolkit.tui.plain import plain
from toolkit.tui.screens.base import WizardScreen
from toolkit.tui.widgets.benchchart import ConcurrencyChart, RepetitionChart
from toolkit.tui.widgets.plain import Plain

#: The run of the default ``gpuless bench`` (the quick plan); tests shorten it more.
WIZARD_BENCH: dict[str, Any] = QUICK.as_config()
#: The tune's time box, as `gpuless tune`'s default.
TUNE_BUDGET_S = 180.0


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


class BenchmarkScreen(WizardScreen):
    """Live line, two charts, then results (predicted vs measured, grade, users) and history."""

    STEP_ID = "benchmark"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "start", "Run benchmark"),
        Binding("B", "start(False)", "Run, leave the calibration alone", show=False),
        Binding("t", "tune(1)", "Tune (1 user)"),
        Binding("u", "tune(4)", "Tune (4 users)"),
        Binding("a", "apply_tune", "Apply tune", show=False),
        Binding("k", "keep_tune", "Keep", show=False),
        Binding("escape", "cancel", "Cancel"),
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
        self.watch(self.app, "engine", self.engine_changed)
        self.bench_run: Benchmark | None = None
        self._last_line = ""
        self._tune_line = ""
        self._tune_t0: float | None = None
        self._tune_stop = threading.Event()
        self._tune_hold: contextlib.ExitStack | None = None
        self._tune_pending: tuple[Any, Any] | None = None  # (session, result) awaiting Apply / Keep
        self.set_interval(1.0, self.tick)

    def tick(self) -> None:
        """Redraw the counter (elapsed, time left) while a run goes, even between requests."""
        if self.bench_run is not None and self.busy:
            line = f"{self.bench_run.live.prefix()} {self._last_line}"
            self.query_one("#bench-progress", Static).update(line)
        if self._tune_t0 is not None and self.tuning:
            self.query_one("#tune-status", Static).update(self._tune_prefix() + self._tune_line)

    # --- tune ---------------------------------------------------------------------------------------

    @property
    def tuning(self) -> bool:
        return any(w.group == "tune" and w.is_running for w in self.workers)

    def _tune_prefix(self) -> str:
        elapsed = time.monotonic() - (self._tune_t0 or time.monotonic())
        left = max(TUNE_BUDGET_S - elapsed, 0.0)
        return f"tune {elapsed:.0f} s, at most {left:.0f} s left (budget {TUNE_BUDGET_S:.0f} s): "

    def on_tune_progress(self, line: str) -> None:
        self._tune_line = line
        self.query_one("#tune-status", Static).update(self._tune_prefix() + line)

    def action_tune(self, users: int) -> None:
        if self.busy or self.tuning or self._tune_pending is not None:
            return
        self._tune_stop.clear()
        self._tune_t0 = time.monotonic()
        self.query_one("#tune-result", Static).update("")
        self.on_tune_progress(f"starting: {Objective.for_users(users).describe()}")
        self.run_tune(users)

    @work(thread=True, exclusive=True, group="tune", exit_on_error=False)
    def run_tune(self, users: int) -> None:
        from toolkit.services.tuning import prepare

        def progress(line: str) -> None:
            self.app.call_from_thread(self.on_tune_progress, line)

        # The container's project lock, as `gpuless tune` holds it: from here until the winner is applied
        # or kept (a bench, an up or another tune of it is refused meanwhile).
        self._tune_hold = hold = contextlib.ExitStack()
        objective = Objective.for_users(users)
        with contextlib.ExitStack() as on_error:
            on_error.callback(self._release_tune)  # prepare failed: let go of what it took
            session = prepare(
                self.services.compose_path, objective, TUNE_BUDGET_S, progress=progress,
                cancelled=self._tune_stop.is_set, hold=hold,
            )  # fmt: skip
            on_error.pop_all()
        progress(f"{session.candidates} candidate(s), {session.pruned} pruned")
        try:
            result = session.tuner.run()
        except BaseException as stop:
            problem = session.tuner.restore_problem
            partial = session.tuner.result
            if partial is not None:  # stored however the tune ends, as in the CLI
                payload = partial.to_dict() | {"problem": problem}
                failed = not isinstance(stop, KeyboardInterrupt) or problem is not None
                self._store_tune(session, payload, "failed" if failed else "incomplete")
            self._release_tune()
            if not isinstance(stop, KeyboardInterrupt):
                raise
            text = (
                "Tune stopped: the configuration that ran before runs again."
                if problem is None
                else f"Tune stopped: the configuration that ran before is NOT running: {problem}."
            )
            self.app.call_from_thread(self._tune_done, text)
            return
        self.app.call_from_thread(self.show_tune, session, result)

    def _store_tune(self, session: Any, payload: dict[str, Any], status: Any = None) -> None:
        from toolkit.services.tuning import store_history

        spec = session.spec
        store_history(self.services.history_path, spec.served_model, spec.url, payload, status)

    def _release_tune(self) -> None:
        """Let go of the container's project lock the tune holds (nothing when none is held)."""
        hold, self._tune_hold = self._tune_hold, None
        if hold is not None:
            hold.close()

    def on_unmount(self) -> None:
        self._release_tune()

    def _tune_done(self, text: str) -> None:
        self._tune_t0 = None
        self.query_one("#tune-status", Static).update(text)

    def show_tune(self, session: Any, result: Any) -> None:
        winner = result.verdict.winner if result.verdict else None
        table = Table(title=f"Tune: {result.objective.describe()}", expand=True, title_justify="left")
        for column in ("", "before", "after", "after/before"):
            table.add_column(column, no_wrap=True)
        for row in result.table():
            table.add_row(
                row.metric,
                "–" if row.before is None else f"{row.before:.2f}",
                "–" if row.after is None else f"{row.after:.2f}",
                "–" if row.ratio is None else f"{row.ratio:.2f}x",
            )
        self.query_one("#tune-result", Static).update(table if winner is not None else "")
        reason = result.verdict.reason if result.verdict else "interrupted"
        if winner is None:
            self._store_tune(session, result.to_dict())
            self._release_tune()
            self._tune_done(f"Tune ({result.seconds:.0f} s): {reason}. Nothing changed.")
            return
        self._tune_pending = (session, result)
        self._tune_done(
            f"Tune ({result.seconds:.0f} s): {reason}. It runs now: a applies it (compose.yaml rewritten,"
            " a backup kept, then verify), k keeps the configuration that ran before."
        )

    def action_apply_tune(self) -> None:
        if self._tune_pending is not None and not self.tuning:
            self.finish_tune(apply=True)

    def action_keep_tune(self) -> None:
        if self._tune_pending is not None and not self.tuning:
            self.finish_tune(apply=False)

    @work(thread=True, exclusive=True, group="tune", exit_on_error=False)
    def finish_tune(self, apply: bool) -> None:
        try:
            self._finish_tune(apply)
        finally:
            self._release_tune()

    def _finish_tune(self, apply: bool) -> None:
        from toolkit.services.tuning import apply_winner

        pending, self._tune_pending = self._tune_pending, None
        if pending is None:
            return
        session, result = pending
        payload = result.to_dict()
        winner = result.verdict.winner
        if apply:
            self.app.call_from_thread(self.on_tune_progress, "writing compose.yaml and verifying")
            applied = apply_winner(session, winner.candidate.knobs)
            applied.pop("diff")
            payload.update(applied)
            counts = applied["verify"]["counts"]
            text = (
                f"Applied: {session.compose_path} rewritten (previous kept as {applied['backup']});"
                f" verify: {counts['applied']} applied, {counts['refused']} refused."
            )
        else:
            self.app.call_from_thread(self.on_tune_progress, "restarting the configuration that ran before")
            session.tuner.restore()
            payload["reason"] += "; kept the configuration that ran before"
            text = "Kept: the configuration that ran before runs again; compose.yaml unchanged."
        self._store_tune(session, payload)
        self.app.call_from_thread(self._tune_done, text)

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

    def action_start(self, calibrate: bool = True) -> None:
        if self.busy:
            return
        self.query_one(RepetitionChart).clear_points()
        self.query_one(ConcurrencyChart).set_levels([])
        self.query_one("#bench-result", Static).update("")
        # Without a launch in this session, a server the user already runs (say, from `gpuless up`)
        # is benchmarked: its first model, or the one the Model step picked when it has that.
        url, model = self.wizard.engine or ("", None)
        self.run_bench(url, model, calibrate)

    async def _model_at(self, url: str) -> str | None:
        from toolkit.errors import GpulessError
        from toolkit.services.models import default_model_at

        picked = getattr(self.wizard.choice, "tag", None)
        try:
            return await default_model_at(url, picked, timeout=10.0, connect_timeout=2.0)
        except GpulessError:  # it does not answer, or it has no model
            pass
        self.notify(
            f"No model to benchmark at {url}.\nWhat to do: start one in the Launch step (4) first.",
            title="Benchmark",
            severity="warning",
            markup=False,
        )
        return None

    def action_cancel(self) -> None:
        self.workers.cancel_group(self, "bench")
        self._tune_stop.set()  # the tune stops at its next step and restores the start

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
        self.on_progress(f"starting: {run.live.planned} requests to {model}")
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
        read = verdict_of(result)
        self.query_one("#bench-result", Static).update(table)
        step = [*bench_lines(result), *model_step_lines(result.model, result.model_step, result.served_file)]
        notes = [calibration[:1].upper() + calibration[1:]] if calibration else []
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
            self.query_one("#bench-status", Static).update(
                "Cancelled: the finished requests are kept as an incomplete run."
            )
            self.show_history(self.wizard.engine[1] if self.wizard.engine else None)


SCREEN = BenchmarkScreen
