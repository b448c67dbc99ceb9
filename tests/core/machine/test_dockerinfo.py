"""Docker engine ``/info`` parsing: a native Linux engine, Docker Desktop (macOS, Windows), Colima."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests import paths
from toolkit.core.machine.dockerinfo import (
    describe_unreachable,
    is_docker_desktop,
    parse_docker_info,
    unreachable,
)
from toolkit.core.machine.hardware import DockerEngineInfo

FIXTURES = paths.FIXTURES / "detect"


def _info(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def test_native_linux_engine_from_this_machine() -> None:
    assert parse_docker_info(_info("docker_info_linux_engine.json")) == DockerEngineInfo(
        reachable=True,
        error=None,
        server_version="20.10.24+dfsg1",
        operating_system="Debian GNU/Linux 12 (bookworm)",
        os_type="linux",
        is_desktop=False,
        ncpu=2,
        mem_total_bytes=25276514304,
        cgroup_version="1",
        swap_limit=True,
    )


def test_docker_desktop_macos() -> None:
    assert parse_docker_info(_info("docker_info_desktop_macos.json")) == DockerEngineInfo(
        reachable=True,
        server_version="28.3.2",
        operating_system="Docker Desktop",
        os_type="linux",
        is_desktop=True,
        ncpu=8,
        mem_total_bytes=8217968640,
        cgroup_version="2",
        swap_limit=True,
    )


def test_docker_desktop_windows_wsl2() -> None:
    engine = parse_docker_info(_info("docker_info_desktop_windows_wsl2.json"))
    assert engine.is_desktop
    assert (engine.ncpu, engine.mem_total_bytes, engine.server_version) == (16, 16584785920, "27.5.1")


def test_desktop_recognised_by_linuxkit_kernel_alone() -> None:
    info = _info("docker_info_linuxkit_kernel_only.json")
    assert info["OperatingSystem"] == "Ubuntu 22.04.4 LTS" and info["Labels"] == []
    assert is_docker_desktop(info)


def test_colima_is_not_docker_desktop() -> None:
    engine = parse_docker_info(_info("docker_info_colima_macos.json"))
    assert not engine.is_desktop
    assert (engine.ncpu, engine.mem_total_bytes) == (2, 2014838784)


def test_missing_fields_become_none() -> None:
    engine = parse_docker_info({"ServerVersion": "27.0.1", "NCPU": "x", "SwapLimit": "yes"})
    assert engine == DockerEngineInfo(reachable=True, server_version="27.0.1")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (
            "Error while fetching server API version: ('Connection aborted.', "
            "FileNotFoundError(2, 'No such file or directory'))",
            "no Docker socket there",
        ),
        (
            "Error while fetching server API version: ('Connection aborted.', "
            "PermissionError(13, 'Permission denied'))",
            "permission denied on the Docker socket",
        ),
        (
            "HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded (Connection refused)",
            "connection refused",
        ),
        (
            "UnixHTTPConnectionPool(host='localhost', port=None): Read timed out. (read timeout=3)",
            "did not answer in time",
        ),
        ("something else entirely\nsecond line", "something else entirely"),
    ],
)
def test_unreachable_reasons(raw: str, reason: str) -> None:
    line = describe_unreachable(raw, "unix:///var/run/docker.sock")
    assert line.startswith("Docker engine not reachable at unix:///var/run/docker.sock: ")
    assert reason in line
    assert "\n" not in line


def test_unreachable_value() -> None:
    engine = unreachable("FileNotFoundError(2, 'No such file or directory')")
    assert not engine.reachable
    assert (
        engine.error
        == "Docker engine not reachable: no Docker socket there (engine not installed or not running)"
    )
