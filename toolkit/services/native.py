"""A native Ollama (no Docker), as both front ends use it: start or attach, then find, verify and stop.

``launch_native`` is the native ``launch``: start ``ollama serve`` with the spec's environment (or attach
to the one that answers at its address), record which process that is (``toolkit.adapters.native.record``,
so later commands find it), pull the model and create the served model, then read back what took effect.
``find_native`` is how ``verify``, ``status`` and ``tune`` find it again (``toolkit.services.readback``,
``toolkit.services.tuning``); ``bench``, ``chat`` and ``connect`` find it through
``toolkit.services.server_url``; ``stop_native`` is ``down --runtime native``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from toolkit.adapters.native import readback, record
from toolkit.adapters.native.record import NativeRecord
from toolkit.adapters.ollama import admin as ollama_admin
from toolkit.adapters.ollama.native import NativeResult, start_native
from toolkit.adapters.progress import ProgressCallback
from toolkit.core.compose.spec import OllamaServiceSpec
from toolkit.core.compose.verify import VerifyReport
from toolkit.errors import ContainerError
from toolkit.settings import Settings


@dataclass(frozen=True)
class NativeLaunched:
    """What a native launch did.

    Attributes:
        result: started or attached, the version, the process id and log of a started server.
        report: which settings took effect (None with ``pull_model`` off: no served model to load).
        recorded: False when gpuless could not tell which process serves (an attached server whose
            listening process this system does not show): later commands then cannot find it by itself.
    """

    result: NativeResult
    report: VerifyReport | None
    recorded: bool


def launch_native(
    spec: OllamaServiceSpec,
    settings: Settings,
    *,
    timeout: float = 60.0,
    pull_model: bool = True,
    progress: ProgressCallback | None = None,
    compose_path: Path | None = None,
) -> NativeLaunched:
    """Start (or attach to) the native server for ``spec``, record it, prepare the served model, verify."""
    result, recorded = start_recorded(spec, settings, timeout=timeout, compose_path=compose_path)
    if not pull_model:
        return NativeLaunched(result, None, recorded)
    return NativeLaunched(result, prepare_and_verify(spec, settings, progress), recorded)


def start_recorded(
    spec: OllamaServiceSpec, settings: Settings, *, timeout: float = 60.0, compose_path: Path | None = None
) -> tuple[NativeResult, bool]:
    """Start (or attach to) the native server for ``spec`` and record which process serves; (what was
    done, whether it could be recorded). A server gpuless started on that port with other settings is
    stopped and started again with these, as ``up`` recreates a container whose settings differ; with
    the same settings it is reused."""
    from toolkit.adapters.docker.project_lock import exclusive

    with exclusive(record.lock_name(spec.port), command="up"):  # not while a tune restarts it
        return _start_recorded(spec, settings, timeout, compose_path)


def _start_recorded(
    spec: OllamaServiceSpec, settings: Settings, timeout: float, compose_path: Path | None
) -> tuple[NativeResult, bool]:
    from toolkit.adapters.native.target import stop

    mine = record.find(settings.native_dir, spec.port)
    if mine is not None and mine.started_by_gpuless:
        if _environment(mine.spec) == _environment(spec):  # a model switch needs no restart
            version = ollama_admin.api_version(spec.url)
            record.save(settings.native_dir, replace(mine, spec=spec))
            reused = NativeResult(spec.url, "attached", version, mine.pid, mine.log_path, mine.executable)
            return reused, True
        stop(mine)
        record.forget(settings.native_dir, spec.port)
    result = start_native(spec, log_dir=settings.cache_dir, timeout=timeout)
    pid = result.pid if result.pid is not None else readback.listener_pid(spec.port)
    started_at = record.process_start(pid) if pid is not None else None
    if started_at is None:
        return result, False
    record.save(
        settings.native_dir,
        NativeRecord(
            spec=spec,
            pid=pid,
            started_at=started_at,
            started_by_gpuless=result.action == "started",
            log_path=result.log_path,
            executable=result.executable,
            compose_path=str(compose_path) if compose_path is not None else None,
        ),
    )
    return result, True


def _environment(spec: OllamaServiceSpec) -> tuple[str, int, dict[str, str]]:
    """What a native server runs with: its address and environment (a memory limit does not apply)."""
    return spec.bind_address, spec.port, spec.environment()


def prepare_and_verify(
    spec: OllamaServiceSpec, settings: Settings, progress: ProgressCallback | None = None
) -> VerifyReport:
    """Pull the model if needed, create the served model, and read back what took effect."""
    ollama_admin.prepare_served_model(spec.url, spec, progress)
    return readback.verify(record.find(settings.native_dir, spec.port) or _unrecorded(spec))


def _unrecorded(spec: OllamaServiceSpec) -> NativeRecord:
    return NativeRecord(spec=spec, pid=None, started_at=None, started_by_gpuless=False)


def find_native(settings: Settings, port: int | None = None) -> NativeRecord | None:
    """The native server gpuless started or attached to here (on ``port``, else the newest), or None."""
    return record.find(settings.native_dir, port)


def require_native(settings: Settings, port: int | None = None) -> NativeRecord:
    """``find_native``, or a ``ContainerError`` that says how to start one."""
    found = find_native(settings, port)
    if found is None:
        where = f" on port {port}" if port is not None else ""
        raise ContainerError(
            f"no native Ollama started by gpuless runs here{where}",
            "Start one with `gpuless up --runtime native`.",
        )
    return found


def native_log(
    settings: Settings, *, tail: int = 100, follow: bool = False, max_seconds: float | None = None
) -> Iterator[str]:
    """The last ``tail`` lines of the native server's log file; with ``follow`` the lines it adds until
    it exits (or ``max_seconds`` pass)."""
    found = require_native(settings)
    if found.log_path is None:
        raise ContainerError(
            f"gpuless did not start the Ollama at {found.url}, so it has no log file of it",
            "Read the log where it was started (the Ollama app: ~/.ollama/logs/server.log).",
        )
    return readback.log_lines(found, tail=tail, follow=follow, max_seconds=max_seconds)


def stop_native(settings: Settings, port: int | None = None) -> NativeRecord | None:
    """Stop the native server gpuless started (never one it attached to) and forget it; the record of
    what was stopped, None when none runs."""
    from toolkit.adapters.native.target import stop

    found = find_native(settings, port)
    if found is None:
        return None
    if not found.started_by_gpuless:
        raise ContainerError(
            f"the Ollama at {found.url} (pid {found.pid}) was not started by gpuless; leaving it running",
            "Stop it where it was started (the Ollama app, or its terminal).",
        )
    from toolkit.adapters.docker.project_lock import exclusive

    with exclusive(record.lock_name(found.spec.port), command="down"):
        stop(found)
        record.forget(settings.native_dir, found.spec.port)
    return found
