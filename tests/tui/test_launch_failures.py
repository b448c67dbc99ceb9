"""Launch step failures as a user meets them: a pull that fails for each reason (with the right advice
and a one-key offer of the next candidate), rows that match the real container afterwards, and no
Docker engine (the native-runtime and attach-to-URL choices in the wizard itself)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from textual.widgets import Input, Static

from tests.faults.server import FaultServer
from tests.tui.notes import notes_of
from toolkit.tui.app import create_app
from toolkit.tui.deps import WizardDeps

from .conftest import settle, text_of


def _detail(app: Any, row: str) -> str:
    return text_of(app.screen.query_one(f"#launch-{row} .transfer-detail", Static))


def _errors(app: Any) -> list[Any]:
    return [n for n in notes_of(app) if n.severity == "error"]


async def test_an_unreachable_registry_is_not_a_wrong_name_and_o_tries_the_next_model(
    services: WizardDeps,
) -> None:
    with FaultServer("pull_unreachable") as server:
        app = create_app(dataclasses.replace(services, ollama_url=server.url), start="launch")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            app.screen.query_one("#launch-model", Input).value = "qwen2.5:1.5b"
            await pilot.press("ctrl+s")
            await settle(pilot)
            result = text_of(app.screen.query_one("#launch-result", Static))
            assert "registry could not be reached" in result and "name may well be right" in result
            assert "check the name" not in result.lower()
            assert _detail(app, "pull") == "failed: the registry could not be reached"
            assert _detail(app, "health").startswith("Ollama 0.9.0 answers")  # that server still runs
            assert _errors(app)[-1].title == "Launch: Registry unreachable"
            offer = app.screen.offer
            assert offer is not None and offer != "qwen2.5:1.5b" and f"Press o to try {offer}" in result
            # The key is shown while there is an offer; o takes it (and fails the same way here).
            assert app.screen.check_action("try_offer", ()) is True
            await pilot.press("o")
            await settle(pilot)
            assert app.screen.query_one("#launch-model", Input).value == offer
            assert app.screen.failed_tags == {"qwen2.5:1.5b", offer}
            assert app.screen.offer not in (None, "qwen2.5:1.5b", offer)
            assert app.engine is None


async def test_a_cancelled_pull_leaves_no_progress_standing(services: WizardDeps) -> None:
    import time

    with FaultServer("pull_slow") as server:
        app = create_app(dataclasses.replace(services, ollama_url=server.url), start="launch")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            app.screen.query_one("#launch-model", Input).value = "qwen2.5:1.5b"
            await pilot.press("ctrl+s")
            deadline = time.monotonic() + 60  # a bound for a slow machine, not a wait
            while time.monotonic() < deadline and "pulling" not in _detail(app, "pull"):
                await pilot.pause(0.05)
            assert "pulling" in _detail(app, "pull")
            await pilot.press("escape")
            await settle(pilot)
            assert _detail(app, "pull") == "stopped: cancelled"
            assert "Cancelled" in text_of(app.screen.query_one("#launch-result", Static))
            assert app.engine is None and not _errors(app)


async def test_a_full_disk_asks_for_space(services: WizardDeps) -> None:
    with FaultServer("pull_disk_full") as server:
        app = create_app(dataclasses.replace(services, ollama_url=server.url), start="launch")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            app.screen.query_one("#launch-model", Input).value = "qwen2.5:7b"
            await pilot.press("ctrl+s")
            await settle(pilot)
            result = text_of(app.screen.query_one("#launch-result", Static))
            assert "no disk space left" in result and "Free space" in result
            assert _detail(app, "pull") == "failed: the disk is full"
            assert _errors(app)[-1].title == "Launch: Disk full"


@pytest.mark.engine
async def test_an_unknown_tag_says_check_the_name(services: WizardDeps, ollama_server: Any) -> None:
    app = create_app(dataclasses.replace(services, ollama_url=ollama_server.url), start="launch")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.screen.query_one("#launch-model", Input).value = "nosuchmodel:1b"
        await pilot.press("ctrl+s")
        await settle(pilot, 60)
        result = text_of(app.screen.query_one("#launch-result", Static))
        assert "is not in the registry" in result and "ollama.com/library" in result
        assert _detail(app, "pull") == "failed: no such model in the registry"
        assert _errors(app)[-1].title == "Launch: Model not found"
        assert app.screen.offer is not None and "Press o to try" in result


async def test_without_docker_the_wizard_offers_native_and_attach(
    services: WizardDeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    with FaultServer("none") as server:
        app = create_app(dataclasses.replace(services, launch_mode="docker"), start="launch")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert screen.check_action("native", ()) is False  # nothing offered before it is needed
            screen.query_one("#launch-model", Input).value = "m:latest"
            await pilot.press("ctrl+s")
            await settle(pilot)
            panel = text_of(screen.query_one("#launch-nodocker", Static))
            assert "Get Docker:" in panel and "docker" in panel.lower()
            assert "  r  run Ollama on this machine" in panel and "  a  attach to an Ollama" in panel
            assert "--runtime" not in panel and "--url" not in panel
            assert _errors(app)[-1].title == "Launch: Docker is not available"
            assert screen.check_action("native", ()) is True and screen.check_action("attach", ())
            await pilot.press("a")
            url = screen.query_one("#launch-url", Input)
            assert screen.focused is url
            url.value = server.url
            await pilot.press("enter")
            await settle(pilot)
            assert app.engine == (server.url, "m:latest")
            assert "already present" in _detail(app, "pull")
            assert _detail(app, "image") == "not used without Docker"


@pytest.mark.docker
async def test_after_a_failed_pull_the_rows_show_the_container_is_gone(
    services: WizardDeps, machine: Any, ollama_test_image: str
) -> None:
    from toolkit.adapters.docker.runner import DockerRunner

    from .test_steps import _docker_services

    svc = _docker_services(services, machine, ollama_test_image)
    app = create_app(svc, start="launch")
    runner = DockerRunner()
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            app.screen.query_one("#launch-model", Input).value = "nosuchmodel:1b"
            await pilot.press("ctrl+s")
            await settle(pilot, 240)
            # The container was created, then removed when the pull failed: no "healthy" is left.
            assert runner.find(svc.settings.container_name) is None
            assert _detail(app, "health") == "no container (this launch removed what it created)"
            assert _detail(app, "pull") == "failed: no such model in the registry"
            assert app.screen.offer is not None and app.engine is None
    finally:
        runner.down(svc.settings.container_name, volume=svc.settings.volume_name)


def test_the_no_docker_advice_names_the_engines_of_each_os() -> None:
    from toolkit.core.machine.nodocker import no_docker_advice

    mac = " ".join(no_docker_advice("Darwin", False).lines())
    assert "Docker Desktop" in mac and "Colima" in mac and "ollama.com/download" in mac
    win = " ".join(no_docker_advice("Windows", True).lines())
    assert "Docker Desktop" in win and "WSL 2" in win and "starts `ollama serve`" in win
    linux = " ".join(no_docker_advice("Linux", False).lines())
    assert "docs.docker.com/engine/install" in linux and "systemctl start docker" in linux
    assert "install.sh" in linux
    for text in (mac, win, linux):
        assert "--runtime" not in text and "--url" not in text


@pytest.mark.engine
async def test_without_docker_r_runs_ollama_here_and_verifies_it(
    services: WizardDeps, monkeypatch: pytest.MonkeyPatch, ollama_shim: Any
) -> None:
    """``r`` starts the ``ollama`` on PATH (the test server), records it and shows what took effect, as
    ``gpuless up --runtime native`` does; ``verify`` and ``status`` then find it."""
    from tests.ollama_server.fixtures import free_port
    from toolkit.services.native import find_native, stop_native

    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    url = f"http://127.0.0.1:{free_port()}"
    app = create_app(dataclasses.replace(services, launch_mode="docker", ollama_url=url), start="launch")
    try:
        async with app.run_test(size=(100, 40)) as pilot:
            await settle(pilot)
            app.screen.query_one("#launch-model", Input).value = "smollm2:135m"
            await pilot.press("ctrl+s")
            await settle(pilot)
            await pilot.press("r")
            await settle(pilot, seconds=180)
            assert app.engine == (url, "smollm2:135m-gpuless")
            shown = text_of(app.screen.query_one("#launch-verify", Static))
            record = find_native(services.settings)
            assert record is not None and record.url == url and record.started_by_gpuless
            assert f"Verify: ollama serve (pid {record.pid})" in shown
            assert "OLLAMA_CONTEXT_LENGTH" in shown and "mem_limit" in shown  # a row; the note
    finally:
        stop_native(services.settings)
