"""The listen address of an edited compose.yaml, on the real engine (issue 20 items 2 and 3).

`up` binds exactly the address the file asks for (host networking: Ollama binds OLLAMA_HOST itself;
published ports: the host side of the mapping), refuses with exit 2 and one line what no interface of
this machine has, and never widens it to every address; an exposed server can be moved back to
loopback on the same port. Run as a user runs gpuless (a separate process); traffic to loopback only.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest

from tests import cli_run
from tests.engine.cli_project import CliProject

pytestmark = pytest.mark.docker

#: An address of the documentation range TEST-NET-3 (RFC 5737), which no interface here has.
NOWHERE = "203.0.113.7"


class Project(CliProject):
    def __init__(self, image: str, tmp_path: Path) -> None:
        super().__init__(image, tmp_path, "listen")

    @property
    def compose(self) -> Path:
        return self.dir / "compose.yaml"

    def up(self) -> Any:
        return self.run("up", "--no-pull", "--timeout", "120")

    def listen_on(self, address: str) -> None:
        """Edit the Ollama service's address (OLLAMA_HOST under host networking, else the published
        port's host side), as a user would."""
        text = self.compose.read_text()
        pattern = rf'"[0-9a-z.]+:{self.port}(:11434)?"'
        edited, count = re.subn(pattern, rf'"{address}:{self.port}\1"', text, count=1)
        assert count == 1, text
        self.compose.write_text(edited)

    def container(self) -> dict[str, Any]:
        attrs: dict[str, Any] = docker.from_env().api.inspect_container(self.name)
        return attrs

    def bound(self) -> str:
        """The host address the container listens on, as the engine reports it."""
        attrs = self.container()
        if attrs["HostConfig"]["NetworkMode"] == "host":
            env = dict(e.partition("=")[::2] for e in attrs["Config"]["Env"])
            return env["OLLAMA_HOST"].rpartition(":")[0]
        (binding,) = attrs["HostConfig"]["PortBindings"]["11434/tcp"]
        return str(binding["HostIp"])


@pytest.fixture
def project(ollama_test_image: str, tmp_path: Path) -> Iterator[Project]:
    made = Project(ollama_test_image, tmp_path)
    try:
        yield made
    finally:
        made.remove_all()


def _answers(address: str, port: int) -> bool:
    try:
        return (
            httpx.get(f"http://{address}:{port}/api/version", timeout=5, trust_env=False).status_code == 200
        )
    except httpx.TransportError:
        return False


def _compose(project: Project, *extra: str) -> None:
    done = project.run(
        "compose", "--model", "smollm2:135m", "--cpus", "1", "--port", str(project.port), *extra
    )
    assert done.returncode == 0, done.stderr


def test_another_loopback_address_is_bound_exactly(project: Project) -> None:
    _compose(project)
    project.listen_on("127.0.0.2")
    done = project.up()
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr and "0.0.0.0" not in done.stderr, done.stderr
    assert project.bound() == "127.0.0.2"
    assert _answers("127.0.0.2", project.port)
    assert not _answers("127.0.0.1", project.port)  # not widened to loopback, nor to every address


def test_an_address_no_interface_has_is_refused_and_the_running_server_kept(project: Project) -> None:
    with socket.socket() as probe, pytest.raises(OSError):  # the premise: this machine lacks it
        probe.bind((NOWHERE, 0))
    _compose(project)
    done = project.up()
    assert done.returncode == 0, done.stderr
    before = project.container()["Id"]
    project.listen_on(NOWHERE)
    done = project.up()
    assert done.returncode == 2, done.stderr
    cli_run.one_error_line(done.stderr, f"cannot listen on {NOWHERE}")
    assert project.container()["Id"] == before and project.container()["State"]["Running"]
    assert _answers("127.0.0.1", project.port)
    # A host name or an IPv6 address is not bound as "every address" either: refused at once.
    project.listen_on("127.0.0.1")
    text = project.compose.read_text()
    project.compose.write_text(
        text.replace(f'"127.0.0.1:{project.port}', f'"myhost.example:{project.port}', 1)
    )
    done = project.up()
    assert done.returncode == 2, done.stderr
    cli_run.one_error_line(done.stderr, "cannot bind 'myhost.example'")
    assert project.container()["Id"] == before


def test_an_exposed_server_goes_back_to_loopback_on_the_same_port(project: Project) -> None:
    _compose(project, "--expose")
    done = project.up()
    assert done.returncode == 0, done.stderr
    assert project.bound() == "0.0.0.0"
    project.listen_on("127.0.0.1")
    done = project.up()
    assert done.returncode == 0, done.stderr  # its own container on 0.0.0.0 is not "the port in use"
    assert "already in use" not in done.stderr
    assert project.bound() == "127.0.0.1"
    assert _answers("127.0.0.1", project.port)
