"""The Benchmark step's tune (t: one user, u: four users): ``gpuless tune``'s loop in the wizard.

It runs ``toolkit.services.tuning`` on the container of the Compose step's compose.yaml, or on the native
server the Launch step started, in a thread, holding its project lock until the user chooses: a applies
the winner left running (compose.yaml edited through the safe write, a backup kept, ``verify``), k
restarts the configuration that ran before.
Esc (or ctrl+c) stops a tune between steps and restores the start. A step of its own in the screen's
class tree, so the Benchmark screen keeps to the benchmark.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any, ClassVar

from rich.table import Table
from textual import work
from textual.binding import Binding, BindingType
from textual.widgets import Static

from toolkit.core.tune.knobs import Objective
from toolkit.tui.screens.base import WizardScreen

#: The tune's time box, as `gpuless tune`'s default.
TUNE_BUDGET_S = 180.0


class TuneSteps(WizardScreen):
    """The tune's keys, state and workers; the Benchmark screen adds the benchmark."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "tune(1)", "Tune (1)"),
        Binding("u", "tune(4)", "Tune (4)"),
        Binding("a", "apply_tune", "Apply tune", show=False),
        Binding("k", "keep_tune", "Keep", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._tune_line = ""
        self._tune_t0: float | None = None
        self._tune_stop = threading.Event()
        self._tune_hold: contextlib.ExitStack | None = None
        self._tune_pending: tuple[Any, Any] | None = None  # (session, result) awaiting Apply / Keep
        #: ctrl+c stopped the last run or tune: the next ctrl+c quits.
        self.interrupted = False

    @property
    def busy(self) -> bool:
        """A benchmark runs (a tune waits for it, and the other way round)."""
        return any(w.group == "bench" and w.is_running for w in self.workers)

    def tick_tune(self) -> None:
        """Redraw the tune's counter (elapsed, time left) while it runs, even between its steps."""
        if self._tune_t0 is not None and self.tuning:
            self.query_one("#tune-status", Static).update(self._tune_prefix() + self._tune_line)

    def stop_tune(self) -> None:
        self._tune_stop.set()  # the tune stops at its next step and restores the start

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
        self.interrupted = False
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
                self.services.settings, self.services.compose_path, objective, TUNE_BUDGET_S,
                progress=progress, cancelled=self._tune_stop.is_set, hold=hold,
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
            if self.interrupted:
                text += " ctrl+c again quits."
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
            where = "the native server runs it (no compose file holds its settings)"
            if applied["compose_file"]:
                where = f"{session.compose_path} rewritten (previous kept as {applied['backup']})"
            text = f"Applied: {where}; verify: {counts['applied']} applied, {counts['refused']} refused."
        else:
            self.app.call_from_thread(self.on_tune_progress, "restarting the configuration that ran before")
            session.tuner.restore()
            payload["reason"] += "; kept the configuration that ran before"
            text = "Kept: the configuration that ran before runs again; compose.yaml unchanged."
        self._store_tune(session, payload)
        self.app.call_from_thread(self._tune_done, text)
