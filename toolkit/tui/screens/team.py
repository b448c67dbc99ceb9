"""The Team panel (ctrl+t, or the command palette): share this laptop's model with teammates, or join a
teammate's share.

Share starts the key-checking gateway (``toolkit.services.share``, as ``gpuless share`` does) on the
address typed, makes the teammate's key and shows it once with the URL, the lines to paste and a QR code,
then says plainly whether the traffic is readable (plain HTTP) or encrypted (HTTPS with a certificate
whose fingerprint teammates pin). Stop removes the gateway; Ollama keeps running on loopback. Join checks
a URL and key (and the fingerprint of an HTTPS share) through ``toolkit.services.join`` and makes the
joined share the wizard's server, so Chat, Benchmark and Connect use it with its key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast
from urllib.parse import urlsplit

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Footer, Header, Input, Label, Static
from textual.worker import Worker, WorkerState

from toolkit.core.share.invite import PLAIN_HTTP_WARNING, key_lines, qr_code
from toolkit.core.share.tls import TLS_NOTE, trust_lines
from toolkit.core.target import is_loopback_host
from toolkit.errors import GpulessError
from toolkit.tui.messages import EngineReady
from toolkit.tui.notify import report_error
from toolkit.tui.steps import STEPS
from toolkit.tui.widgets.plain import Plain

if TYPE_CHECKING:
    from toolkit.services.share import ShareOutcome
    from toolkit.settings import Settings
    from toolkit.tui.app import GpulessApp

#: What the panel says about sharing before anything is done.
ABOUT = (
    "Teammates reach this laptop's model through a gateway (nginx) that checks a key on every request;"
    " Ollama itself stays on loopback. Type this laptop's LAN address and a teammate's name."
)


#: Said when Share is pressed with no address and no gateway running.
NEED_ADDRESS = (
    "Type the address teammates reach this laptop at first: one of its LAN addresses (`ip -brief address`"
    " lists them) and a free port, e.g. 192.168.1.20:8080."
)


class TeamScreen(Screen[None]):
    """Share this laptop (start the gateway, add a key, stop) and join a teammate's share."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        # A step key (outside a field) leaves the panel for that step, instead of leaving it stacked there.
        *(Binding(s.key, f"leave('{s.id}')", s.title, show=False) for s in STEPS),
    ]

    def __init__(self) -> None:
        super().__init__()
        #: The running gateway's URL as last looked up, None when none runs (or not looked up yet).
        self.running_url: str | None = None

    @property
    def wizard(self) -> GpulessApp:
        return cast("GpulessApp", self.app)

    def compose(self) -> ComposeResult:
        self.title = "gpuless"
        self.sub_title = "Team: share or join"
        yield Header(icon="≡")
        with VerticalScroll(id="team-body", classes="step-body"):
            yield Static("Share this laptop", classes="section-title")
            yield Plain(ABOUT, classes="status")
            yield Plain("Looking for a running gateway…", id="team-share-status")
            with Horizontal(classes="team-row"):
                yield Label("Address ")
                yield Input(placeholder="192.168.1.20:8080", id="team-listen", compact=True)
                yield Label(" Teammate ")
                yield Input(placeholder="e.g. alice", id="team-name", compact=True)
            with Horizontal(classes="team-row"):
                yield Checkbox("HTTPS (self-signed certificate)", id="team-tls", compact=True)
                yield Button("Share", id="team-share", variant="primary", compact=True)
                yield Label(" ")
                yield Button("Stop sharing", id="team-stop", compact=True)
            yield Plain(id="team-share-result")
            yield Static("Join a teammate's share", classes="section-title")
            yield Plain("", id="team-join-status")
            with Horizontal(classes="team-row"):
                yield Label("URL ")
                yield Input(placeholder="https://192.168.1.20:8080", id="team-url", compact=True)
                yield Label(" Key ")
                yield Input(placeholder="gpl_…", password=True, id="team-key", compact=True)
            with Horizontal(classes="team-row"):
                yield Label("Fingerprint ")
                yield Input(placeholder="SHA256:… (an HTTPS share only)", id="team-fingerprint", compact=True)
                yield Button("Join", id="team-join", variant="primary", compact=True)
                yield Label(" ")
                yield Button("Leave", id="team-leave", compact=True)
            yield Plain(id="team-join-result")
        yield Footer()

    def on_mount(self) -> None:
        self.look()

    def settings(self) -> Settings:
        """The settings the share runs with: the Ollama the wizard launched when it is on loopback (not
        a joined share's gateway). Reads the joined share's file: call it in a worker."""
        from toolkit.services.join import current

        settings = self.wizard.services.settings
        url = self.wizard.engine[0] if self.wizard.engine else self.wizard.services.url
        joined = current(settings)
        if joined is not None and joined.url == url:
            url = self.wizard.services.url
        if url and is_loopback_host(urlsplit(url).hostname or ""):
            return settings.model_copy(update={"ollama_url": url})
        return settings

    def say(self, widget_id: str, text: str) -> None:
        self.query_one(f"#{widget_id}", Static).update(text)

    @work(thread=True, exclusive=True, group="team-look", exit_on_error=False)
    def look(self) -> None:
        """Say whether this laptop shares (and with whom) and which share it joined."""
        from toolkit.services import join as joining
        from toolkit.services import share as sharing

        settings = self.settings()
        joined = joining.current(settings)
        where = f"Joined {joined.url} (key {joined.masked_key()})." if joined else "No share joined."
        self.app.call_from_thread(self.say, "team-join-status", where)
        try:
            url = sharing.gateway_url(settings, sharing.status(settings))
            names = [key.name for key in sharing.list_keys(settings).keys]
        except GpulessError as error:
            self.app.call_from_thread(self.say, "team-share-status", f"Cannot tell: {error.message}")
            return
        self.running_url = url
        text = f"Sharing at {url}; keys: {', '.join(names)}." if url else "Not sharing."
        self.app.call_from_thread(self.shown_status, text, bool(url and url.startswith("https://")))

    def shown_status(self, text: str, tls: bool) -> None:
        self.say("team-share-status", text)
        self.query_one("#team-tls", Checkbox).value = tls

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {
            "team-share": self.start_sharing,
            "team-stop": self.stop_sharing,
            "team-join": self.join,
            "team-leave": self.leave,
        }
        action = actions.get(event.button.id or "")
        if action is not None:
            action()

    def value(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value.strip()

    @work(thread=True, exclusive=True, group="team", exit_on_error=False)
    def start_sharing(self) -> None:
        from toolkit.services import share as sharing

        listen, name = self.value("team-listen"), self.value("team-name")
        tls = self.query_one("#team-tls", Checkbox).value
        if not listen and self.running_url is None:
            self.app.call_from_thread(self.say, "team-share-result", NEED_ADDRESS)
            return
        self.app.call_from_thread(self.say, "team-share-result", "Starting the gateway…")
        compose = sharing.own_compose_file(self.wizard.services.compose_path)
        settings = self.settings()
        outcome = sharing.share(
            settings, listen=listen or None, add=[name] if name else [], tls=tls, compose_path=compose
        )
        self.app.call_from_thread(self.shared, outcome)

    def shared(self, outcome: ShareOutcome) -> None:
        """The URL and whether others can read the traffic first, then the QR code, then each new key."""
        lines: list[str] = []
        url = outcome.url or "http://ADDR:PORT"
        if outcome.url is None:
            lines.append("Keys saved; the gateway is not running (type an address, then Share).")
        else:
            verb = "started" if outcome.action == "started" else "running (keys reloaded)"
            lines += [f"Gateway {verb}: {url}  (Ollama itself stays on loopback)"]
            self.wizard.sharing = url
        lines.append(TLS_NOTE if outcome.fingerprint else PLAIN_HTTP_WARNING)
        if outcome.ollama_exposed:
            lines.append("WARNING: Ollama itself answers on that address without a key (`up --expose`?).")
        if outcome.url is not None:
            lines.append(qr_code(outcome.url).rstrip("\n"))
        if outcome.fingerprint and outcome.cert_path:
            lines += trust_lines(url, outcome.fingerprint, str(outcome.cert_path))
        for key in outcome.new_keys:
            lines += ["", *key_lines(url, key)]
        if not outcome.new_keys:
            lines.append("No new key (type a teammate's name to make one).")
        self.say("team-share-result", "\n".join(lines))
        self.query_one("#team-name", Input).value = ""
        self.look()

    @work(thread=True, exclusive=True, group="team", exit_on_error=False)
    def stop_sharing(self) -> None:
        from toolkit.services import share as sharing

        compose = sharing.own_compose_file(self.wizard.services.compose_path)
        removed = sharing.stop(self.settings(), compose)
        text = "Gateway removed; Ollama keeps running on loopback." if removed else "No gateway runs."
        self.app.call_from_thread(self.stopped, text)

    def stopped(self, text: str) -> None:
        self.wizard.sharing = None
        self.say("team-share-result", text)
        self.look()

    @work(thread=True, exclusive=True, group="team", exit_on_error=False)
    def join(self) -> None:
        from toolkit.services import join as joining

        url, key, fingerprint = self.value("team-url"), self.value("team-key"), self.value("team-fingerprint")
        self.app.call_from_thread(self.say, "team-join-result", f"Checking {url}…")
        share, models = joining.join(self.wizard.services.settings, url, key, fingerprint or None)
        lines = [f"Joined {share.url} (key {share.masked_key()} stored, mode 0600).", ""]
        lines.append(f"Models: {', '.join(models) or 'none yet'}.")
        if share.cert:
            lines.append(f"Certificate pinned: {share.cert} (SSL_CERT_FILE={share.cert} for other clients).")
        lines.append("Chat (6), Benchmark (5) and Connect now use this share.")
        self.app.call_from_thread(self.joined, "\n".join(lines), share.url, models)

    def joined(self, text: str, url: str, models: list[str]) -> None:
        self.say("team-join-result", text)
        self.query_one("#team-key", Input).value = ""
        if models:
            self.wizard.post_message(EngineReady(url, models[0]))
        self.look()

    @work(thread=True, exclusive=True, group="team", exit_on_error=False)
    def leave(self) -> None:
        from toolkit.services import join as joining

        left = joining.leave(self.wizard.services.settings)
        self.app.call_from_thread(self.left, left.url if left else None)

    def left(self, url: str | None) -> None:
        self.say("team-join-result", f"Left {url}." if url else "No share was joined.")
        if url is not None and self.wizard.engine is not None and self.wizard.engine[0] == url:
            self.wizard.engine = None
        self.look()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        error = event.worker.error
        if event.state == WorkerState.ERROR and error is not None:
            target = "team-join-result" if event.worker.name in ("join", "leave") else "team-share-result"
            self.say(target, "")
            report_error(self.app, error, step="Team")

    def action_close(self) -> None:
        self.dismiss()

    def action_leave(self, step_id: str) -> None:
        self.dismiss()
        self.wizard.action_goto(step_id)


__all__ = ["TeamScreen"]
