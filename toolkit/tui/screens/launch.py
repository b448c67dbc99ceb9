"""Step 4, Launch: pull the image and the model with progress bars, wait for the server, verify the settings.
A model the volume lacks can also come from a file or a teammate (``model_source``: keys i and f).

Docker mode runs ``services.launch.launch`` (the same call as ``gpuless up``) in a thread worker; its
progress callback posts to the UI with ``call_from_thread`` and is also where a cancel lands: esc sets
a flag, the callback raises on its next event (the health wait reports twice a second) and
``up_and_pull`` removes whatever it created. The Textual worker itself is not cancelled, because a
cancelled thread worker reports CANCELLED at once while its thread is still cleaning up.
Attach mode skips Docker and uses a server that already answers at the configured URL (the loopback
test server, or an Ollama the user started).

When it fails, the rows are redrawn from what is really there (the container, read back from the
engine), a failed pull says why in the terms of ``core.recommend.pullfailure`` and ``o`` offers the next
candidate that fits; without a Docker engine the step offers ``r`` (``ollama serve`` here) and ``a``
(an Ollama at a URL) with the install advice for this OS (``core.machine.nodocker``); on a port another
program holds, ``f`` moves the plan to the next free port and starts again. Before a launch, the rows
show what runs already (``toolkit.services.world``, read by the app).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Static
from textual.worker import Worker, WorkerState, get_current_worker

from toolkit.core.recommend.file_settings import spec_changes
from toolkit.errors import (
    DockerUnavailableError,
    PortInUseError,
)
from toolkit.tui.messages import EngineReady
from toolkit.tui.screens.base import LEAVE_FIELD
from toolkit.tui.screens.launch_ways import OtherWays
from toolkit.tui.screens.launch_words import (
    EXPLAINED,
    PULL_FAILED,
    LaunchCancelled,
    container_state,
    failure_text,
    mode_line,
    next_offer,
    running_rows,
)
from toolkit.tui.screens.model_source import ModelSource, Way
from toolkit.tui.widgets.plain import Plain
from toolkit.tui.widgets.transfer import Transfer
from toolkit.tui.widgets.verify_table import verify_table

if TYPE_CHECKING:
    from toolkit.adapters.progress import Progress
    from toolkit.core.compose.spec import OllamaServiceSpec
    from toolkit.core.compose.verify import VerifyReport
    from toolkit.services.world import World


class LaunchScreen(OtherWays):
    """Model tag and start button on top, one progress row per phase, then the verify report."""

    STEP_ID = "launch"
    AUTO_FOCUS = "#launch-start"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "start", "Start"),
        Binding("escape", "cancel", "Cancel"),
        LEAVE_FIELD,
        Binding("f", "free_port", "Free port"),
        Binding("c", "app.connect", "Connect"),
        Binding("o", "try_offer", "Try the offered model"),
        Binding("r", "native", "Run Ollama here"),
        Binding("a", "attach", "Attach to a URL"),
        Binding("i", "bring('file')", "Import"),
        Binding("f", "bring('teammate')", "Fetch"),
    ]

    def compose_body(self) -> ComposeResult:
        # Not focusable itself, so Tab goes from Start to the Model field and back.
        with VerticalScroll(classes="step-body", can_focus=False):
            with Horizontal(classes="toolbar"):
                yield Label("Model")
                yield Input(
                    placeholder="type an Ollama tag (e.g. qwen2.5:1.5b), or esc then 2 to pick one",
                    id="launch-model",
                )
                yield Button("Start", id="launch-start", variant="primary")
            yield Plain(id="launch-mode", classes="status")
            yield Transfer("Image", id="launch-image")
            yield Transfer("Health", id="launch-health")
            yield Transfer("Model", id="launch-pull")
            yield ModelSource(self.services, "launch-pull", id="launch-source")
            yield Plain(id="launch-result")
            yield Plain(id="launch-nodocker", classes="status")
            yield Input(placeholder="Ollama URL, e.g. http://127.0.0.1:11434", id="launch-url")
            yield Plain(id="launch-verify")

    def __init__(self) -> None:
        super().__init__()
        self.cancel_requested = threading.Event()
        #: Tags whose pull failed in this session (not offered again).
        self.failed_tags: set[str] = set()
        #: The model ``o`` launches after a failed pull, None when nothing is offered.
        self.offer: str | None = None
        #: No Docker engine answered: ``r`` and ``a`` are offered.
        self.no_docker = False
        #: The launch under way starts a container (its Health row is the container's health).
        self.docker_launch = False
        #: The model row has shown pull progress in this launch.
        self.pull_started = False
        #: A launch ran in this step (its rows say what it did; what runs is shown only before one).
        self.launched_here = False
        #: The last launch failed on a taken port: ``f`` moves to the next free one and starts again.
        self.port_failed = False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The offer keys are shown (and work) only while there is something to offer."""
        if action == "try_offer":
            return self.offer is not None and not self.busy
        if action == "native":
            return self.native_offered() and not self.busy
        if action == "attach":
            return self.no_docker and not self.busy
        if action == "cancel":
            return self.busy
        if action == "leave_field":
            return self.typing and not self.busy
        if action == "free_port":
            return self.wizard.port_offer is not None and not self.busy and not self.typing
        if action == "bring":  # a model the volume lacks: the local ways besides pulling
            return self.query_one(ModelSource).missing is not None and not self.busy
        return super().check_action(action, parameters)

    def on_mount(self) -> None:
        self.watch(self.app, "spec", self.spec_changed)
        self.watch(self.app, "world", self.world_changed)
        self.watch(self.app, "port_offer", self.offer_changed)
        self.query_one("#launch-url", Input).display = False
        self.show_mode()

    def on_screen_resume(self) -> None:
        # With no model yet the one thing to do here is to give one: the field takes the keys at once
        # (else a typed tag's letters and digits would act as step keys); esc leaves it.
        if not self.model_typed() and not self.busy:
            self.query_one("#launch-model", Input).focus()

    def show_mode(self) -> None:
        if self.services.launch_mode != "docker":
            self.query_one("#launch-image", Transfer).reset("not used in attach mode")
        text = mode_line(self.services, self.wizard.spec)
        if self.services.launch_mode == "docker" and self.native_offered():
            text += " r runs native Ollama on this Mac's GPU instead (Metal: the fast path)."
        self.query_one("#launch-mode", Static).update(text)

    def spec_changed(self, spec: OllamaServiceSpec | None) -> None:
        chosen = self.wizard.choice is not None or self.wizard.file_spec is not None
        if spec is not None and not self.busy and chosen:  # never a model nobody chose
            self.query_one("#launch-model", Input).value = spec.model
            self.show_mode()

    def explains(self, error: BaseException) -> bool:
        return isinstance(error, EXPLAINED)  # the result line says it, with this step's keys

    def world_changed(self, world: World | None) -> None:
        """Before a launch in this step: the rows show what runs already (model, port, health)."""
        if world is None or self.busy or self.launched_here or self.services.launch_mode != "docker":
            return
        rows = running_rows(world)
        for row, text in rows.items():
            if row == "result":
                self.query_one("#launch-result", Static).update(text)
            else:
                self.query_one(f"#launch-{row}", Transfer).reset(text)

    def offer_changed(self, offer: int | None) -> None:
        """The planned port is taken: say so, and that f moves to the next free one."""
        self.refresh_bindings()
        if offer is None or self.busy or (self.launched_here and not self.port_failed):
            return
        spec, result = self.wizard.spec, self.query_one("#launch-result", Static)
        taken = f"Port {spec.port} is taken by another program." if spec is not None else ""
        text = f"{result.content}\n" if self.port_failed else f"{taken} "
        result.update(f"{text}Press f to use port {offer}, the next free one, and start.")

    def action_free_port(self) -> None:
        typed = self.model_typed()  # the new plan must not replace the model typed here
        if self.busy or self.wizard.use_free_port() is None:
            return
        self.query_one("#launch-model", Input).value = typed
        self.port_failed = False
        self.action_start()

    @property
    def busy(self) -> bool:
        return any(w.group == "launch" and w.is_running for w in self.workers)

    @on(Button.Pressed, "#launch-start")
    @on(Input.Submitted, "#launch-model")
    def action_start(self) -> None:
        model = self.query_one("#launch-model", Input).value.strip()
        if not model:
            self.show_problem(
                "Which model?", "What to do: pick one in the Model step (2) or type an Ollama tag."
            )
            return
        if self.busy:
            return
        self.action_dismiss_error()  # a new attempt: the last one's error is over
        self.prepare_rows(image=self.services.launch_mode == "docker")
        if self.services.launch_mode == "docker":
            self.launch_docker(model)
        else:
            self.launch_attach(model, self.services.url)

    def prepare_rows(self, *, image: bool) -> None:
        """Clear the rows, the result and the offers before a launch."""
        for transfer in self.query(Transfer):
            if transfer.id != "launch-image" or image:
                transfer.reset()
        if not image:
            self.query_one("#launch-image", Transfer).reset("not used without Docker")
        self.query_one("#launch-result", Static).update("")
        self.query_one("#launch-verify", Static).update("")
        self.query_one("#launch-start", Button).disabled = True
        self.query_one(ModelSource).cancel_look()
        self.offer = None
        self.docker_launch = image
        self.pull_started = False
        self.launched_here = True
        self.port_failed = False
        self.cancel_requested.clear()
        self.refresh_bindings()

    @on(Input.Changed, "#launch-model")
    def model_changed(self, event: Input.Changed) -> None:
        self.query_one(ModelSource).model_changed(event.value.strip())

    def action_bring(self, way: Way) -> None:
        if self.query_one(ModelSource).missing is not None and not self.busy:
            self.query_one(ModelSource).ask(way)

    def model_typed(self) -> str:
        return self.query_one("#launch-model", Input).value.strip()

    def action_try_offer(self) -> None:
        if self.offer is None or self.busy:
            return
        self.query_one("#launch-model", Input).value = self.offer
        self.action_start()

    @on(Input.Submitted, "#launch-url")
    def attach_submitted(self) -> None:
        url = self.query_one("#launch-url", Input).value.strip()
        if not url or not self.model_typed() or self.busy:
            return
        self.prepare_rows(image=False)
        self.launch_attach(self.model_typed(), url)

    def action_cancel(self) -> None:
        """Cancel the launch under way; with none, leave the field so the step keys work (as in Chat)."""
        if self.busy:
            self.cancel_requested.set()
            self.query_one("#launch-result", Static).update("Cancelling: removing what this launch created…")
        else:
            self.set_focus(None)

    def on_unmount(self) -> None:
        self.cancel_requested.set()  # quitting mid-launch: the thread stops and cleans up

    # --- workers (threads: docker-py and the sync Ollama admin calls block) ----------------------

    def progress_callback(self) -> Callable[[Progress], None]:
        worker = get_current_worker()

        def on_progress(event: Progress) -> None:
            if worker.is_cancelled or self.cancel_requested.is_set():
                raise LaunchCancelled()
            self.app.call_from_thread(self.show_progress, event)

        return on_progress

    def show_progress(self, event: Progress) -> None:
        if event.phase == "image":
            self.query_one("#launch-image", Transfer).advance_to(event.status, event.completed, event.total)
        elif event.phase == "health":
            self.query_one("#launch-health", Transfer).detail(event.status)
        else:
            self.pull_started = True
            if self.docker_launch:  # the wait for the server is over once the pull begins
                self.query_one("#launch-health", Transfer).finish("answering")
            self.query_one("#launch-pull", Transfer).advance_to(event.status, event.completed, event.total)

    @work(thread=True, exclusive=True, group="launch", exit_on_error=False)
    def launch_docker(self, model: str) -> None:
        from toolkit.services.container import docker
        from toolkit.services.launch import launch

        spec = self.wizard.spec
        if spec is None or spec.model != model:
            spec = self.wizard.default_spec(model)  # the one plan, for the model typed here
        file = self.wizard.file_spec
        # The file's own spec is started as it is and the file left alone; a changed plan updates it.
        compose_path = None if spec == file else self.services.compose_path
        changes = spec_changes(file, spec) if file is not None else ()
        runner = docker()
        if runner.has_image(spec.image):
            self.app.call_from_thread(
                self.query_one("#launch-image", Transfer).finish, f"{spec.image} present"
            )
        self.app.call_from_thread(
            self.query_one("#launch-health", Transfer).detail, "starting, waiting for the server to answer…"
        )
        # The compose file is kept in line: a model switch here must not leave it naming the old model.
        try:
            done = launch(runner, spec, compose_path=compose_path, progress=self.progress_callback())
        except BaseException as error:
            self.app.call_from_thread(self.show_container, container_state(runner, spec.container_name))
            self.failed_pull(model, error)
            raise
        result = done.up
        self.app.call_from_thread(self.query_one("#launch-image", Transfer).finish, spec.image)
        self.app.call_from_thread(
            self.query_one("#launch-health", Transfer).finish,
            f"answering after {result.seconds_to_ready:.1f} s",
        )
        served = spec.served_model
        self.app.call_from_thread(self.query_one("#launch-pull", Transfer).finish, f"{served} ready")
        note = done.compose_note
        summary = f"Container {result.action}; clients use {served}." + (f" {note}" if note else "")
        if changes:
            summary += f" Changed from your compose file: {'; '.join(changes)}."
        self.app.call_from_thread(self.launched, result.url, served, summary, done.report)

    def show_container(self, state: str) -> None:
        """The Health row as the engine has it now (after a failure the container may be gone)."""
        self.query_one("#launch-health", Transfer).reset(state)

    def failed_pull(self, model: str, error: BaseException) -> None:
        """From the worker thread: after a pull failure, say why on the Model row and find the next
        candidate that fits (offered with ``o``)."""
        reason = next((text for kind, text in PULL_FAILED.items() if isinstance(error, kind)), None)
        if reason is None:
            return
        self.failed_tags.add(model)
        machine = self.wizard.machine
        offer = next_offer(machine, self.services.catalog(), self.failed_tags) if machine else None
        self.app.call_from_thread(self.show_pull_failure, reason, error, offer)

    def show_pull_failure(self, reason: str, error: BaseException, offer: str | None) -> None:
        self.query_one("#launch-pull", Transfer).reset(reason)
        self.offer = offer
        self.refresh_bindings()

    def launched(self, url: str, model: str, summary: str, report: VerifyReport | None) -> None:
        text = f"{summary} {model} at {url}. Press c to connect an app, n to benchmark, 6 to chat."
        if report is not None:
            counts = report.counts()
            text += "\n" + ", ".join(f"{n} {status}" for status, n in counts.items() if n)
            self.query_one("#launch-verify", Static).update(verify_table(report))
        self.query_one("#launch-result", Static).update(text)
        self.set_focus(None)  # out of the model field, so n and the step keys work at once
        self.post_message(EngineReady(url, model))
        self.wizard.look()  # the compose file may have been brought in line

    def worker_changed(self, worker: Worker[object], state: WorkerState) -> None:
        if worker.group != "launch" or state not in (
            WorkerState.ERROR,
            WorkerState.CANCELLED,
            WorkerState.SUCCESS,
        ):
            return
        start = self.query_one("#launch-start", Button)
        start.disabled = False
        if state != WorkerState.SUCCESS:
            start.focus()  # out of the model field, so the step keys work and enter retries
        self.refresh_bindings()
        if state == WorkerState.ERROR:
            error = worker.error
            if self.pull_started and not isinstance(error, tuple(PULL_FAILED)):
                # No progress line is left standing for a pull that is over.
                stopped = "cancelled" if isinstance(error, LaunchCancelled) else "the launch failed"
                self.query_one("#launch-pull", Transfer).reset(f"stopped: {stopped}")
            self.query_one("#launch-result", Static).update(self.failure_text(worker.error))
            if isinstance(worker.error, DockerUnavailableError):
                self.show_no_docker()
            if isinstance(worker.error, PortInUseError):
                self.port_failed = True
                self.offer_changed(self.wizard.port_offer)
                self.wizard.check_port()  # looks again: the offer (f) follows when it was not known yet

    def failure_text(self, error: BaseException | None) -> str:
        return failure_text(error, self.offer)


SCREEN = LaunchScreen
