"""The Launch step's ways without a Docker engine, or beside it on a Mac: ``r`` runs ``ollama serve`` on
this machine (``toolkit.services.native``: started, recorded, verified), ``a`` attaches to an Ollama that
answers at a URL (``toolkit.services.launch.attach``). A class of its own in the screen's class tree, so
the Launch screen keeps to the Docker launch and its rows.
"""

from __future__ import annotations

import platform
import shutil
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import work
from textual.widgets import Input, Static

from toolkit.core.machine.nodocker import no_docker_advice
from toolkit.tui.screens.base import WizardScreen
from toolkit.tui.widgets.transfer import Transfer

if TYPE_CHECKING:
    from toolkit.adapters.ollama.native import NativeResult
    from toolkit.adapters.progress import Progress
    from toolkit.core.compose.verify import VerifyReport

#: Seconds an attached server has to answer before the step gives up.
ATTACH_TIMEOUT_S = 15.0


class OtherWays(WizardScreen):
    """``r`` and ``a``, and what the step says when no Docker engine answers."""

    no_docker = False

    @property
    def busy(self) -> bool:
        raise NotImplementedError

    def model_typed(self) -> str:
        raise NotImplementedError

    def prepare_rows(self, *, image: bool) -> None:
        raise NotImplementedError

    def progress_callback(self) -> Callable[[Progress], None]:
        raise NotImplementedError

    def failed_pull(self, model: str, error: BaseException) -> None:
        raise NotImplementedError

    def launched(self, url: str, model: str, summary: str, report: VerifyReport | None) -> None:
        raise NotImplementedError

    def native_offered(self) -> bool:
        """``r`` is offered without Docker, and on a Mac, where native Ollama uses the GPU (Metal) and
        Docker only the CPU (the Model step shows both speeds)."""
        from toolkit.core.estimate.metal import mac_chip

        machine = self.wizard.machine
        return self.no_docker or (machine is not None and mac_chip(machine) is not None)

    def action_native(self) -> None:
        if not self.native_offered() or self.busy or not self.model_typed():
            return
        self.prepare_rows(image=False)
        self.launch_native(self.model_typed())

    def action_attach(self) -> None:
        if self.no_docker and not self.busy:
            self.query_one("#launch-url", Input).focus()

    def show_no_docker(self) -> None:
        """The ways on without a Docker engine, with the install advice for this OS."""
        self.no_docker = True
        advice = no_docker_advice(platform.system(), shutil.which("ollama") is not None)
        self.query_one("#launch-nodocker", Static).update("\n".join(advice.lines()))
        url = self.query_one("#launch-url", Input)
        url.display = True
        if not url.value:
            url.value = self.services.url
        self.refresh_bindings()

    @work(thread=True, exclusive=True, group="launch", exit_on_error=False)
    def launch_native(self, model: str) -> None:
        from toolkit.services.native import prepare_and_verify, start_recorded

        spec = self.wizard.default_spec(model)
        settings = self.services.settings
        health = self.query_one("#launch-health", Transfer)
        self.app.call_from_thread(health.detail, f"starting `ollama serve` at {spec.url}…")
        native, _ = start_recorded(spec, settings)
        self.app.call_from_thread(health.finish, f"Ollama {native.version} answers ({native.action})")
        try:
            report = prepare_and_verify(spec, settings, self.progress_callback())
        except BaseException as error:
            self.failed_pull(model, error)
            raise
        pull = self.query_one("#launch-pull", Transfer)
        self.app.call_from_thread(pull.finish, f"{spec.served_model} ready")
        where = f"pid {native.pid}, log {native.log_path}" if native.pid else "it was running already"
        summary = f"Ollama runs on this machine ({where}); it keeps running after gpuless quits."
        self.app.call_from_thread(self.launched, spec.url, spec.served_model, summary, report)

    @work(thread=True, exclusive=True, group="launch", exit_on_error=False)
    def launch_attach(self, model: str, url: str) -> None:
        from toolkit.services.launch import attach

        health = self.query_one("#launch-health", Transfer)
        self.app.call_from_thread(health.detail, f"waiting for {url}…")

        def answered(server: NativeResult) -> None:
            self.app.call_from_thread(health.finish, f"Ollama {server.version} answers")

        try:
            attached = attach(
                url, model, wait_s=ATTACH_TIMEOUT_S, progress=self.progress_callback(), answered=answered
            )
        except BaseException as error:
            self.failed_pull(model, error)
            raise
        pull = self.query_one("#launch-pull", Transfer)
        self.app.call_from_thread(
            pull.finish, f"{model} {'pulled' if attached.pulled else 'already present'}"
        )
        self.app.call_from_thread(
            self.launched,
            url,
            model,
            "Attached: gpuless did not start this server, so there is nothing to verify.",
            None,
        )
