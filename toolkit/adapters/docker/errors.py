"""docker-py and requests errors in ``toolkit.errors`` terms, and the checks made before creating.

Every Docker SDK call of ``toolkit.adapters`` runs inside ``translate(action)``, so one table turns an
engine refusal, a missing image or an engine that stopped answering into one clear error.
"""

from __future__ import annotations

import contextlib
import errno
import socket
from collections.abc import Iterator

import docker
import docker.errors
import requests

from toolkit.adapters.docker.connect import unavailable_hint
from toolkit.errors import (
    ContainerError,
    DockerError,
    DockerUnavailableError,
    GpulessError,
    ImageError,
    PortInUseError,
    UsageError,
)


@contextlib.contextmanager
def translate(action: str) -> Iterator[None]:
    """Turn docker-py / requests errors raised while doing ``action`` into toolkit errors."""
    try:
        yield
    except GpulessError:
        raise
    except docker.errors.ImageNotFound as error:
        raise ImageError(
            f"{action}: {explain(error)}", "Pull the image or pass another with --image."
        ) from None
    except docker.errors.APIError as error:
        raise ContainerError(f"{action}: {explain(error)}") from None
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as error:
        raise DockerUnavailableError(
            f"{action}: the Docker engine stopped answering ({type(error).__name__})", unavailable_hint()
        ) from None
    except docker.errors.DockerException as error:
        raise DockerError(f"{action}: {error}") from None


def explain(error: docker.errors.APIError) -> str:
    text = error.explanation if isinstance(error.explanation, str) else str(error)
    return " ".join(text.split())[:300]


def is_memlock_refusal(text: str) -> bool:
    """The engine's start error for a refused memlock ulimit (RLIMIT_MEMLOCK is rlimit type 8)."""
    lowered = text.lower()
    return "rlimit type 8" in lowered or "memlock" in lowered


def check_address(address: str) -> None:
    """Raise UsageError when this machine has no interface with ``address`` (nothing could bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address, 0))
        except OSError as error:
            if error.errno == errno.EADDRNOTAVAIL:
                raise UsageError(
                    f"cannot listen on {address}: no network interface of this machine has that address",
                    "Write 127.0.0.1 (loopback), 0.0.0.0 (every address) or one `ip -4 addr` lists.",
                ) from None
            raise


def check_port_free(address: str, port: int) -> None:
    """Raise PortInUseError when something already listens on ``address:port``."""
    check_address(address)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                raise PortInUseError(
                    f"port {port} on {address} is already in use",
                    f"Stop whatever listens there (another Ollama? `ss -ltnp 'sport = :{port}'`), "
                    f"or choose another port with --port.",
                ) from None
            raise


@contextlib.contextmanager
def name_conflict(name: str) -> Iterator[None]:
    """A create refused because the name is taken (someone started it meanwhile) is said plainly."""
    try:
        yield
    except docker.errors.APIError as error:
        if error.status_code == 409:
            raise ContainerError(
                f"a container named {name} appeared while this one was being created "
                "(another `gpuless up` or `docker compose up`?); nothing of it was touched",
                "Check it with `gpuless status`; run `gpuless up` again once it has settled.",
            ) from None
        raise
