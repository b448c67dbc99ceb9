"""The wizard knows what runs and respects the user's file (issue 25): opened over a running container it
shows that container (model, port, health) on Launch and Benchmark; a compose file on its own port stays on
that port through Compose and Launch, with no backup piled up for a file that did not change; a changed
setting shows in the status, the diff and the save message; a port taken by another program is solved in
the wizard (f takes the next free one).

The Docker tests use the real engine with the stand-in image (``ollama_test_image``), free loopback ports
and container and volume names of their own, removed at the end.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Static

from tests.ollama_server.fixtures import free_port
from toolkit.core.compose.render import render_compose_yaml
from toolkit.core.compose.spec import OllamaServiceSpec
from toolkit.core.machine.hardware import Machine
from toolkit.core.recommend.plan import PlanRequest
from toolkit.errors import ContainerError
from toolkit.services.planning import plan
from toolkit.tui.app import create_app
from toolkit.tui.deps import WizardDeps

from .conftest import settle, text_of
from .test_steps import _docker_services

MODEL = "smollm2:135m"


def _write_compose(svc: WizardDeps, machine: Machine, port: int) -> OllamaServiceSpec:
    """What `gpuless compose --model MODEL --port PORT` writes into the wizard's project directory."""
    settings = svc.settings
    request = PlanRequest(
        model=MODEL,
        port=port,
        image=svc.ollama_image,
        container_name=settings.container_name,
        volume_name=settings.volume_name,
    )
    spec = plan(request, machine=machine, catalog=svc.catalog(), settings=settings).spec
    svc.compose_dir.mkdir(parents=True, exist_ok=True)
    svc.compose_path.write_text(render_compose_yaml(spec), encoding="utf-8")
    return spec


def _down(runner: Any, container: str, volume: str) -> None:
    """Remove what the test started. The Launch step's volume check (a short-lived helper container that
    lists the models volume) may still hold the volume a moment after the app has quit: wait for it."""
    deadline = time.monotonic() + 30
    while True:
        try:
            runner.down(container, volume=volume)
            return
        except ContainerError as error:
            if "in use" not in error.message or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _row(app: Any, row: str) -> str:
    return text_of(app.screen.query_one(f"#launch-{row} .transfer-detail", Static))


def _backups(svc: WizardDeps) -> list[Path]:
    return list(svc.compose_dir.glob("compose.yaml.*.bak"))


async def test_the_model_step_starts_on_the_files_model_and_a_changed_port_shows_everywhere(
    services: WizardDeps, machine: Machine
) -> None:
    spec = _write_compose(services, machine, free_port())
    before = services.compose_path.read_text()
    other = free_port()
    app = create_app(services, start="model")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.choice.tag == MODEL  # the compose file's model, not the recommendation's pick
        assert app.spec == app.world.file_spec and app.spec.port == spec.port  # type: ignore[union-attr]
        await pilot.press("enter")  # enter uses the row and goes on
        await settle(pilot)
        assert app.current_mode == "compose"
        screen: Any = app.screen
        status = screen.query_one("#compose-status", Static)
        assert "matches the file on disk" in text_of(status)
        assert screen.query_one("#set-port", Input).placeholder == str(spec.port)
        # A port typed in the Settings area: the plan, the status, the diff and the save message say so.
        screen.query_one("#set-port", Input).value = str(other)
        await settle(pilot)
        assert app.spec.port == other  # type: ignore[union-attr]
        assert f"port {spec.port} → {other}" in text_of(status)
        screen.query_one("#compose-code").focus()
        await pilot.press("d")
        diff = text_of(screen.query_one("#compose-yaml", Static))
        assert f'-      - "127.0.0.1:{spec.port}:11434"' in diff
        assert f'+      - "127.0.0.1:{other}:11434"' in diff
        assert "-      OLLAMA_NUM_PARALLEL" not in diff  # nothing else of the file changes
        await pilot.press("s")
        await settle(pilot)
        saved = [n.message for n in app._notifications if n.message.startswith("Replaced")]
        assert saved and f"(port {spec.port} → {other})" in saved[-1]
        assert len(_backups(services)) == 1 and _backups(services)[0].read_text() == before
        # Saved: the file is the plan now, and saving again writes nothing.
        await pilot.press("s")
        await settle(pilot)
        assert "already has this content" in text_of(status)
        assert len(_backups(services)) == 1


