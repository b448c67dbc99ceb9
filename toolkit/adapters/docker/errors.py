"""docker-py and requests errors in ``toolkit.errors`` terms, and a name conflict said plainly.

Every Docker SDK call of ``toolkit.adapters`` runs inside ``translate(action)``, so one table turns an
engine refusal, a missing image or an engine that stopped answering into one clear error.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import docker
import docker.errors
import requests

from toolkit.adapters.docker.engine import unavailable_hint
from toolkit.errors import (
    ContainerError,
    DockerError,
    DockerUnavailableError,
    GpulessError,
    ImageError,
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
