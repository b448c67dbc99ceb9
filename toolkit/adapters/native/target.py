"""A native ``ollama serve`` as ``gpuless tune`` restarts it: stop the process, start it with the
candidate's environment, re-create the served model, record what runs.

The tuner (``toolkit.adapters.tune.tuner``) treats it as it treats the container (``Target``): it restores the
start on any failure or signal and reads back what runs afterwards (``check``). Only a server gpuless
started is restarted: one started by the Ollama app or by hand belongs to someone else.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import psutil

from toolkit.adapters.native import readback
from toolkit.adapters.native.record import NativeRecord, is_alive, process_start, save
from toolkit.adapters.ollama import admin as ollama_admin
from toolkit.adapters.ollama.native import start_native
from toolkit.core.compose.spec import OllamaServiceSpec
from toolkit.core.tune.knobs import Knobs
from toolkit.errors import GpulessError, OllamaError

#: Seconds a stopped server has to exit after SIGTERM before it is killed.
STOP_TIMEOUT_S = 20.0


def stop(record: NativeRecord) -> None:
    """Stop the recorded server and its runners (its session: gpuless started it in a new one), only
    while it is still the same process; wait until it has exited."""
    if record.pid is None or not is_alive(record):
        return
    try:
        process = psutil.Process(record.pid)
        group = os.getpgid(record.pid) == record.pid  # its own session: the runners go with it
    except (psutil.Error, OSError):
        return
    try:
        if group:
            os.killpg(record.pid, signal.SIGTERM)
        else:
            process.terminate()
        process.wait(STOP_TIMEOUT_S)
    except psutil.TimeoutExpired:
        if group:
            os.killpg(record.pid, signal.SIGKILL)
        else:
            process.kill()
        process.wait(STOP_TIMEOUT_S)
    except (psutil.NoSuchProcess, ProcessLookupError):
        return


def start(record: NativeRecord, spec: OllamaServiceSpec, directory: Path, *, timeout: float) -> NativeRecord:
    """Start ``spec`` natively as ``record``'s server was (same program, same log directory), save the
    new record in ``directory`` and create its served model. Raises ``GpulessError`` when it cannot
    start."""
    log_dir = Path(record.log_path).parent if record.log_path else None
    if log_dir is None:
        raise OllamaError("the native server's log directory is not known; cannot restart it")
    result = start_native(spec, log_dir=log_dir, timeout=timeout, executable=record.executable)
    if result.pid is None:
        raise OllamaError(f"another server answers at {spec.url}; gpuless did not start it")
    new = NativeRecord(
        spec=spec,
        pid=result.pid,
        started_at=process_start(result.pid),
        started_by_gpuless=True,
        log_path=result.log_path,
        executable=record.executable,
        compose_path=record.compose_path,
    )
    save(directory, new)
    ollama_admin.prepare_served_model(spec.url, spec)
    return new


class NativeTarget:
    """The native server of a record, restarted through ``stop`` and ``start`` for each candidate."""

    def __init__(self, record: NativeRecord, directory: Path, *, health_timeout: float = 120.0) -> None:
        if not record.started_by_gpuless:
            raise OllamaError(
                f"the server at {record.url} was not started by gpuless; tune restarts the server",
                "Stop it, start it with `gpuless up --runtime native`, then tune.",
            )
        self.directory = directory
        self.record = record
        self.start_spec = record.spec
        self.health_timeout = health_timeout
        self.url = record.url
        self.model = record.spec.served_model

    def spec_for(self, knobs: Knobs) -> OllamaServiceSpec:
        """The start spec with ``knobs`` (a native server has no memory limit to grow)."""
        if knobs == Knobs.of(self.start_spec):
            return self.start_spec
        return knobs.apply_to(self.start_spec, self.start_spec.mem_limit_bytes)

    def apply(self, knobs: Knobs) -> None:
        stop(self.record)
        self.record = start(self.record, self.spec_for(knobs), self.directory, timeout=self.health_timeout)

    def memory_bytes(self) -> int | None:
        return readback.memory_bytes(self.record.pid) if self.record.pid is not None else None

    def check(self, knobs: Knobs) -> str | None:
        if not is_alive(self.record):
            return f"the native server (pid {self.record.pid}) has exited"
        if self.record.spec != self.spec_for(knobs):
            return "the native server runs another configuration"
        try:
            ollama_admin.api_version(self.url)
        except GpulessError as error:
            return f"the native server (pid {self.record.pid}) does not answer ({error.message})"
        return None