async def test_an_error_stays_on_its_step_until_dismissed_in_the_wizards_words(services: WizardDeps) -> None:
    app = create_app(services, start="chat")  # nothing answers at the services' URL
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen: Any = app.screen
        app.clear_notifications()  # the toast is gone (as after its timeout): the panel is not
        await pilot.pause()
        panel = screen.query_one("#step-error", Static)
        text = text_of(panel)
        assert panel.display and panel.region.height > 0 and panel.region.bottom <= 23  # above the keys
        assert text.startswith("Chat: Ollama does not answer") and "(ctrl+x dismisses this)" in text
        assert "Start a server in the Launch step (4)" in text and "--url" not in text
        assert screen.check_action("dismiss_error", ()) is True
        await pilot.press("escape", "5", "6")
        assert app.current_mode == "chat" and panel.display  # still there on coming back
        await pilot.press("ctrl+x")
        assert not panel.display and screen.check_action("dismiss_error", ()) is False


async def test_keys_that_type_are_not_advertised_in_a_field_and_esc_leaves_it(services: WizardDeps) -> None:
    app = create_app(services, start="chat")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen: Any = app.screen
        assert screen.focused is screen.query_one("#chat-input", Input)
        # In the prompt, n and the digits type: the footer does not offer them; esc "Leave field" it does.
        assert app.check_action("step", (1,)) is False and app.check_action("goto", ("model",)) is False
        assert screen.check_action("leave_field", ()) is True and screen.check_action("stop", ()) is False
        footer = {b.binding.description for b in app.active_bindings.values() if b.enabled}
        assert "Leave field" in footer and "Next" not in footer
        await pilot.press("escape")
        assert screen.focused is None
        assert app.check_action("step", (1,)) is True
        footer = {b.binding.description for b in app.active_bindings.values() if b.enabled}
        assert "Next" in footer and "Leave field" not in footer
        await pilot.press("p")
        assert app.current_mode == "benchmark"


@pytest.mark.engine
async def test_ctrl_c_stops_a_benchmark_and_a_second_one_quits(
    services: WizardDeps, ollama_server: Any, tmp_path: Path
) -> None:
    import time

    svc = dataclasses.replace(
        services,
        ollama_url=ollama_server.url,
        history_path=tmp_path / "history.sqlite3",
        bench_overrides={"reps": 50, "num_predict": 64, "shapes": ("chat",), "max_seconds": 300},
    )
    app = create_app(svc, start="benchmark")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen: Any = app.screen
        await pilot.press("b")
        deadline = time.monotonic() + 120  # a bound for a slow machine, not a wait
        while time.monotonic() < deadline and not screen.query_one("#bench-reps").tps:
            await pilot.pause(0.1)
        assert screen.busy and screen.query_one("#bench-reps").tps  # a request finished; more to come
        await pilot.press("ctrl+c")
        await settle(pilot, 60)
        assert not screen.busy and app.is_running  # the run stopped; the wizard did not quit
        status = text_of(screen.query_one("#bench-status", Static))
        assert status.startswith("Cancelled") and "ctrl+c again quits" in status
        assert not [n for n in app._notifications if n.title == "Do you want to quit?"]
        await pilot.press("ctrl+c")
        await pilot.pause(0.5)
        assert not app.is_running


