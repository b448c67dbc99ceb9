"""The one way gpuless reaches the Docker engine, and the one hint for when it cannot.

docker-py ≤ 7.1 reads only ``DOCKER_HOST`` and ignores Docker CLI contexts, so Docker Desktop on macOS
(no /var/run/docker.sock), Colima and a ``docker context use`` are invisible to ``docker.from_env``. The
docker CLI honours them: ``DOCKER_HOST`` first, else the current context's host. ``detect``, ``up``,
``down`` and the wizard all connect here, so an engine one of them finds is the engine all of them use.
"""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Mapping
from typing import Any

import docker
import docker.errors
import requests

from toolkit.core.machine.dockerinfo import describe_unreachable, parse_docker_info
from toolkit.core.machine.hardware import DockerEngineInfo
from toolkit.errors import DockerUnavailableError

#: What the Docker SDK raises when the engine stops answering or refuses (requests' errors are OSErrors).
ENGINE_ERRORS: tuple[type[BaseException], ...] = (
    docker.errors.DockerException,
    requests.exceptions.RequestException,
    OSError,
    ValueError,
)


def endpoint() -> str | None:
    """Where the docker CLI would connect: ``DOCKER_HOST``, else the current context's host (None: the
    default socket)."""
    if os.environ.get("DOCKER_HOST"):
        return os.environ["DOCKER_HOST"]
    try:
        from docker.context import ContextAPI

        context = ContextAPI.get_current_context()
        host = getattr(context, "Host", None) if context is not None else None
    except (docker.errors.DockerException, OSError, ValueError, KeyError, TypeError):
        return None  # a broken ~/.docker/config.json must not stop anything
    return str(host) if host else None


def unavailable_hint(system: str | None = None) -> str:
    """What to do when the engine does not answer, for this OS."""
    system = (system or platform.system()).lower()
    if system == "darwin":
        return (
            "Start Docker Desktop (or `colima start`) and wait until it says the engine is running; "
            "check `docker context ls` and DOCKER_HOST."
        )
    if system == "windows":
        return (
            "Start Docker Desktop and wait for 'Engine running' (WSL 2 backend); "
            "check DOCKER_HOST, or use --runtime native / --url."
        )
    return (
        "Start the engine (`sudo systemctl start docker`), and make sure you may use its socket "
        "(`sudo usermod -aG docker $USER`, then log in again); check DOCKER_HOST. "
        "Or use --runtime native / --url."
    )


def connect(timeout: float = 30.0) -> docker.DockerClient:
    """A docker-py client for the engine the docker CLI would use; DockerUnavailableError when it does
    not answer."""
    where = endpoint()
    seconds = max(1, math.ceil(timeout))
    try:
        if where is None or os.environ.get("DOCKER_HOST"):
            client = docker.from_env(timeout=seconds)
        else:
            client = docker.DockerClient(base_url=where, timeout=seconds)
        client.ping()
    except ENGINE_ERRORS as error:
        raise DockerUnavailableError(
            describe_unreachable(f"{type(error).__name__}: {error}", where), unavailable_hint()
        ) from None
    return client


def read_engine_info(client: docker.DockerClient) -> DockerEngineInfo:
    """``/info`` plus whether the engine has a bridge network (published ports need one)."""
    info: Mapping[str, Any] = client.info()
    try:
        networks: list[Mapping[str, Any]] | None = client.api.networks()
    except (docker.errors.DockerException, requests.exceptions.RequestException):
        networks = None
    return parse_docker_info(info, networks)
