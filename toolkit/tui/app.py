"""The wizard app: a factory that wires services into one Textual app with a mode per step.

``create_app`` is the only way to build it (tests pass their own ``WizardDeps``); ``run_app`` is what the
CLI runs when ``gpuless`` gets no subcommand. Step screens are imported when first shown, so start-up
pays only for the Machine screen.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Input

from toolkit.core.compose.spec import OllamaServiceSpec
from toolkit.core.machine.hardware import Machine
from toolkit.core.recommend.file_settings import ServerSettings
from toolkit.services.world import World
from toolkit.tui.deps import WizardDeps, default_deps
from toolkit.tui.messages import ComposeSaved, EngineReady, MachineDetected, ModelChosen
from toolkit.tui.notify import report_error
from toolkit.tui.plan import FALLBACK_MODEL, port_of_url
from toolkit.tui.steps import STEPS, next_step, step_by_id

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
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("f1", "help_anywhere", "Help", show=False),
        Binding("ctrl+t", "team", "Team", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    machine: var[Machine | None] = var(None)
    choice: var[Any] = var(None)
    compose_path: var[Path | None] = var(None)
    spec: var[OllamaServiceSpec | None] = var(None)
    engine: var[tuple[str, str] | None] = var(None)
    #: What runs here (compose file, container, server), read when the wizard opens and a step is entered.
    world: var[World | None] = var(None)
    #: The Settings area's values (port, users, memory cap, exposure); unset ones keep the file's.
    server: var[ServerSettings] = var(ServerSettings())
    #: The next free port, when the planned one is taken by something other than gpuless's container.
    port_offer: var[int | None] = var(None)
    #: The URL of the share gateway started from the Team panel (it outlives the wizard), None when none.
    sharing: var[str | None] = var(None)

    def __init__(self, services: WizardDeps, *, start: str = "machine") -> None:
        super().__init__()
        self.services = services
        self.start = start
        self.crash: Exception | None = None
        #: The engine was found running (not launched in this session): it follows what runs.
        self.engine_found = False
        #: Errors of a step that was not on screen, shown in its panel when it is entered.
        self.pending_errors: dict[str, BaseException] = {}

    def on_mount(self) -> None:
        self.switch_mode(self.start)
        self.detect()
        self.look()

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
            self.call_from_thread(self.report, error, "machine")
            return
        self.post_message(MachineDetected(machine))

    @work(thread=True, exclusive=True, group="look", exit_on_error=False)
    def look(self) -> None:
        """Read the world (compose file, container, server) off the UI thread; every look is bounded."""
        from toolkit.services.world import read_world

        services = self.services
        world = read_world(
            services.settings,
            services.compose_path,
            url=services.ollama_url,
            docker=services.launch_mode == "docker",
        )
        self.call_from_thread(self.saw, world)

    def saw(self, world: World) -> None:
        before = self.world
        self.world = world
        serving = world.serving() if world.running else None
        if serving is not None and (self.engine is None or self.engine_found):
            self.engine, self.engine_found = (world.url, serving), True
        elif serving is None and self.engine_found:  # it stopped meanwhile
            self.engine, self.engine_found = None, False
        if before is None or before.file_spec != world.file_spec:
            self.replan()
        else:
            self.check_port()

    @property
    def file_spec(self) -> OllamaServiceSpec | None:
        return self.world.file_spec if self.world is not None else None

    def model_wanted(self) -> str:
        """The model Compose and Launch plan for: the Model step's pick, else the file's, else a default."""
        file = self.file_spec
        return getattr(self.choice, "tag", None) or (file.model if file is not None else FALLBACK_MODEL)

    def replan(self) -> None:
        """The spec Compose shows and Launch starts, from the pick, the compose file and the settings."""
        if self.machine is None:
            return  # planned once the Machine step answers
        try:
            self.spec = self.default_spec(self.model_wanted())
        except Exception as error:
            self.report(error, "compose")
            return
        self.check_port()

    @work(thread=True, exclusive=True, group="port", exit_on_error=False)
    def check_port(self) -> None:
        """Offer the next free port when the planned one is taken by anything but gpuless's container."""
        from toolkit.services.world import next_free_port, port_in_use

        spec, world = self.spec, self.world
        if spec is None or self.services.launch_mode != "docker":
            return
        box = world.container if world is not None else None
        ours = box is not None and box.url is not None and port_of_url(box.url) == spec.port
        busy = not ours and port_in_use(spec.port, spec.bind_address)
        offer = next_free_port(spec.port, spec.bind_address) if busy else None
        self.call_from_thread(setattr, self, "port_offer", offer)

    def use_free_port(self) -> int | None:
        """Move the plan to the offered free port (the f key of Compose and Launch); the port taken."""
        offer = self.port_offer
        if offer is not None:
            self.port_offer = None
            self.server = dataclasses.replace(self.server, port=offer)
        return offer

    def watch_choice(self) -> None:
        self.replan()

    def watch_machine(self) -> None:
        self.replan()

    def watch_server(self) -> None:
        self.replan()

    # --- wizard state, fed by messages from the steps ------------------------------------------

    def on_machine_detected(self, message: MachineDetected) -> None:
        self.machine = message.machine

    def on_model_chosen(self, message: ModelChosen) -> None:
        self.choice = message.choice

    def on_compose_saved(self, message: ComposeSaved) -> None:
        self.compose_path = message.path

    def default_spec(self, model: str) -> OllamaServiceSpec:
        """The spec for ``model``: the pick's request, the compose file's values, the settings' changes."""
        from toolkit.tui.plan import spec_for

        return spec_for(self.services, self.machine, model, self.choice, self.file_spec, self.server)

    def on_engine_ready(self, message: EngineReady) -> None:
        self.engine, self.engine_found = (message.url, message.model), False

    def report(self, error: BaseException, step_id: str) -> None:
        """Show ``error`` on the step it concerns: in its panel now when it is on screen, else as a
        notification now and in its panel when it is entered."""
        show = getattr(self.screen, "show_error", None)
        if show is not None and getattr(self.screen, "STEP_ID", None) == step_id:
            show(error)
            return
        self.pending_errors[step_id] = error
        report_error(cast("App[object]", self), error, step=step_by_id(step_id).title)

    # --- navigation ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Step keys are letters and digits: while an input has the focus they type into it, so they are
        not advertised then (esc leaves the field; the footer says so)."""
        return not (action in ("step", "goto", "help") and isinstance(self.focused, Input))

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

    def action_help_anywhere(self) -> None:
        """f1: help, also from inside an input (where ? types a question mark)."""
        self.action_help()

    def action_team(self) -> None:
        """Open the Team panel: share this laptop with teammates, or join a teammate's share."""
        from toolkit.tui.screens.team import TeamScreen

        if not isinstance(self.screen, TeamScreen):
            self.push_screen(TeamScreen())

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
        yield SystemCommand(
            "Team: share or join", "Share this model with teammates, or join a share", self.action_team
        )
        yield SystemCommand("Detect again", "Probe the machine again", self.detect)
        yield SystemCommand("Help", "Steps and keys", self.action_help)
        yield from super().get_system_commands(screen)


def as_wizard(app: GpulessApp) -> Wizard:
    """The app as its screens see it (written out so the type checker holds the app to the Protocol)."""
    return app


def still_running(app: GpulessApp) -> str | None:
    """What the wizard leaves running when it quits, and how to stop it; None when nothing was started."""
    notes = [note for note in (_server_note(app), _sharing_note(app)) if note]
    return "\n".join(notes) or None


def _sharing_note(app: GpulessApp) -> str | None:
    if app.sharing is None:
        return None
    return f"Still sharing: the gateway at {app.sharing}. Stop it with `gpuless share --stop`."


def _server_note(app: GpulessApp) -> str | None:
    if app.engine is None:
        return None
    url, model = app.engine
    from toolkit.services.join import current

    joined = current(app.services.settings)
    if joined is not None and joined.url == url:
        return None  # a teammate's share: nothing here was started
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
