"""How many request slots (OLLAMA_NUM_PARALLEL) the server behind a URL has, when gpuless runs it.

The bench's concurrency sweep cannot show what more slots would give when the server has fewer slots
than streams (the rest wait in a queue), so its advice needs the server's own value. Ollama does not
report it over HTTP (``/api/ps`` has no slot count), so it is read from the running gpuless container
whose spec serves that URL: the loaded runner's ``-np`` where its command line shows it (Ollama forces one
slot for embedding models and some architectures whatever OLLAMA_NUM_PARALLEL says, server/sched.go),
else the container's OLLAMA_NUM_PARALLEL; for any other server it is unknown. The same lookup names the
container whose project lock a bench takes (a tune must not restart it under the bench).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import docker
import requests

from toolkit.adapters.docker.engine import connect
from toolkit.adapters.docker.readback import CMDLINES, spec_of
from toolkit.core.compose.spec import LABEL_MANAGED
from toolkit.core.compose.verify import parse_env
from toolkit.core.compose.verify_runner import parse_runner_args
from toolkit.core.wire import normalize_url
from toolkit.errors import GpulessError


def server_slots(url: str, *, timeout: float = 5.0) -> int | None:
    """The slots of the running gpuless container serving ``url`` (its runner's ``-np``, else its
    OLLAMA_NUM_PARALLEL); None when none serves it, neither can be read, or the engine does not answer
    (the advice then stays as measured)."""
    found = serving(url, timeout=timeout)
    if found is None:
        return None
    container, attrs = found
    runner = None
    try:
        code, output = container.exec_run(["sh", "-c", CMDLINES])
        if code == 0 and isinstance(output, bytes):
            runner = parse_runner_args(output.decode("utf-8", "replace"))
    except (docker.errors.DockerException, requests.exceptions.RequestException):
        runner = None
    if runner is not None and runner.parallel:
        return runner.parallel
    value = parse_env((attrs.get("Config") or {}).get("Env")).get("OLLAMA_NUM_PARALLEL", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def serving_container(url: str, *, timeout: float = 5.0, native_dir: Path | None = None) -> str | None:
    """The name of the project lock a bench of ``url`` takes: the running gpuless container's that
    serves it, else (with ``native_dir``) that of the native server gpuless recorded there; or None."""
    found = serving(url, timeout=timeout)
    if found is not None:
        return str(found[1].get("Name", "")).lstrip("/") or None
    if native_dir is not None:
        from toolkit.adapters.native.record import live_records, lock_name

        want = normalize_url(url)
        for native in live_records(native_dir):
            if normalize_url(native.url) == want:
                return lock_name(native.spec.port)
    return None


def serving(url: str, *, timeout: float = 5.0) -> tuple[Any, dict[str, Any]] | None:
    """The running gpuless container serving ``url`` and its attributes, or None."""
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
            return container, dict(attrs)
    return None
