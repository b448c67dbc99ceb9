"""The Ollama container gpuless runs, as ``down``, ``status``, ``logs`` and ``verify`` (and the wizard's
Launch step) ask about it: through the Docker engine (``adapters.docker``), by the names of the compose
file when there is one (``managed_names``), else the configured ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from toolkit.adapters.compose_file import managed_names
from toolkit.adapters.docker.readback import ContainerStatus
from toolkit.adapters.docker.runner import DockerRunner
from toolkit.core.compose.verify import VerifyReport
from toolkit.core.machine.hardware import DockerEngineInfo
from toolkit.settings import Settings


def docker(timeout: float = 30.0) -> DockerRunner:
    """The Docker engine, connected (``DockerUnavailableError`` with what to do when it does not answer)."""
    return DockerRunner(timeout=timeout)


def names(compose_path: Path | None, settings: Settings) -> tuple[str, str]:
    """(container, volume) of ``compose_path`` (or ./compose.yaml when gpuless wrote it), else the
    configured ones."""
    return managed_names(compose_path, (settings.container_name, settings.volume_name))


def engine_info(timeout: float = 5.0) -> DockerEngineInfo:
    """What the Docker engine is (kind, version, cgroup, limits)."""
    return docker(timeout).engine_info()


def down(name: str, *, volume: str | None = None) -> dict[str, Any]:
    """Stop and remove the container ``name`` (and the models volume when ``volume`` is given)."""
    return docker().down(name, volume=volume)


def status(name: str) -> ContainerStatus:
    """The container's state and health."""
    return docker().status(name)


def logs(
    name: str, *, tail: int = 100, follow: bool = False, max_seconds: float | None = None
) -> Iterator[str]:
    """The container's log lines (``follow``: until it stops, or ``max_seconds`` pass)."""
    return docker().logs(name, tail=tail, follow=follow, max_seconds=max_seconds)


def verify(name: str) -> VerifyReport:
    """Which settings of the running container really took effect."""
    return docker().verify(name)
