"""Which server the read-only commands mean, and what they read from it: ``status`` and ``verify`` of the
container or of the native server, one rule for the CLI and the wizard.

A container started by ``gpuless up`` and a native ``ollama serve`` started by ``gpuless up --runtime
native`` may both exist; ``--runtime`` says which is meant, and without it the running container of the
compose file wins, else the native server gpuless recorded (``toolkit.services.native``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from toolkit.adapters.docker.readback import ContainerStatus
from toolkit.adapters.native.readback import NativeStatus
from toolkit.adapters.native.record import NativeRecord
from toolkit.core.compose.verify import VerifyReport
from toolkit.errors import GpulessError
from toolkit.services.native import find_native, require_native
from toolkit.settings import Settings

Runtime = Literal["docker", "native"]


def container_here(settings: Settings, compose_path: Path | None) -> str:
    """The container ``gpuless up`` would start here: that of ``compose_path``, else of ./compose.yaml
    when gpuless wrote it, else the configured name."""
    from toolkit.adapters.compose_file import managed_names

    return managed_names(compose_path, (settings.container_name, settings.volume_name))[0]


def runtime_here(
    settings: Settings, compose_path: Path | None, runtime: str | None
) -> tuple[Runtime, NativeRecord | None]:
    """("native", its record) or ("docker", None): ``runtime`` "docker" or "native" says it (native: the
    one on the compose file's port, else the newest); None (auto) means the native server gpuless
    recorded on the compose file's port (``compose_path``, else ./compose.yaml when gpuless wrote it; any
    port without a file) unless the container of that file runs: a running container wins."""
    from toolkit.adapters.compose_file import read_compose_file, spec_here

    if runtime == "docker":
        return "docker", None
    spec = read_compose_file(compose_path).spec if compose_path is not None else spec_here()
    port = spec.port if spec is not None else None
    found = find_native(settings, port)
    if runtime == "native":  # asked for: the one on another port than the file's will do
        return "native", found or require_native(settings)
    if found is None:
        return "docker", None
    container = spec.container_name if spec is not None else settings.container_name
    return ("docker", None) if _container_runs(container) else ("native", found)


def _container_runs(name: str) -> bool:
    from toolkit.adapters.docker.runner import DockerRunner

    try:
        attrs = DockerRunner(timeout=2).find(name)
    except GpulessError:  # no engine here: the native server is the one
        return False
    return attrs is not None and bool((attrs.get("State") or {}).get("Running"))


def status(
    settings: Settings, compose_path: Path | None, runtime: str | None
) -> ContainerStatus | NativeStatus:
    """``gpuless status``: the container's, or the native server's."""
    from toolkit.adapters.docker.runner import DockerRunner
    from toolkit.adapters.native import readback

    _, found = runtime_here(settings, compose_path, runtime)
    if found is not None:
        return readback.status(found)
    return DockerRunner().status(container_here(settings, compose_path))


def verify(settings: Settings, compose_path: Path | None, runtime: str | None) -> VerifyReport:
    """``gpuless verify``: which settings took effect in the container, or in the native server."""
    from toolkit.adapters.docker.runner import DockerRunner
    from toolkit.adapters.native import readback

    _, found = runtime_here(settings, compose_path, runtime)
    if found is not None:
        return readback.verify(found)
    return DockerRunner().verify(container_here(settings, compose_path))
