"""The wizard's Tune action in the Benchmark step: progress with the budget's time left, then Apply /
Keep; without a compose file or a running container, one clear line and nothing touched."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from textual.widgets import Static

from tests import cli_run
from tests.ollama_server.fixtures import free_port
from toolkit.core.tune.knobs import Knobs, Measurement
from toolkit.tui.app import create_app
from toolkit.tui.deps import WizardDeps

from .conftest import settle, text_of


async def test_tune_without_compose_file_says_so(services: WizardDeps) -> None:
    app = create_app(services, start="benchmark")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot, 30)
        status = text_of(app.screen.query_one("#tune-status", Static))
        assert status.startswith("Tune failed:") and "does not exist" in status
        assert not services.compose_path.exists()


@pytest.fixture
def running(ollama_test_image: str, tmp_path: Path) -> Iterator[tuple[Path, str, str]]:
    """compose.yaml (one CPU, NUM_PARALLEL=1) in tmp_path/project and its container running, its URL."""
    name = f"gpuless-t-tunetui-{uuid.uuid4().hex[:8]}"
    project = tmp_path / "project"
    project.mkdir()
    env = {
        **os.environ,
        "GPULESS_IMAGE": ollama_test_image,
        "GPULESS_CONTAINER_NAME": name,
        "GPULESS_VOLUME_NAME": f"{name}-models",
        "GPULESS_DATA_DIR": str(tmp_path / "data"),
        "GPULESS_CACHE_DIR": str(tmp_path / "cache"),
    }

    def gpuless(*argv: str) -> None:
        done = subprocess.run(
            cli_run.command(*argv), cwd=project, env=env, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    try:
        port = free_port()
        gpuless("compose", "--model", "smollm2:135m", "--cpus", "1", "--port", str(port))
        gpuless("up", "--no-pull", "--timeout", "120")
        yield project, name, f"http://127.0.0.1:{port}"
    finally:
        client = docker.from_env()
        for container in client.containers.list(all=True, filters={"name": name}):
            container.remove(force=True)
        for volume in client.volumes.list(filters={"name": name}):
            volume.remove(force=True)


def _lock_from_another_process(name: str) -> str:
    """What another process gets when it asks for the project lock of container ``name``."""
    script = (
        "import sys\nfrom toolkit.adapters.docker.project_lock import exclusive\n"
        "from toolkit.errors import ContainerError\n"
        "try:\n    with exclusive(sys.argv[1]):\n        print('taken')\n"
        "except ContainerError as error:\n    print(error.message)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, name], capture_output=True, text=True, timeout=60)
    return done.stdout.strip()


def _env(name: str) -> dict[str, str]:
    attrs: dict[str, Any] = docker.from_env().api.inspect_container(name)
    return dict(e.partition("=")[::2] for e in attrs["Config"]["Env"])


async def _measured(url: str, model: str, users: int, rounds: int, predict: int, knobs: Knobs, *a: Any,
                    **k: Any) -> Measurement:  # fmt: skip
    """A measurement in which more slots always answer sooner (TTFT p95 1/slots s), the rest flat."""
    p95 = 1.0 / knobs.num_parallel
    return Measurement(users, users * rounds, 50.0, 60.0, p95 / 2, p95, None, 0.5)


@pytest.mark.docker
async def test_tune_four_users_then_apply(
    services: WizardDeps, running: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from toolkit.adapters.tune import tuner
    from toolkit.services import container_tune
    from toolkit.tui.screens import bench_tune

    # The wizard's tune is what is tested here (keys, live line, result, Apply writing and verifying, the
    # lock), so the measurements are controlled: more slots always win. The container really restarts with
    # each candidate; the real measurements and the winner rule on the real engine are
    # tests/engine/test_tune_docker.py's.
    project, name, _url = running
    monkeypatch.setattr(tuner, "_measure", _measured)
    # One candidate with more slots (one real restart): the wizard's handling is the same for one as for
    # ten, and the tune ends when its candidates do, well inside the budget
    planned = container_tune.generate_candidates

    def one_candidate(*args: Any, **kwargs: Any) -> Any:
        candidates, pruned = planned(*args, **kwargs)
        return (next(c for c in candidates if c.knobs.num_parallel > 1),), pruned

    monkeypatch.setattr(container_tune, "generate_candidates", one_candidate)
    budget = 30.0
    monkeypatch.setattr(bench_tune, "TUNE_BUDGET_S", budget)
    before = (project / "compose.yaml").read_text()
    svc = dataclasses.replace(services, compose_dir=project)
    app = create_app(svc, start="benchmark")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        tune_status = app.screen.query_one("#tune-status", Static)
        deadline = time.monotonic() + 60  # a bound for a slow machine, not a wait
        while time.monotonic() < deadline and not text_of(tune_status).startswith("tune "):
            await pilot.pause(0.1)
        live = text_of(tune_status)
        assert live.startswith("tune ") and f"left (budget {budget:.0f} s)" in live, live
        await settle(pilot, budget + 300)
        status = text_of(app.screen.query_one("#tune-status", Static))
        assert "a applies it" in status, status
        assert "TTFT p95 s" in text_of(app.screen.query_one("#tune-result", Static))
        assert (project / "compose.yaml").read_text() == before  # nothing written before Apply
        slots = _env(name)["OLLAMA_NUM_PARALLEL"]
        assert int(slots) > 1  # the winner runs while the user decides
        # ... and the tune still holds the container's lock, as `gpuless tune` does: another process (an
        # up, a bench, a tune of it) is refused meanwhile
        assert "another `gpuless tune`" in _lock_from_another_process(name)
        await pilot.press("a")
        await settle(pilot, 120)
        status = text_of(app.screen.query_one("#tune-status", Static))
        assert status.startswith("Applied:") and "0 refused" in status, status
        assert _lock_from_another_process(name) == "taken"  # let go once applied
    assert f'OLLAMA_NUM_PARALLEL: "{slots}"' in (project / "compose.yaml").read_text()
    assert [p.read_text() for p in project.glob("compose.yaml.*.bak")] == [before]


@pytest.mark.docker
async def test_ctrl_c_mid_tune_restores_the_start_then_a_second_quits(
    services: WizardDeps, running: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from toolkit.adapters.tune import tuner
    from toolkit.services import container_tune

    # Controlled as above; the candidate's measurement lasts until the stop is asked for, so ctrl+c lands
    # while the candidate runs on any machine. The container really restarts, there and back.
    project, name, _url = running
    before = (project / "compose.yaml").read_text()
    planned = container_tune.generate_candidates
    candidate_runs, stop_asked = threading.Event(), threading.Event()

    def one_candidate(*args: Any, **kwargs: Any) -> Any:
        candidates, pruned = planned(*args, **kwargs)
        return (next(c for c in candidates if c.knobs.num_parallel > 1),), pruned

    async def measured(url: str, model: str, users: int, rounds: int, predict: int, knobs: Knobs, *a: Any,
                       **k: Any) -> Measurement:  # fmt: skip
        if knobs.num_parallel > 1:
            candidate_runs.set()
            deadline = time.monotonic() + 120
            while not stop_asked.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        return await _measured(url, model, users, rounds, predict, knobs)

    monkeypatch.setattr(container_tune, "generate_candidates", one_candidate)
    monkeypatch.setattr(tuner, "_measure", measured)
    app = create_app(dataclasses.replace(services, compose_dir=project), start="benchmark")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        stop_asked = app.screen._tune_stop  # what ctrl+c sets (the tuner reads it between its steps)
        await pilot.press("u")
        deadline = time.monotonic() + 180  # a bound for a slow machine, not a wait
        while time.monotonic() < deadline and not candidate_runs.is_set():
            await pilot.pause(0.1)
        assert candidate_runs.is_set() and _env(name)["OLLAMA_NUM_PARALLEL"] != "1"
        await pilot.press("ctrl+c")
        await settle(pilot, 180)
        status = text_of(app.screen.query_one("#tune-status", Static))
        assert status.startswith("Tune stopped: the configuration that ran before runs again."), status
        assert status.endswith("ctrl+c again quits.") and app.is_running
        assert _env(name)["OLLAMA_NUM_PARALLEL"] == "1"
        assert _lock_from_another_process(name) == "taken"  # the tune let go of the container
        await pilot.press("ctrl+c")
        await pilot.pause(0.5)
        assert not app.is_running
    assert (project / "compose.yaml").read_text() == before and not list(project.glob("compose.yaml.*.bak"))
