"""Step 3, Compose: the Settings area (port, users, memory cap, who may connect), the generated
compose.yaml with its comments, a diff against the file on disk, and a save that never loses the user's
file (``toolkit.adapters.compose_file``: refuse, then backup + replace).

The app makes the plan (``GpulessApp.replan``) from the Model step's pick, the compose file found on
disk and the settings; this step shows it. A file for the same model with no setting changed is shown
as it is on disk: saving it writes nothing, and Launch starts what it says.
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
from toolkit.core.recommend.file_settings import spec_changes
from toolkit.errors import ComposeFileExistsError
from toolkit.tui.messages import ComposeSaved
from toolkit.tui.screens.base import WizardScreen
from toolkit.tui.widgets.plain import Plain
from toolkit.tui.widgets.settings_area import SettingsArea
from toolkit.tui.widgets.yaml_view import YamlView


class ComposeScreen(WizardScreen):
    """Settings on top, the YAML (or the diff, with d) in a scrolling view; s saves, S replaces with a
    backup, f takes the next free port when the planned one is taken."""

    STEP_ID = "compose"
    AUTO_FOCUS = "#compose-code"  # the keys act at once; tab reaches the settings
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "save(False)", "Save"),
        Binding("S", "save(True)", "Replace+backup", key_display="shift+s"),
        Binding("d", "toggle_diff", "Diff"),
        Binding("f", "free_port", "Free port"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.text = ""
        self.showing_diff = False

    def compose_body(self) -> ComposeResult:
        yield SettingsArea(id="compose-settings")
        yield Plain("Waiting for the machine…", id="compose-status", classes="status")
        with VerticalScroll(id="compose-code"):
            yield Plain(id="compose-yaml")

    def on_mount(self) -> None:
        self.watch(self.app, "spec", self.spec_changed)
        self.watch(self.app, "port_offer", lambda _o: self.spec_changed(self.wizard.spec))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "free_port":
            return self.wizard.port_offer is not None and not self.typing
        return super().check_action(action, parameters)

    def action_free_port(self) -> None:
        port = self.wizard.use_free_port()
        if port is not None:
            self.query_one(SettingsArea).set_port(port)

    @property
    def path_text(self) -> str:
        return str(self.services.compose_path)

    def spec_changed(self, spec: OllamaServiceSpec | None) -> None:
        self.refresh_bindings()
        if spec is None:
            return
        self.query_one(SettingsArea).show(spec, self.wizard.port_offer)
        self.show_spec(spec)

    @property
    def changes(self) -> tuple[str, ...]:
        """What the shown plan changes in the compose file on disk (empty when there is none)."""
        file, spec = self.wizard.file_spec, self.wizard.spec
        return spec_changes(file, spec) if file is not None and spec is not None else ()

    def show_spec(self, spec: OllamaServiceSpec) -> None:
        path = self.services.compose_path
        on_disk = path.read_text(encoding="utf-8") if path.is_file() else None
        # The file's own spec is shown as the file is (the user's edits and comments included).
        self.text = (
            on_disk if on_disk is not None and spec == self.wizard.file_spec else render_compose_yaml(spec)
        )
        self.showing_diff = False
        self.query_one("#compose-yaml", Static).update(YamlView(self.text))
        changes = self.changes
        if on_disk is None:
            state = "not saved yet"
        elif on_disk == self.text:
            state = "matches the file on disk"
        elif changes:
            state = f"changes it: {'; '.join(changes)} (d shows the diff)"
        else:
            state = "differs from the file on disk (d shows the diff)"
        self.set_status(f"{spec.model} → {self.path_text}: {state}. s saves.")

    def action_toggle_diff(self) -> None:
        from toolkit.services.compose_yaml import unified_diff

        path = self.services.compose_path
        view = self.query_one("#compose-yaml", Static)
        if self.showing_diff or not path.exists():
            self.showing_diff = False
            view.update(YamlView(self.text))
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
            self.show_error(error)  # in the wizard's words: shift+s, not --force
            return
        except Exception as error:
            self.show_error(error)
            return
        changed = f" ({'; '.join(self.changes)})" if self.changes and result.outcome == "replaced" else ""
        message = {
            "created": f"Saved {result.path}.",
            "unchanged": f"{result.path} already has this content.",
            "replaced": f"Replaced {result.path}{changed}; the old file is at {result.backup}.",
        }[result.outcome]
        self.set_status(message + " Press n to launch.")
        self.notify(message, title="Compose", markup=False)
        self.post_message(ComposeSaved(result.path))
        self.wizard.look()  # the file on disk is the plan now

    def set_status(self, text: str) -> None:
        self.query_one("#compose-status", Static).update(text)


SCREEN = ComposeScreen
