"""``--runtime native`` and ``--url``: start a local ``ollama serve`` or attach to a running one.

The ``ollama`` on PATH here is a two-line shim around the test server (tests/ollama_server: Ollama's
HTTP API over real llama.cpp), so the real start → answer → pull → stop path runs on loopback.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest

from tests.ollama_server.fixtures import free_port
from toolkit.adapters.ollama import admin as ollama_admin
from toolkit.adapters.ollama.native import attach, native_environment, start_native
from toolkit.cli.main import main
from toolkit.core.compose.spec import build_spec
from toolkit.errors import OllamaUnreachableError, PortInUseError

pytestmark = [pytest.mark.engine]


def test_native_environment_listens_on_loopback_with_the_spec_settings() -> None:
    spec = build_spec(model="m:1b", port=11555, context_length=8192, network="ports")
    env = native_environment(spec, base={"HOME": "/h"})
    assert env["OLLAMA_HOST"] == "127.0.0.1:11555"  # not the container's 0.0.0.0
    assert env["OLLAMA_CONTEXT_LENGTH"] == "8192" and env["HOME"] == "/h"


def test_start_native_serves_pulls_and_is_reused(ollama_shim: Path, tmp_path: Path) -> None:
    spec = build_spec(model="smollm2:135m", port=free_port(), context_length=2048)
    started = start_native(spec, log_dir=tmp_path / "logs", timeout=60)
    assert started.pid is not None
    try:
        assert started.action == "started" and started.url == spec.url and started.version
        ollama_admin.pull_model(spec.url, spec.model)
        assert ollama_admin.has_model(spec.url, spec.model)
        # A second start finds it answering and attaches instead of starting another.
        again = start_native(spec, log_dir=tmp_path / "logs", timeout=10)
        assert again.action == "attached" and again.pid is None
        assert "Listening on 127.0.0.1" in Path(str(started.log_path)).read_text()
    finally:
        os.killpg(started.pid, signal.SIGTERM)  # the session this test started, by its id
    assert _stops_answering(spec.url, within=60.0)


def _stops_answering(url: str, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            ollama_admin.api_version(url, timeout=1)
        except OllamaUnreachableError:
            return True
        time.sleep(0.2)
    return False


def test_start_native_refuses_a_taken_port(ollama_shim: Path, tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        # Bound but not listening: nothing answers HTTP there, yet the port is taken.
        spec = build_spec(model="m:1b", port=squatter.getsockname()[1])
        with pytest.raises(PortInUseError):
            start_native(spec, log_dir=tmp_path, timeout=10)


def test_attach_and_up_url_pull_the_model(
    ollama_server_factory: object, capsys: pytest.CaptureFixture[str]
) -> None:
    server = ollama_server_factory(pull=())  # type: ignore[operator]
    assert attach(server.url).version
    assert not ollama_admin.has_model(server.url, "smollm2:135m")
    try:
        main(["up", "--url", server.url, "--model", "smollm2:135m", "--json"])
    except SystemExit as done:
        assert done.code in (0, None)
    payload = json.loads(capsys.readouterr().out)
    assert payload["action"] == "attached" and payload["url"] == server.url
    assert ollama_admin.has_model(server.url, "smollm2:135m")
