"""What a native ``ollama serve`` really runs with, read from the process and the server (read-only).

The native counterpart of ``toolkit.adapters.docker.readback``: the process's environment and its
children's command lines through psutil (any process of this user on Linux and Windows; on macOS the
environment of another process may be refused, and the report then says so), the "server config" line
of its log, and the server's ``/api/version``, ``/api/show`` and ``/api/ps``. The comparison is
``toolkit.core.compose.verify_native``'s.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

from toolkit.adapters.native.record import NativeRecord, is_alive
from toolkit.adapters.ollama import admin as ollama_admin
from toolkit.core.compose.verify import VerifyReport
from toolkit.core.compose.verify_native import parse_server_config, verify_native
from toolkit.core.compose.verify_runner import parse_runner_args
from toolkit.errors import ContainerError, GpulessError

#: The most of a log read for its "server config" line (the line is near the start of each run).
LOG_TAIL_BYTES = 1 << 20


@dataclass(frozen=True)
class NativeStatus:
    """``gpuless status`` for a native server (the container's ``ContainerStatus`` fields that apply)."""

    runtime: str
    pid: int | None
    state: str
    url: str
    model: str
    served_model: str
    ollama_version: str | None
    log: str | None
    started_by_gpuless: bool

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def process_environment(pid: int) -> tuple[dict[str, str] | None, str]:
    """(the environment of process ``pid``, where it was read) or (None, why it could not be)."""
    where = f"/proc/{pid}/environ" if sys.platform.startswith("linux") else f"the environment of pid {pid}"
    try:
        return dict(psutil.Process(pid).environ()), where
    except psutil.AccessDenied:
        return None, f"this system refuses to show the environment of pid {pid}"
    except (psutil.Error, OSError, NotImplementedError) as error:
        return None, f"pid {pid} cannot be read ({type(error).__name__})"


def runner_command_lines(pid: int) -> str | None:
    """The command lines of ``pid``'s descendants, one per line (the runner's shows its settings)."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except (psutil.Error, OSError):
        return None
    lines = []
    for child in children:
        with contextlib.suppress(psutil.Error, OSError):
            lines.append(" ".join(child.cmdline()))
    return "\n".join(lines)


def memory_bytes(pid: int) -> int | None:
    """The resident memory of ``pid`` and its descendants (the server and its runners), None if unknown."""
    try:
        process = psutil.Process(pid)
        total = int(process.memory_info().rss)
        for child in process.children(recursive=True):
            with contextlib.suppress(psutil.Error, OSError):
                total += int(child.memory_info().rss)
    except (psutil.Error, OSError):
        return None
    return total


def listener_pid(port: int) -> int | None:
    """The process listening on TCP ``port`` on this machine, None when it cannot be told. macOS lists
    every socket only to root, so there the ``ollama`` processes of this user are asked one by one."""
    with contextlib.suppress(psutil.Error, OSError):
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
                return int(conn.pid)
        return None
    for process in psutil.process_iter(["name"]):
        if not str(process.info.get("name") or "").lower().startswith("ollama"):
            continue
        with contextlib.suppress(psutil.Error, OSError):
            for own in process.net_connections(kind="tcp"):
                if own.status == psutil.CONN_LISTEN and own.laddr and own.laddr.port == port:
                    return int(process.pid)
    return None


def server_config(log_path: str | None) -> dict[str, str] | None:
    """The "server config" values of the server's log file, None when there is none to read."""
    if log_path is None:
        return None
    path = Path(log_path)
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - LOG_TAIL_BYTES))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return None
    return parse_server_config(text)


def log_lines(
    record: NativeRecord, *, tail: int, follow: bool = False, max_seconds: float | None = None
) -> Iterator[str]:
    """The last ``tail`` lines of the recorded server's log file, then (``follow``) the lines added
    while its process runs, until ``max_seconds`` pass when given."""
    path = Path(record.log_path or "")
    try:
        handle = path.open("rb")
    except OSError as error:
        raise ContainerError(f"cannot read the native server's log {path}: {error.strerror}") from None
    with handle:
        size = handle.seek(0, 2)
        handle.seek(max(0, size - LOG_TAIL_BYTES))
        lines = handle.read().decode("utf-8", "replace").splitlines()
        yield from lines[-tail:] if tail else []
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        while follow and is_alive(record) and (deadline is None or time.monotonic() < deadline):
            line = handle.readline()
            if line:
                yield line.decode("utf-8", "replace").rstrip("\n")
            else:
                time.sleep(0.5)


def _version(url: str) -> str | None:
    try:
        return ollama_admin.api_version(url)
    except GpulessError:
        return None


def verify(record: NativeRecord) -> VerifyReport:
    """Read back which settings took effect in the recorded server (``core.compose.verify_native``); the
    served model is loaded first when it is not (as a first request would)."""
    spec = record.spec
    version = _version(spec.url)
    answers = version is not None
    params = ollama_admin.served_parameters(spec.url, spec.served_model) if answers else None
    if params is not None:
        ollama_admin.load_model(spec.url, spec.served_model)
    ps = ollama_admin.loaded_models(spec.url) if answers else None
    env: dict[str, str] | None = None
    unreadable = "gpuless does not know the server's process (it did not start it, and no listening"
    unreadable += " process could be found)"
    env_source = "the process environment"
    runner = None
    if record.pid is not None:
        env, env_source = process_environment(record.pid)
        unreadable = env_source
        runner = parse_runner_args(runner_command_lines(record.pid))
    who = "ollama serve" + (f" (pid {record.pid})" if record.pid is not None else "")
    return verify_native(
        spec,
        process=f"{who} at {spec.url}",
        env=env,
        env_source=env_source,
        server_config=server_config(record.log_path),
        config_source=record.log_path or "the server's log (not known)",
        answers=answers,
        ps=ps,
        runner=runner,
        served_parameters=params,
        version=version,
        unreadable=None if env is not None else unreadable,
    )


def status(record: NativeRecord) -> NativeStatus:
    """The state of the recorded server (whose process runs): "running" when its API answers, else
    "not answering"."""
    version = _version(record.url)
    state = "running" if version is not None else "not answering"
    return NativeStatus(
        runtime="native",
        pid=record.pid,
        state=state,
        url=record.url,
        model=record.spec.model,
        served_model=record.spec.served_model,
        ollama_version=version,
        log=record.log_path,
        started_by_gpuless=record.started_by_gpuless,
    )