@pytest.mark.docker
async def test_a_reopened_wizard_shows_the_running_container_on_launch_and_benchmark(
    services: WizardDeps, machine: Machine, ollama_test_image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from toolkit.adapters.docker.runner import DockerRunner
    from toolkit.services.launch import launch

    monkeypatch.delenv("GPULESS_OLLAMA_URL", raising=False)
    svc = _docker_services(services, machine, ollama_test_image)
    port = free_port()
    # Started as `gpuless compose --port PORT` then `gpuless up` would; the wizard is told no URL.
    spec = _write_compose(svc, svc.detect(), port)
    svc = dataclasses.replace(svc, ollama_url="")
    runner = DockerRunner()
    try:
        await asyncio.to_thread(launch, runner, spec, compose_path=None)  # it runs event loops of its own
        app = create_app(svc, start="launch")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, 60)
            url, served = f"http://127.0.0.1:{port}", f"{MODEL}-gpuless"
            assert app.engine == (url, served)
            assert _row(app, "health").startswith("running") and f"port {port}" in _row(app, "health")
            assert _row(app, "pull") == f"{served} ready"
            result = text_of(app.screen.query_one("#launch-result", Static))
            assert result.startswith(f"Running: {served} at {url} (container {spec.container_name})")
            assert app.screen.query_one("#launch-model", Input).value == MODEL
            app.action_goto("benchmark")
            await settle(pilot, 60)
            status = text_of(app.screen.query_one("#bench-status", Static))
            assert status.startswith(f"Target: {served} at {url}, container {spec.container_name} ")
            # The run goes where the header says.
            assert app.screen.target() == (url, served)  # type: ignore[attr-defined]
    finally:
        _down(runner, spec.container_name, spec.volume_name)


@pytest.mark.docker
async def test_a_file_on_its_own_port_stays_there_through_compose_and_launch(
    services: WizardDeps, machine: Machine, ollama_test_image: str
) -> None:
    from toolkit.adapters.docker.runner import DockerRunner

    svc = _docker_services(services, machine, ollama_test_image)
    port = free_port()
    spec = _write_compose(svc, svc.detect(), port)
    before = svc.compose_path.read_bytes()
    app = create_app(svc, start="compose")
    runner = DockerRunner()
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert "matches the file on disk" in text_of(app.screen.query_one("#compose-status", Static))
            assert app.spec is not None and app.spec.port == port
            await pilot.press("s")
            await pilot.press("4")
            await settle(pilot)
            assert app.screen.query_one("#launch-model", Input).value == MODEL
            assert f"port {port}." in text_of(app.screen.query_one("#launch-mode", Static))
            await pilot.press("ctrl+s")
            await settle(pilot, 240)
            assert app.engine == (f"http://127.0.0.1:{port}", f"{MODEL}-gpuless"), [
                n.message for n in app._notifications
            ]
            assert runner.running_url(spec.container_name) == f"http://127.0.0.1:{port}"
        assert svc.compose_path.read_bytes() == before and _backups(svc) == []
    finally:
        _down(runner, spec.container_name, spec.volume_name)


@pytest.mark.docker
async def test_a_taken_port_is_solved_in_the_wizard(
    services: WizardDeps, machine: Machine, ollama_test_image: str
) -> None:
    from toolkit.adapters.docker.runner import DockerRunner

    svc = _docker_services(services, machine, ollama_test_image)
    # Another program (a native Ollama, say) listens on the port the wizard plans for.
    taken = int(svc.url.rsplit(":", 1)[1])
    runner = DockerRunner()
    with socket.socket() as other:
        other.bind(("127.0.0.1", taken))
        other.listen()
        app = create_app(svc, start="compose")
        try:
            async with app.run_test(size=(80, 24)) as pilot:
                await settle(pilot)
                offer = app.port_offer
                assert offer is not None and offer != taken
                note = text_of(app.screen.query_one("#set-note", Static))
                assert f"Port {taken} is taken by another program" in note and f"f uses {offer}" in note
                await pilot.press("4")
                await settle(pilot)
                screen: Any = app.screen
                screen.query_one("#launch-model", Input).value = MODEL
                screen.query_one("#launch-start").focus()
                await pilot.press("ctrl+s")  # as a user who did not read the offer
                await settle(pilot, 120)
                result = text_of(screen.query_one("#launch-result", Static))
                assert f"port {taken}" in result and f"Press f to use port {offer}" in result
                assert [n for n in app._notifications if n.title == "Launch: Port in use"]
                assert runner.find(svc.settings.container_name) is None  # nothing left behind
                await pilot.press("f")
                await settle(pilot, 240)
                assert app.engine == (f"http://127.0.0.1:{offer}", f"{MODEL}-gpuless"), [
                    n.message for n in app._notifications
                ]
        finally:
            _down(runner, svc.settings.container_name, svc.settings.volume_name)
