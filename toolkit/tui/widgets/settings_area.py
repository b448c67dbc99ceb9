"""The Settings area of the Compose step: port, users, memory cap and who may connect.

A field left empty keeps what the plan (or the user's compose file) says, shown as the field's
placeholder; a value typed there becomes the wizard's ``server`` setting and the plan is made again, so
the change shows in the YAML, the diff and the save message. Values are checked as they are typed; a
value out of range is said under the fields and not used.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Select, Static

from toolkit.core.recommend.file_settings import ServerSettings
from toolkit.core.units import GIB
from toolkit.tui.widgets.plain import Plain

if TYPE_CHECKING:
    from toolkit.core.compose.spec import OllamaServiceSpec

#: Where the server listens, in words: loopback only, or every address (the LAN, no keys).
EXPOSURE: tuple[tuple[str, bool], ...] = (("this machine only", False), ("the LAN, no key", True))
#: The pointer to sharing with keys (a gateway in front of the server, ``gpuless share``).
SHARE_NOTE = "To let others in with keys instead: `gpuless share`, in a shell."


def _number(text: str, kind: type[int] | type[float], low: float, high: float, what: str) -> Any:
    """``text`` as a number in [low, high]; None when empty; ValueError saying what is wrong."""
    if not text.strip():
        return None
    try:
        value = kind(text.strip())
    except ValueError:
        raise ValueError(f"{what} must be a number") from None
    if not low <= value <= high:
        raise ValueError(f"{what} must be between {low:g} and {high:g}")
    return value


class SettingsArea(Vertical):
    """Four fields on one row, a line for problems and offers, and the pointer to sharing."""

    DEFAULT_CSS = """
    SettingsArea { height: auto; }
    SettingsArea Horizontal { height: 1; }
    SettingsArea Label { padding: 0 1 0 0; }
    SettingsArea Input { width: 8; margin-right: 1; }
    SettingsArea #set-mem { width: 7; }
    SettingsArea Select { width: 24; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label("Port")
            yield Input(id="set-port", type="integer", compact=True, max_length=5)
            yield Label("Users")
            yield Input(id="set-users", type="integer", compact=True, max_length=2)
            yield Label("Mem cap GiB")
            yield Input(id="set-mem", type="number", compact=True, max_length=5)
            yield Label("Listen")
            yield Select(EXPOSURE, id="set-expose", allow_blank=False, value=False, compact=True)
        yield Plain("", id="set-note", classes="status")

    def show(self, spec: OllamaServiceSpec, offer: int | None) -> None:
        """The plan's values as the empty fields' placeholders, and the busy-port offer."""
        mem = spec.mem_limit_bytes
        self.query_one("#set-port", Input).placeholder = str(spec.port)
        self.query_one("#set-users", Input).placeholder = str(spec.num_parallel)
        self.query_one("#set-mem", Input).placeholder = "auto" if mem is None else f"{mem / GIB:.1f}"
        expose = self.query_one("#set-expose", Select)
        if expose.value != spec.expose:
            with self.prevent(Select.Changed):
                expose.value = spec.expose
        lines = []
        if offer is not None:
            lines.append(
                f"Port {spec.port} is taken by another program (a native Ollama?): f uses {offer}, the next"
                " free one."
            )
        if spec.expose:
            lines.append("Listening on the LAN: anyone there can use this server (Ollama has no keys).")
        lines.append(SHARE_NOTE)
        self.query_one("#set-note", Static).update("\n".join(lines))

    def read(self, current: ServerSettings) -> ServerSettings:
        """The fields as settings (ValueError naming the first field that is wrong)."""
        port = _number(self.query_one("#set-port", Input).value, int, 1024, 65535, "the port")
        users = _number(self.query_one("#set-users", Input).value, int, 1, 16, "users")
        mem = _number(self.query_one("#set-mem", Input).value, float, 0.5, 1024, "the memory cap")
        return dataclasses.replace(current, port=port, users=users, mem_limit_gib=mem)

    @on(Input.Changed)
    def typed(self, event: Input.Changed) -> None:
        event.stop()
        app: Any = self.app
        try:
            app.server = self.read(app.server)
        except ValueError as error:
            self.query_one("#set-note", Static).update(f"Not used: {error}.")

    @on(Select.Changed, "#set-expose")
    def exposure(self, event: Select.Changed) -> None:
        event.stop()
        app: Any = self.app
        spec = app.spec
        value = event.value if isinstance(event.value, bool) else False
        if spec is None or value != spec.expose or app.server.expose is not None:
            app.server = dataclasses.replace(app.server, expose=value)

    def set_port(self, port: int) -> None:
        """Show a port chosen elsewhere (the f key) in the field."""
        with self.prevent(Input.Changed):
            self.query_one("#set-port", Input).value = str(port)
