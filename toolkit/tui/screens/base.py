"""What every wizard step shares: header, step bar, error panel, footer, and the app's services.

An error a step shows stays on that step, in a panel above the footer, until the user dismisses it
(ctrl+x): a notification alone vanishes after a few seconds, leaving "see the notification" pointing at
nothing. Keys that would type into a focused input are not advertised in the footer while it has focus;
esc leaves the field, and the footer then shows the step keys again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static
from textual.worker import Worker, WorkerState

from toolkit.core.safe_text import terminal_safe
from toolkit.tui.notify import describe_error, report_error
from toolkit.tui.steps import step_by_id
from toolkit.tui.widgets.plain import Plain
from toolkit.tui.widgets.stepbar import StepBar

if TYPE_CHECKING:
    from toolkit.tui.deps import WizardDeps
    from toolkit.tui.wizard import Wizard


class StepCancelled(Exception):
    """Raised in a step's worker when the user stopped it: the step says so itself, no error shown."""


#: The keys that leave a focused input and that dismiss an error, in every step.
LEAVE_FIELD = Binding("escape", "leave_field", "Leave field")
# Priority: an input would take ctrl+x as "cut"; while no error is shown, it still does.
DISMISS = Binding("ctrl+x", "dismiss_error", "Dismiss", priority=True)


class WizardScreen(Screen[None]):
    """A step of the wizard. Subclasses set ``STEP_ID`` and implement ``compose_body``.

    Workers started by a step must pass ``exit_on_error=False``; their failures arrive here and are shown
    in the step's error panel (and as a notification) with what to do in the wizard's keys.
    """

    STEP_ID: ClassVar[str] = ""
    #: The app's n, p and ? again, so the footer lists them first, before the step's own keys: a 60-column
    #: footer cuts its end, and how to leave a step must stay on it (the app's ctrl+q Quit comes last).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "app.step(1)", "Next"),
        Binding("p", "app.step(-1)", "Back"),
        Binding("question_mark,f1", "app.help", "Help", key_display="?"),
        LEAVE_FIELD,
        DISMISS,
    ]

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
        panel = Plain("", id="step-error", classes="error-panel")
        panel.display = False
        yield panel
        # Compact, without the palette's own entry (ctrl+p, in Help): at 60 columns the step's keys and
        # how to leave it (n, p, ?) must all show.
        yield Footer(compact=True, show_command_palette=False)

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    def on_screen_resume(self) -> None:
        self.wizard.look()  # a step entered: read what runs again
        error = self.wizard.pending_errors.pop(self.STEP_ID, None)
        if error is not None:  # it happened while another step was on screen (and was notified then)
            self.show_error(error, notify=False)

    # --- keys ---------------------------------------------------------------------------------------

    @property
    def typing(self) -> bool:
        """An input has the focus: printable keys type into it."""
        return isinstance(self.focused, Input)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "dismiss_error":
            return self.error_shown
        if action == "leave_field":
            return self.typing
        # A key that types into the field is not shown (and the field takes it anyway).
        return not (self.typing and action in self.typed_actions())

    def typed_actions(self) -> set[str]:
        """This step's actions bound only to keys an input takes as text (a letter, a digit)."""
        actions: dict[str, bool] = {}
        for key, bindings in self._bindings.key_to_bindings.items():
            for binding in bindings:
                name = binding.action.split("(")[0]
                actions[name] = actions.get(name, True) and len(key) == 1
        return {name for name, printable in actions.items() if printable}

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    def on_descendant_blur(self) -> None:
        self.refresh_bindings()

    def action_leave_field(self) -> None:
        self.set_focus(None)

    # --- errors -------------------------------------------------------------------------------------

    @property
    def error_shown(self) -> bool:
        return bool(self.query_one("#step-error", Static).display)

    def show_error(self, error: BaseException, *, notify: bool = True) -> None:
        """Show ``error`` in this step's panel until dismissed (and as a notification, with ``notify``)."""
        if notify:
            report_error(self.app, error, step=step_by_id(self.STEP_ID).title)
        if not self.explains(error):
            self.show_problem(*describe_error(error), notify=False)

    def explains(self, error: BaseException) -> bool:
        """Whether the step itself says ``error`` and what to do, in its own lines, until the next try
        (then the panel would only repeat it)."""
        return False

    def show_problem(self, heading: str, body: str, *, notify: bool = True) -> None:
        """Show a problem in this step's panel until dismissed (and as a warning, with ``notify``)."""
        title = step_by_id(self.STEP_ID).title
        if notify:
            self.notify(f"{heading}\n{body}", title=title, severity="warning", markup=False)
        panel = self.query_one("#step-error", Static)
        panel.update(terminal_safe(f"{title}: {heading}\n{body}\n(ctrl+x dismisses this)"))
        panel.display = True
        self.refresh_bindings()

    def action_dismiss_error(self) -> None:
        self.query_one("#step-error", Static).display = False
        self.refresh_bindings()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        error = event.worker.error
        if event.state == WorkerState.ERROR and error is not None and not isinstance(error, StepCancelled):
            self.show_error(error)
        self.worker_changed(event.worker, event.state)

    def worker_changed(self, worker: Worker[object], state: WorkerState) -> None:
        """Hook for subclasses that show a worker's progress (idle by default)."""


__all__ = ["Binding", "StepCancelled", "WizardScreen"]
