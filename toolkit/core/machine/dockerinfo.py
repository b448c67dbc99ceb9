"""Read the Docker engine's own description of itself (the Engine API ``GET /info`` body).

On Docker Desktop (macOS, Windows) containers run in a VM whose CPUs and memory are a slice of the host's,
so the container must be sized from these numbers, not from psutil. This module turns the ``/info`` dict
(``docker.from_env().info()``) into ``DockerEngineInfo`` and describes an unreachable engine in one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from toolkit.core.machine.hardware import DockerEngineInfo

# Docker Desktop's VM kernel is built by LinuxKit (macOS, Hyper-V) or is WSL 2's; its /info also carries
# labels "com.docker.desktop.address=…" and the name "docker-desktop". Any one of these is enough.
_DESKTOP_KERNEL_MARKS = ("linuxkit",)
_DESKTOP_LABEL_PREFIX = "com.docker.desktop."


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def is_docker_desktop(info: Mapping[str, Any]) -> bool:
    """Whether ``/info`` comes from Docker Desktop's VM rather than a native engine."""
    operating_system = str(info.get("OperatingSystem") or "")
    if "docker desktop" in operating_system.lower():
        return True
    labels = info.get("Labels") or []
    if any(str(label).startswith(_DESKTOP_LABEL_PREFIX) for label in labels):
        return True
    if str(info.get("Name") or "") == "docker-desktop":
        return True
    kernel = str(info.get("KernelVersion") or "").lower()
    return any(mark in kernel for mark in _DESKTOP_KERNEL_MARKS)


def is_rootless(info: Mapping[str, Any]) -> bool:
    """A rootless engine lists ``name=rootless`` among its security options (Docker and Podman)."""
    return any("name=rootless" in str(option) for option in info.get("SecurityOptions") or [])


def is_podman(info: Mapping[str, Any]) -> bool:
    """Podman's compatible API names itself in ``Components`` (or in the version string's product)."""
    components = info.get("Components") or []
    names = [str(c.get("Name", "")) for c in components if isinstance(c, Mapping)]
    return any("podman" in name.lower() for name in names) or "podman" in str(info.get("Name", "")).lower()


def parse_docker_info(
    info: Mapping[str, Any], networks: list[Mapping[str, Any]] | None = None
) -> DockerEngineInfo:
    """``/info`` dict (and, when listed, ``/networks``) → ``DockerEngineInfo`` (the engine answered)."""
    cgroup = info.get("CgroupVersion")
    swap = info.get("SwapLimit")
    has_bridge = (
        None
        if networks is None
        else any(str(n.get("Name")) in ("bridge", "podman") for n in networks if isinstance(n, Mapping))
    )
    return DockerEngineInfo(
        reachable=True,
        error=None,
        server_version=str(info["ServerVersion"]) if info.get("ServerVersion") else None,
        operating_system=str(info["OperatingSystem"]) if info.get("OperatingSystem") else None,
        os_type=str(info["OSType"]) if info.get("OSType") else None,
        is_desktop=is_docker_desktop(info),
        ncpu=_int_or_none(info.get("NCPU")),
        mem_total_bytes=_int_or_none(info.get("MemTotal")),
        cgroup_version=str(cgroup) if cgroup not in (None, "") else None,
        swap_limit=swap if isinstance(swap, bool) else None,
        rootless=is_rootless(info),
        is_podman=is_podman(info),
        has_bridge=has_bridge,
    )


def describe_unreachable(raw_error: str, endpoint: str | None = None) -> str:
    """One line saying why the engine did not answer, from the text of the library's exception.

    docker-py wraps the socket error in "Error while fetching server API version: (...)"; the useful part
    is which of "no socket", "permission denied", "connection refused" or "timed out" it was.
    """
    lowered = raw_error.lower()
    where = f" at {endpoint}" if endpoint else ""
    if "filenotfounderror" in lowered or "no such file" in lowered:
        reason = "no Docker socket there (engine not installed or not running)"
    elif "permissionerror" in lowered or "permission denied" in lowered:
        reason = "permission denied on the Docker socket"
    elif "connection refused" in lowered or "connectionrefused" in lowered:
        reason = "connection refused (engine not running)"
    elif "timed out" in lowered or "timeout" in lowered:
        reason = "the engine did not answer in time"
    elif "docker" in lowered and "not installed" in lowered:
        reason = "the docker Python package is not installed"
    else:
        first_line = raw_error.strip().splitlines()[0] if raw_error.strip() else "unknown error"
        reason = first_line[:200]
    return f"Docker engine not reachable{where}: {reason}"


def unreachable(raw_error: str, endpoint: str | None = None) -> DockerEngineInfo:
    """The ``DockerEngineInfo`` for an engine that did not answer."""
    return DockerEngineInfo(reachable=False, error=describe_unreachable(raw_error, endpoint))
