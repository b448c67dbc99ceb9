"""What every wizard step shares: header, step bar, footer, error reporting and the app's services."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header
from textual.worker import Worker, WorkerState

from toolkit.tui.notify import report_error
from toolkit.tui.steps import step_by_id
from toolkit.tui.widgets.stepbar import StepBar

if TYPE_CHECKING:
    from toolkit.tui.deps import WizardDeps
    from toolkit.tui.wizard import Wizard


class StepCancelled(Exception):
    """Raised in a step's worker when the user stopped it: the step says so itself, no error shown."""


class WizardScreen(Screen[None]):
    """A step of the wizard. Subclasses set ``STEP_ID`` and implement ``compose_body``.

    Workers started by a step must pass ``exit_on_error=False``; their failures arrive here and become
    notifications with a hint instead of ending the app.
    """

    STEP_ID: ClassVar[str] = ""
    BINDINGS: ClassVar[list[BindingType]] = []

    @property
    def wizard(self) -> Wizard:
        """The app, as far as a step may use it (watch its state with ``self.watch(self.app, ...)``)."""
        return cast("Wizard", self.app)

    @property
    def services(self) -> WizardDeps:
        return self.wizard.services

    def compose(self) -> ComposeResult:
        step = step_by_id(self.STEP_ID)
        self.title = "gpuless"
        self.sub_title = f"{step.key}/6 {step.title}"
        yield Header(icon="≡")
        yield StepBar(self.STEP_ID, id="stepbar")
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        error = event.worker.error
        if event.state == WorkerState.ERROR and error is not None and not isinstance(error, StepCancelled):
            report_error(self.app, error, step=step_by_id(self.STEP_ID).title)
        self.worker_changed(event.worker, event.state)

    def worker_changed(self, worker: Worker[object], state: WorkerState) -> None:
        """Hook for subclasses that show a worker's progress (idle by default)."""


__all__ = ["Binding", "StepCancelled", "WizardScreen"]
