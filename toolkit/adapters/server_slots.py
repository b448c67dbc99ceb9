"""How many request slots (OLLAMA_NUM_PARALLEL) the server behind a URL has, when gpuless runs it.

The bench's concurrency sweep cannot show what more slots would give when the server has fewer slots
than streams (the rest wait in a queue), so its advice needs the server's own value. Ollama does not
report it over HTTP (``/api/ps`` has no slot count), so it is read from the environment of the running
gpuless container whose spec serves that URL; for any other server it is unknown. The same lookup
names the container whose project lock a bench takes (a tune must not restart it under the bench).
"""

from __future__ import annotations

from typing import Any

import docker
import requests

from toolkit.adapters.docker_connect import connect
from toolkit.adapters.docker_readback import spec_of
from toolkit.core.compose import LABEL_MANAGED
from toolkit.core.verify import parse_env
from toolkit.core.wire import normalize_url
from toolkit.errors import GpulessError


def server_slots(url: str, *, timeout: float = 5.0) -> int | None:
    """OLLAMA_NUM_PARALLEL of the running gpuless container serving ``url``; None when none serves it,
    the variable is not set, or the engine does not answer (the advice then stays as measured)."""
    attrs = serving(url, timeout=timeout)
    if attrs is None:
        return None
    value = parse_env((attrs.get("Config") or {}).get("Env")).get("OLLAMA_NUM_PARALLEL", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def serving_container(url: str, *, timeout: float = 5.0) -> str | None:
    """The name of the running gpuless container serving ``url`` (whose project lock a bench of it
    takes), or None."""
    attrs = serving(url, timeout=timeout)
    return None if attrs is None else str(attrs.get("Name", "")).lstrip("/") or None


def serving(url: str, *, timeout: float = 5.0) -> dict[str, Any] | None:
    """The attributes of the running gpuless container serving ``url``, or None."""
    try:
        client = connect(timeout)
        containers = client.containers.list(filters={"label": LABEL_MANAGED, "status": "running"})
    except (GpulessError, docker.errors.DockerException, requests.exceptions.RequestException):
        return None
    want = normalize_url(url)
    for container in containers:
        attrs = container.attrs
        try:
            served = normalize_url(spec_of(attrs).url)
        except (KeyError, TypeError, ValueError, GpulessError):  # no or a damaged spec label
            continue
        if served == want:
            return dict(attrs)
    return None
