"""The wizard's Team panel (ctrl+t) against the real gateway: share this laptop, stop, and join a share.

The pilot types into the panel as a user would, at 80×24. Sharing starts the nginx gateway (the test
image) on 127.0.0.2, "the LAN", in front of the test Ollama container; the key it shows once opens the
gateway, and Stop removes it. Joining a share (HTTPS, pinned by its fingerprint) makes it the wizard's
server: the Chat step then talks to it with the key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Markdown, Select, Static

from tests.ollama_server.fixtures import ServerHandle, _docker_client, free_port
from tests.share.conftest import LAN, gateway_image, share_settings
from toolkit.core.machine.hardware import Machine
from toolkit.core.share.invite import PLAIN_HTTP_WARNING, qr_code
from toolkit.core.share.tls import TLS_NOTE
from toolkit.services import share as sharing
from toolkit.tui.app import GpulessApp, create_app, still_running
from toolkit.tui.deps import WizardDeps
from toolkit.tui.screens.team import TeamScreen

from .conftest import settle, text_of
from .test_chat import wait_for

pytestmark = pytest.mark.docker
__all__ = ["gateway_image"]  # the share tests' fixture, used here too

MODEL = "smollm2:135m"


@pytest.fixture
def team_services(
    tmp_path: Path,
    machine: Machine,
    ollama_container: ServerHandle,
    gateway_image: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[WizardDeps]:
    settings = share_settings(tmp_path / "data", ollama_container.url, gateway_image)
    # The HTTP seam finds a joined share's key in the settings of the environment, as the CLI's are.
    monkeypatch.setenv("GPULESS_DATA_DIR", str(settings.data_dir))
    yield WizardDeps(
        settings=settings,
        ollama_url=ollama_container.url,
        detect=lambda: machine,
        compose_dir=tmp_path / "project",
        launch_mode="attach",
        history_path=None,
    )
    sharing.stop(settings)  # nothing left running whatever the test did


def panel(app: GpulessApp) -> TeamScreen:
    assert isinstance(app.screen, TeamScreen)
    return app.screen


def shown(app: GpulessApp, widget_id: str) -> str:
    return text_of(panel(app).query_one(f"#{widget_id}", Static))


async def click(pilot: Pilot[None], widget_id: str) -> None:
    """Click a widget of the panel, scrolled into view first (as a user scrolls to it)."""
    pilot.app.screen.query_one(f"#{widget_id}").scroll_visible(animate=False)
    await pilot.pause()
    await pilot.click(f"#{widget_id}")


async def type_into(pilot: Pilot[None], widget_id: str, text: str) -> None:
    await click(pilot, widget_id)
    await pilot.press(*text)


def keys_file(services: WizardDeps) -> dict[str, str]:
    entries = json.loads((services.settings.share_dir / "keys.json").read_text())["keys"]
    return {entry["name"]: entry["secret"] for entry in entries}


async def share(pilot: Pilot[None], listen: str, name: str, *, tls: bool = False) -> None:
    await type_into(pilot, "team-listen", listen)
    await type_into(pilot, "team-name", name)
    if tls:
        await click(pilot, "team-tls")
    await click(pilot, "team-share")
    await settle(pilot, 60)


async def test_the_panel_shares_this_laptop_shows_the_key_once_and_stops_sharing(
    team_services: WizardDeps,
) -> None:
    app = create_app(team_services)
    listen = f"{LAN}:{free_port()}"
    url = f"http://{listen}"
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert shown(app, "team-share-status") == "Not sharing."
        await share(pilot, listen, "alice")
        result = shown(app, "team-share-result")
        secret = keys_file(team_services)["alice"]
        assert f"Gateway started: {url}" in result and f"OPENAI_BASE_URL={url}/v1" in result
        assert "key for alice (may use the models; shown once" in result and secret in result
        assert PLAIN_HTTP_WARNING in result and "gpuless share --tls" in result
        assert qr_code(url).rstrip("\n") in result
        assert shown(app, "team-share-status") == f"Sharing at {url}; keys: admin, alice."
        models = httpx.get(f"{url}/api/tags", headers={"Authorization": f"Bearer {secret}"}, trust_env=False)
        assert models.status_code == 200 and MODEL in models.text  # the key shown opens the gateway
        assert httpx.get(f"{url}/api/tags", trust_env=False).status_code == 401
        assert "gpuless share --stop" in (still_running(app) or "")

        await click(pilot, "team-stop")
        await settle(pilot)
        assert shown(app, "team-share-result") == "Gateway removed; Ollama keeps running on loopback."
        assert shown(app, "team-share-status") == "Not sharing."
        assert sharing.status(team_services.settings) is None
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/api/tags", trust_env=False)
        assert httpx.get(f"{team_services.url}/api/version", trust_env=False).status_code == 200
        assert still_running(app) is None


async def test_a_refused_address_is_one_notification_and_nothing_runs(team_services: WizardDeps) -> None:
    app = create_app(team_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)
        await share(pilot, "not-an-address", "alice")
        notes = [n for n in app._notifications if n.title.startswith("Team")]
        assert len(notes) == 1 and "is not ADDR:PORT" in notes[0].message, notes
        assert sharing.status(team_services.settings) is None
        assert not (team_services.settings.share_dir / "keys.json").exists()


async def test_joining_an_https_share_by_fingerprint_makes_chat_use_it(
    team_services: WizardDeps, tmp_path: Path
) -> None:
    app = create_app(team_services)
    listen = f"{LAN}:{free_port()}"
    url = f"https://{listen}"
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)
        await share(pilot, listen, "bob", tls=True)
        result = shown(app, "team-share-result")
        fingerprint = next(line for line in result.splitlines() if line.startswith("certificate fingerprint"))
        fingerprint = fingerprint.split(": ", 1)[1]
        assert f"Gateway started: {url}" in result and TLS_NOTE in result
        assert PLAIN_HTTP_WARNING not in result
        assert panel(app).query_one("#team-tls", Checkbox).value

        # This laptop joins its own share as a teammate would (the same panel, the Join half).
        await type_into(pilot, "team-url", url)
        await type_into(pilot, "team-key", keys_file(team_services)["bob"])
        await type_into(pilot, "team-fingerprint", fingerprint)
        await click(pilot, "team-join")
        await settle(pilot, 60)
        joined = shown(app, "team-join-result")
        assert f"Joined {url}" in joined and MODEL in joined, joined
        assert keys_file(team_services)["bob"] not in joined  # the key is not shown back
        assert app.engine is not None and app.engine[0] == url
        stored = json.loads((team_services.settings.data_dir / "joined.json").read_text())["joined"]
        assert stored["url"] == url and stored["cert"].endswith("joined-cert.pem")

        await pilot.press("escape")
        await pilot.press("6")
        await settle(pilot, 60)
        chat = app.screen.query_one("#chat-model", Select)
        assert chat.value == app.engine[1]  # the share's first model, chosen when the join made it the server
        app.screen.query_one("#chat-input", Input).focus()
        await pilot.press(*"Say hi.", "enter")
        answer = app.screen.query(Markdown).last()
        await wait_for(pilot, lambda: answer.source.strip(), seconds=180)  # streamed text arrives
        await pilot.press("escape")  # stop the answer: the chat's length is not what this checks
        await settle(pilot, 60)
        log = _gateway_log(team_services)
        assert 'key=bob "POST /api/chat"' in log, log[-2000:]  # through the share, with bob's key

        await pilot.press("ctrl+t")
        await settle(pilot)
        await click(pilot, "team-leave")
        await settle(pilot)
        assert shown(app, "team-join-result") == f"Left {url}."
        assert app.engine is None
        assert not (team_services.settings.data_dir / "joined.json").exists()


def _gateway_log(services: WizardDeps) -> str:
    container = _docker_client().containers.get(services.settings.gateway_container_name)
    return str(container.logs(stdout=True, stderr=False).decode("utf-8", "replace"))
