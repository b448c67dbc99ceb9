"""The Launch step's other ways to a model this laptop lacks: import it from a file, fetch it from a teammate.

In Docker mode the step looks into the models volume (``services.model_copy.has_model``, in a thread)
whenever the model field settles; when the model is not there, this panel says so and the step offers
``i`` (the path of a ``gpuless models export`` archive or folder) and ``f`` (a teammate's ``gpuless
share`` URL and key; the share you joined is filled in) besides pulling with ctrl+s. Both go through
the services the CLI uses (``import_models``, ``fetch_model``): every sha256 is checked before anything
is written, and the Model row shows the transfer. Afterwards ctrl+s starts the server without a pull.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from toolkit.errors import GpulessError
from toolkit.tui.notify import report_error
from toolkit.tui.widgets.plain import Plain
from toolkit.tui.widgets.transfer import Transfer

if TYPE_CHECKING:
    from toolkit.services.model_copy import Target
    from toolkit.tui.deps import WizardDeps

Way = Literal["file", "teammate"]
#: Seconds the model field must stay unchanged before the volume is looked into.
SETTLE_S = 0.6


class ModelSource(Vertical):
    """The "not on this laptop" line and the inputs of the two local ways to the model."""

    DEFAULT_CSS = """
    ModelSource { height: auto; display: none; }
    ModelSource > Input { display: none; }
    """

    def __init__(self, services: WizardDeps, row: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.services = services
        self.row = row
        #: The model the volume lacks (None: present, unknown, or not looked at).
        self.missing: str | None = None
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Plain(id="source-status", classes="status")
        yield Input(placeholder="path of the .tar or folder `gpuless models export` wrote", id="source-path")
        yield Input(placeholder="the share's URL, e.g. http://192.168.1.20:8080", id="source-url")
        yield Input(placeholder="the share's key (gpl_…)", password=True, id="source-key")

    def _target(self) -> Target:
        from toolkit.services.model_copy import Target, target

        compose = self.services.compose_path
        where = target(compose if compose.is_file() else None, self.services.settings, None, None)
        return Target(where.volume, self.services.ollama_image)

    def model_changed(self, model: str) -> None:
        """The model field changed: look into the volume once it settles (Docker mode only)."""
        self.cancel_look()
        if self.services.launch_mode == "docker" and model:
            self._timer = self.set_timer(SETTLE_S, lambda: self.look(model))

    def cancel_look(self) -> None:
        """A launch begins: no look now (its helper container would hold the volume a cancelled launch
        must remove)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    @work(thread=True, exclusive=True, group="source-look", exit_on_error=False)
    def look(self, model: str) -> None:
        from toolkit.services.model_copy import has_model

        where = self._target()
        try:
            present = has_model(where, model)
        except GpulessError:  # no engine, no image: nothing to offer; a launch says why
            present = True
        self.app.call_from_thread(self.show_missing, None if present else model, where.volume)

    def show_missing(self, model: str | None, volume: str) -> None:
        self.missing = model
        text = ""
        if model is not None:
            text = (
                f"{model} is not on this laptop (volume {volume}): ctrl+s pulls it; or esc, then "
                "i to import it from a file, f to fetch it from a teammate."
            )
        self.query_one("#source-status", Plain).update(text)
        self.display = model is not None
        self.screen.refresh_bindings()

    def ask(self, way: Way) -> None:
        """Show the inputs for ``way`` and focus the first."""
        from toolkit.services.model_fetch import joined_url

        for input_id in ("source-path", "source-url", "source-key"):
            self.query_one(f"#{input_id}", Input).display = (input_id == "source-path") == (way == "file")
        first = self.query_one("#source-path" if way == "file" else "#source-url", Input)
        if way == "teammate" and not first.value:
            first.value = joined_url(self.services.settings) or ""
        first.focus()

    @on(Input.Submitted, "#source-path")
    def path_submitted(self) -> None:
        path = self.query_one("#source-path", Input).value.strip()
        if path and self.missing is not None:
            self.bring("file", path, "")

    @on(Input.Submitted, "#source-url, #source-key")
    def share_submitted(self, event: Input.Submitted) -> None:
        url = self.query_one("#source-url", Input).value.strip()
        if event.input.id == "source-url" and not self.query_one("#source-key", Input).value:
            self.query_one("#source-key", Input).focus()  # the joined share's key is used when left empty
        if url and self.missing is not None and (event.input.id == "source-key" or event.value):
            self.bring("teammate", url, self.query_one("#source-key", Input).value.strip())

    def _progress(self, label: str) -> Callable[[int, int], None]:
        row = self.screen.query_one(f"#{self.row}", Transfer)

        def show(done: int, total: int) -> None:
            self.app.call_from_thread(row.advance_to, label, done, total)

        return show

    @work(thread=True, exclusive=True, group="source", exit_on_error=False)
    def bring(self, way: Way, where_from: str, key: str) -> None:
        from toolkit.services.model_copy import import_models
        from toolkit.services.model_fetch import fetch_model

        model = self.missing
        assert model is not None
        where = self._target()
        status = self.query_one("#source-status", Plain)
        self.app.call_from_thread(status.update, f"Bringing {model} from {where_from}…")
        if way == "file":
            checking, copying = self._progress("checking"), self._progress("copying")
            plan = import_models(where, Path(where_from), copying, checking)
            names = ", ".join(m.ref.short for m in plan.models)
            done = f"{names} imported from {where_from}"
        else:
            settings = self.services.settings
            result = fetch_model(
                settings, where, model, where_from, key or None,
                progress=self._progress("fetching"), copy_progress=self._progress("copying"),
            )  # fmt: skip
            done = f"{result.name} fetched from {result.url}"
        self.app.call_from_thread(self.brought, f"{done} into volume {where.volume}; every sha256 checked.")

    def brought(self, text: str) -> None:
        self.missing = None
        for field in self.query(Input):
            field.display = False
        self.screen.query_one(f"#{self.row}", Transfer).finish("in the volume: ctrl+s starts it, no pull")
        self.query_one("#source-status", Plain).update(text + " ctrl+s starts it without a pull.")
        self.screen.refresh_bindings()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed import or fetch: one line here (nothing was added), the hint in a notification."""
        error = event.worker.error
        if event.state != WorkerState.ERROR or error is None:
            return
        if event.worker.group == "source":
            text = error.message if isinstance(error, GpulessError) else str(error)
            self.query_one("#source-status", Plain).update(f"Not brought: {text}")
            self.screen.query_one(f"#{self.row}", Transfer).reset("waiting")
        report_error(self.app, error, step="Launch")
