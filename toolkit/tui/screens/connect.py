"""The Connect panel: what an app needs to use the model the wizard started, one key to copy each part.

Opened from Launch (c) once a server answers, from Chat (ctrl+o) for the model being chatted with,
and from the command palette. It shows what ``toolkit.core.compose.connect_info`` builds, the same text as
``gpuless connect``, with its warning when the served model thinks (``toolkit.core.catalog.thinking``).
Copying uses ``App.copy_to_clipboard`` (the OSC 52 escape sequence): the terminal puts the text on the
clipboard if it supports OSC 52 and allows it, which the terminal never reports back, so the
notification says what to do when nothing arrives.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, ClassVar, cast

from rich.syntax import Syntax
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, WorkerState

from toolkit.core.catalog.thinking import served_thinking_warning
from toolkit.core.compose.connect_info import ConnectInfo
from toolkit.tui.plain import escaped
from toolkit.tui.steps import STEPS
from toolkit.tui.widgets.plain import Plain

if TYPE_CHECKING:
    from toolkit.tui.wizard import Wizard

#: Syntax lexer per snippet.
LEXERS = {"env": "bash", "curl": "bash", "python": "python", "ollama": "python", "javascript": "javascript"}

#: (key, what it copies, its name, its footer label) in the order the panel lists them. The panel
#: names every key; the footer shows a few ("" hides one), as 80 columns do not hold them all.
COPY_KEYS: tuple[tuple[str, str, str, str], ...] = (
    ("u", "base_url", "OpenAI base URL", "Copy URL"),
    ("o", "ollama_url", "Ollama URL", ""),
    ("m", "model", "model name", "Copy model"),
    ("e", "env", "environment lines", "Copy env"),
    ("c", "curl", "curl command", ""),
    ("y", "python", "Python snippet", "Copy Python"),
    ("l", "ollama", "Python snippet for Ollama's client", ""),
    ("j", "javascript", "JavaScript snippet", ""),
)

#: Said once per session after the first copy: OSC 52 support is up to the terminal.
CLIPBOARD_NOTE = (
    "Sent to the terminal's clipboard (OSC 52). Nothing pasted? Your terminal (or tmux without"
    " set-clipboard on) does not accept OSC 52: select the text with shift+drag instead."
)


class ConnectScreen(Screen[None]):
    """URLs, model, env lines and snippets for ``url`` and ``model``; either found if not given."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close"),
        *(
            Binding(key, f"copy('{part}')", short or f"Copy {label}", show=bool(short))
            for key, part, label, short in COPY_KEYS
        ),
        # A step key leaves the panel for that step, instead of leaving it stacked in this step.
        *(Binding(s.key, f"leave('{s.id}')", s.title, show=False) for s in STEPS),
    ]

    def __init__(self, url: str | None = None, model: str | None = None) -> None:
        super().__init__()
        self.url = url
        self.model = model
        self.info: ConnectInfo | None = None
        self.copied_once = False

    @property
    def wizard(self) -> Wizard:
        return cast("Wizard", self.app)

    def compose(self) -> ComposeResult:
        self.title = "gpuless"
        self.sub_title = "Connect an app"
        yield Header(icon="≡")
        with VerticalScroll(id="connect-body", classes="step-body"):
            yield Plain("Looking for the server and its model…", id="connect-summary")
            yield Static(id="connect-values")
            for snippet_id in LEXERS:
                yield Static(classes="section-title", id=f"connect-title-{snippet_id}")
                yield Plain(id=f"connect-{snippet_id}", classes="snippet")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.find_server()

    @work(exclusive=True, group="connect", exit_on_error=False)
    async def find_server(self) -> None:
        """Use the given server and model; else the one Chat would find, and its first model."""
        from toolkit.errors import UsageError
        from toolkit.services.connecting import connection

        services = self.wizard.services
        url = self.url
        if url is None:
            url = self.url = await asyncio.to_thread(services.resolve_url)
        try:
            # a model given is the one the wizard started or chats with: not checked again
            found = await asyncio.to_thread(
                connection, services.settings, url, self.model, resolved=url, check_model=False
            )
        except UsageError as error:  # no models yet, or not the one asked for
            self.summary(f"{error.message}: pull one in the Launch step (4).")
            return
        self.model = found.info.model
        self.show(found.info)

    def worker_changed(self, worker: Worker[object], state: WorkerState) -> None:
        if state == WorkerState.ERROR:
            self.summary(
                f"No Ollama server answers at {self.url}.\n"
                "Start one in the Launch step (press 4), then open this panel again."
            )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.worker_changed(event.worker, event.state)

    def summary(self, text: str) -> None:
        self.query_one("#connect-summary", Static).update(text)

    def show(self, info: ConnectInfo) -> None:
        self.info = info
        self.summary(
            f"Your app can use {info.model} now. Ollama speaks the OpenAI API under /v1: point any"
            " OpenAI client at the base URL. The key to press copies each part."
            + (f"\n{served_thinking_warning(info.model)}" if info.thinks else "")
        )
        self.query_one("#connect-values", Static).update(
            f"[b]u[/]  OpenAI base URL  {escaped(info.openai_base_url)}\n"
            f"[b]o[/]  Ollama URL       {escaped(info.ollama_url)}\n"
            f"[b]m[/]  model            {escaped(info.model)}\n"
            f"   API key          {escaped(info.api_key)}  (OpenAI clients need one; Ollama ignores it)"
            + "".join(f"\n   from {escaped(who)}: {escaped(url)}/v1" for who, url in info.elsewhere)
        )
        keys = {part: key for key, part, _, _ in COPY_KEYS}
        for snippet in info.snippets:
            setup = f" · first: {snippet.setup}" if snippet.setup else ""
            title = (
                "Environment lines (a .env file; in a shell, export each)"
                if snippet.id == "env"
                else snippet.title
            )
            self.query_one(f"#connect-title-{snippet.id}", Static).update(
                f"[b]{keys[snippet.id]}[/]  {escaped(title)}{escaped(setup)}"
            )
            text = self.copy_text(snippet.id) or ""
            self.query_one(f"#connect-{snippet.id}", Static).update(
                Syntax(text.rstrip("\n"), LEXERS[snippet.id], background_color="default", word_wrap=True)
            )

    def copy_text(self, part: str) -> str | None:
        """The text ``part`` copies, None before the server was found."""
        info = self.info
        if info is None:
            return None
        if part == "base_url":
            return info.openai_base_url
        if part == "ollama_url":
            return info.ollama_url
        if part == "model":
            return info.model
        if part == "env":
            return info.env_lines
        return info.snippet(part).text

    def action_copy(self, part: str) -> None:
        text = self.copy_text(part)
        label = next(label for _, p, label, _ in COPY_KEYS if p == part)
        if text is None:
            self.notify(
                "Nothing to copy yet: no server was found.", title="Connect", severity="warning", markup=False
            )
            return
        self.app.copy_to_clipboard(text)
        message = f"Copied the {label}."
        if not self.copied_once:
            message += "\n" + CLIPBOARD_NOTE
            self.copied_once = True
        self.notify(message, title="Connect", markup=False)

    def action_close(self) -> None:
        self.dismiss()

    def action_leave(self, step_id: str) -> None:
        self.dismiss()
        self.wizard.action_goto(step_id)


__all__ = ["ConnectScreen"]
