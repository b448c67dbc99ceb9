"""The local test image behaves like ollama/ollama where gpuless relies on it: entrypoint, env, CLI
healthcheck, a shell with ulimit, and models persisting in a named volume at /root/.ollama."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import docker
import httpx
import pytest

from tests.ollama_server.fixtures import ServerHandle, free_port, pull, wait_until_up

pytestmark = pytest.mark.docker


def test_image_config_matches_the_real_image(ollama_test_image: str) -> None:
    config = docker.from_env().images.get(ollama_test_image).attrs["Config"]
    assert config["Entrypoint"] == ["/bin/ollama"] and config["Cmd"] == ["serve"]
    assert "OLLAMA_HOST=0.0.0.0:11434" in config["Env"]
    assert "gpuless.test.source-hash" in config["Labels"]


def test_cli_in_the_container(ollama_container: ServerHandle) -> None:
    listed = ollama_container.container.exec_run(["ollama", "list"])
    assert listed.exit_code == 0 and b"smollm2:135m" in listed.output and b"gemma3:270m" in listed.output
    down = ollama_container.container.exec_run(["ollama", "list"], environment={"OLLAMA_HOST": "127.0.0.1:9"})
    assert down.exit_code == 1
    shell = ollama_container.container.exec_run(["sh", "-c", "ulimit -l"])
    assert shell.exit_code == 0 and shell.output.strip()


@pytest.fixture
def volume(ollama_test_image: str) -> Iterator[Any]:
    client = docker.from_env()
    vol = client.volumes.create(f"gpuless-test-ollama-{uuid.uuid4().hex[:8]}")
    yield vol
    vol.remove(force=True)


def test_pulled_model_persists_in_named_volume(ollama_test_image: str, volume: Any) -> None:
    client = docker.from_env()

    def run() -> tuple[Any, str]:
        port = free_port()
        container = client.containers.run(
            ollama_test_image,
            detach=True,
            network_mode="host",
            environment={"OLLAMA_HOST": f"127.0.0.1:{port}"},
            volumes={volume.name: {"bind": "/root/.ollama", "mode": "rw"}},
            healthcheck={"test": ["CMD", "ollama", "list"], "interval": 1_000_000_000, "retries": 30},
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(url, 60, lambda: True)
        except Exception:
            container.remove(force=True)
            raise
        return container, url

    first, url = run()
    try:
        assert httpx.get(url + "/api/tags").json() == {"models": []}
        pull(url, "smollm2:135m")
    finally:
        first.remove(force=True)
    second, url = run()
    try:
        assert [m["name"] for m in httpx.get(url + "/api/tags").json()["models"]] == ["smollm2:135m"]
    finally:
        second.remove(force=True)
