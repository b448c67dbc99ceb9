"""Step 3, Compose: the generated compose.yaml with its comments, a diff against the file on disk, and
a save that never loses the user's file (``toolkit.adapters.compose_file``: refuse, then backup + replace).
"""

from __future__ import annotations

from typing import ClassVar

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from toolkit.core.compose.render import render_compose_yaml
from toolkit.core.compose.spec import OllamaServiceSpec
from toolkit.errors import ComposeFileExistsError
from toolkit.tui.messages import ComposeSaved, SpecReady
from toolkit.tui.notify import ERROR_TIMEOUT, report_error
from toolkit.tui.plan import spec_for
from toolkit.tui.screens.base import WizardScreen
from toolkit.tui.widgets.plain import Plain

#: Used until the Model step picks something, so the step is usable on its own.
FALLBACK_MODEL = "qwen2.5:1.5b"


class ComposeScreen(WizardScreen):
    """The YAML (or the diff, with d) in a scrolling view; s saves, S replaces with a backup."""

    STEP_ID = "compose"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "save(False)", "Save"),
        Binding("S", "save(True)", "Replace+backup", key_display="shift+s"),
        Binding("d", "toggle_diff", "Diff"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.text = ""
        self.showing_diff = False

    def compose_body(self) -> ComposeResult:
        yield Plain(id="compose-status", classes="status")
        with VerticalScroll(id="compose-code"):
            yield Plain(id="compose-yaml")

    def on_mount(self) -> None:
        self.watch(self.app, "choice", lambda _c: self.regenerate())
        self.watch(self.app, "machine", lambda _m: self.regenerate())

    @property
    def path_text(self) -> str:
        return str(self.services.compose_path)

    def regenerate(self) -> None:
        wizard = self.wizard
        model = getattr(wizard.choice, "tag", None) or FALLBACK_MODEL
        try:
            spec = spec_for(self.services, wizard.machine, model, wizard.choice)
        except Exception as error:
            report_error(self.app, error, step="Compose")
            return
        self.show_spec(spec)
        self.post_message(SpecReady(spec))

    def show_spec(self, spec: OllamaServiceSpec) -> None:
        self.text = render_compose_yaml(spec)
        self.showing_diff = False
        self.query_one("#compose-yaml", Static).update(
            Syntax(self.text, "yaml", theme="ansi_dark", word_wrap=True)
        )
        path = self.services.compose_path
        state = (
            "differs from the file on disk (d shows the diff)"
            if path.exists() and path.read_text(encoding="utf-8") != self.text
            else ("matches the file on disk" if path.exists() else "not saved yet")
        )
        self.set_status(f"{spec.model} → {self.path_text}: {state}. s saves.")

    def action_toggle_diff(self) -> None:
        from toolkit.services.compose_yaml import unified_diff

        path = self.services.compose_path
        view = self.query_one("#compose-yaml", Static)
        if self.showing_diff or not path.exists():
            self.showing_diff = False
            view.update(Syntax(self.text, "yaml", theme="ansi_dark", word_wrap=True))
            if not path.exists():
                self.notify(f"No file at {path} yet: nothing to compare.", title="Compose", markup=False)
            return
        diff = unified_diff(path.read_text(encoding="utf-8"), self.text, path) or "(no difference)"
        self.showing_diff = True
        view.update(Syntax(diff, "diff", theme="ansi_dark", word_wrap=True))

    def action_save(self, force: bool) -> None:
        from toolkit.services.compose_yaml import write_compose

        if not self.text:
            return
        try:
            result = write_compose(self.services.compose_path, self.text, force=force)
        except ComposeFileExistsError as error:
            self.showing_diff = False
            self.action_toggle_diff()
            self.set_status(
                f"{self.path_text} exists and differs (diff below). shift+s replaces it, keeping a backup."
            )
            # The error's own hint names CLI flags (--force, --output); here the answer is a key.
            self.notify(
                f"{error.message}\nWhat to do: review the diff, then press shift+s to replace it"
                " (the old file is kept as a backup), or keep yours and skip this step.",
                title="Compose: file exists",
                severity="warning",
                timeout=ERROR_TIMEOUT,
                markup=False,
            )
            return
        except Exception as error:
            report_error(self.app, error, step="Compose")
            return
        message = {
            "created": f"Saved {result.path}.",
            "unchanged": f"{result.path} already has this content.",
            "replaced": f"Replaced {result.path}; the old file is at {result.backup}.",
        }[result.outcome]
        self.set_status(message + " Press n to launch.")
        self.notify(message, title="Compose", markup=False)
        self.post_message(ComposeSaved(result.path))

    def set_status(self, text: str) -> None:
        self.query_one("#compose-status", Static).update(text)


SCREEN = ComposeScreen
