"""The wizard app: a factory that wires services into one Textual app with a mode per step.

``create_app`` is the only way to build it (tests pass their own ``WizardDeps``); ``run_app`` is what the
CLI runs when ``gpuless`` gets no subcommand. Step screens are imported when first shown, so start-up
pays only for the Machine screen.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import var
from textual.screen import Screen

from toolkit.core.compose.spec import OllamaServiceSpec
from toolkit.core.machine.hardware import Machine
from toolkit.tui.deps import WizardDeps, default_deps
from toolkit.tui.messages import ComposeSaved, EngineReady, MachineDetected, ModelChosen, SpecReady
from toolkit.tui.notify import report_error
from toolkit.tui.steps import STEPS, next_step

if TYPE_CHECKING:
    from toolkit.settings import Settings
    from toolkit.tui.wizard import Wizard


def _lazy_screen(step_id: str) -> Callable[[], Screen[Any]]:
    def build() -> Screen[Any]:
        module = importlib.import_module(f"toolkit.tui.screens.{step_id}")
        screen: Screen[Any] = module.SCREEN()
        return screen

    return build


class GpulessApp(App[None]):
    """The wizard. Holds the wizard state (what each step produced) in reactives the steps watch."""

    CSS_PATH = "app.tcss"
    TITLE = "gpuless"
    ENABLE_COMMAND_PALETTE = True
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {s.id: _lazy_screen(s.id) for s in STEPS}
    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(s.key, f"goto('{s.id}')", s.title, show=False) for s in STEPS),
        Binding("n", "step(1)", "Next"),
        Binding("p", "step(-1)", "Back"),
        Binding("question_mark,f1", "help", "Help", key_display="?"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    machine: var[Machine | None] = var(None)
    choice: var[Any] = var(None)
    compose_path: var[Path | None] = var(None)
    spec: var[OllamaServiceSpec | None] = var(None)
    engine: var[tuple[str, str] | None] = var(None)

    def __init__(self, services: WizardDeps, *, start: str = "machine") -> None:
        super().__init__()
        self.services = services
        self.start = start
        self.crash: Exception | None = None

    def on_mount(self) -> None:
        self.switch_mode(self.start)
        self.detect()

    def _handle_exception(self, error: Exception) -> None:
        """The last resort, as Textual's but without its full traceback on the terminal: the app exits
        with the error kept (``crash``; a pilot test still gets it raised), and ``run_app`` raises it
        again once the terminal is restored, where the CLI's handler prints one line, writes the
        crash log and exits 1 (``toolkit.cli.main``)."""
        self._return_code = 1
        if self._exception is None:
            self._exception = error
            self._exception_event.set()
        if self.crash is None:
            self.crash = error
        self._close_messages_no_wait()

    @work(thread=True, exclusive=True, group="detect", exit_on_error=False)
    def detect(self) -> None:
        """Run detection off the UI thread (Docker and bandwidth probes can take a second or two)."""
        try:
            machine = self.services.detect()
        except Exception as error:
            self.call_from_thread(report_error, self, error, step="Machine")
            return
        self.post_message(MachineDetected(machine))

    # --- wizard state, fed by messages from the steps ------------------------------------------

    def on_machine_detected(self, message: MachineDetected) -> None:
        self.machine = message.machine

    def on_model_chosen(self, message: ModelChosen) -> None:
        self.choice = message.choice

    def on_compose_saved(self, message: ComposeSaved) -> None:
        self.compose_path = message.path

    def on_spec_ready(self, message: SpecReady) -> None:
        self.spec = message.spec

    def default_spec(self, model: str) -> OllamaServiceSpec:
        """The spec for ``model`` when the Compose step has not produced one."""
        from toolkit.tui.plan import spec_for

        return spec_for(self.services, self.machine, model, self.choice)

    def on_engine_ready(self, message: EngineReady) -> None:
        self.engine = (message.url, message.model)

    # --- navigation ----------------------------------------------------------------------------

    def action_goto(self, step_id: str) -> None:
        if step_id != self.current_mode:
            self.switch_mode(step_id)

    def action_step(self, offset: int) -> None:
        step = next_step(self.current_mode, offset)
        if step is not None:
            self.switch_mode(step.id)

    def action_connect(self, url: str = "", model: str = "") -> None:
        """Open the Connect panel for ``url`` and ``model``; by default the launched server and model."""
        from toolkit.tui.screens.connect import ConnectScreen

        if not url and self.engine is not None:
            url, model = self.engine
        self.push_screen(ConnectScreen(url or None, model or None))

    def action_help(self) -> None:
        from toolkit.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        for step in STEPS:
            yield SystemCommand(f"Go to {step.title}", step.summary, lambda s=step.id: self.action_goto(s))
        yield SystemCommand(
            "Connect an app", "URLs, model name, env lines and snippets for your app", self.action_connect
        )
        yield SystemCommand("Detect again", "Probe the machine again", self.detect)
        yield SystemCommand("Help", "Steps and keys", self.action_help)
        yield from super().get_system_commands(screen)


def as_wizard(app: GpulessApp) -> Wizard:
    """The app as its screens see it (written out so the type checker holds the app to the Protocol)."""
    return app


def still_running(app: GpulessApp) -> str | None:
    """What the wizard leaves running when it quits, and how to stop it; None when nothing was started."""
    if app.engine is None:
        return None
    url, model = app.engine
    if app.services.launch_mode == "docker":
        name = app.spec.container_name if app.spec is not None else app.services.settings.container_name
        return (
            f"Still running: the Ollama container {name} at {url}, with {model}."
            " Stop it with `gpuless down` (the models stay in their volume)."
        )
    return f"The Ollama server at {url} keeps running: gpuless did not start it, so it leaves it alone."


def create_app(services: WizardDeps | None = None, *, start: str = "machine") -> GpulessApp:
    """Build the wizard. ``services`` defaults to the real machine, settings and Ollama URL."""
    return GpulessApp(services or default_deps(), start=start)


def run_app(settings: Settings | None = None) -> None:
    """Run the wizard in the terminal (what ``gpuless`` with no subcommand does), with the settings the
    command line read. An exception that ended the wizard is raised again here, after the terminal is
    restored, for the CLI's last-resort handler."""
    app = create_app(default_deps(settings))
    app.run()
    note = still_running(app)
    if note:
        print(note)
    if app.crash is not None:
        raise app.crash
