"""The record of a native server gpuless started or attached to: one small JSON file per port.

A container carries its spec in a label; a process does not. So ``gpuless up --runtime native`` writes
what it started (process id and start time, the spec, the log file, the ``ollama`` program, the compose
file it came from) into ``Settings.native_dir``, and ``verify``, ``status``, ``logs``, ``tune``,
``down``, ``bench``, ``chat`` and ``connect`` read it back. A record is trusted only while its process
is the same one: the id alone could have been reused by another program after a reboot, so the start
time must match too.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import psutil

from toolkit.adapters.json_file import read_section, write_section
from toolkit.core.compose.docker_args import spec_from_json, spec_to_json
from toolkit.core.compose.spec import OllamaServiceSpec
from toolkit.errors import GpulessError

FORMAT = 1
SECTION = "server"
#: Seconds two readings of a process's start time may differ by (psutil rounds it differently by OS).
START_SLACK_S = 1.0


@dataclass(frozen=True)
class NativeRecord:
    """A native server as gpuless left it.

    Attributes:
        spec: what it was started with (for an attached server: what gpuless asked for).
        pid: its process id; None when the listening process could not be found (attached).
        started_at: the process's start time (seconds since the epoch, psutil's create_time), with
            ``pid`` the proof that the process is still the same one.
        started_by_gpuless: gpuless started it (``tune`` may restart only such a server).
        log_path: where it writes its log (gpuless's file for a server it started), None if unknown.
        executable: the ``ollama`` program that was started.
        compose_path: the compose file its settings came from, None when they came from options.
    """

    spec: OllamaServiceSpec
    pid: int | None
    started_at: float | None
    started_by_gpuless: bool
    log_path: str | None = None
    executable: str | None = None
    compose_path: str | None = None

    @property
    def url(self) -> str:
        return self.spec.url


def lock_name(port: int) -> str:
    """The project lock of the native server on ``port`` (held by its tune, taken by a bench of it)."""
    return f"native-{port}"


def record_path(directory: Path, port: int) -> Path:
    return directory / f"ollama-{port}.json"


def process_start(pid: int) -> float | None:
    """The start time of process ``pid``, None when there is no such process (or it cannot be read)."""
    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.Error, OSError):
        return None


def save(directory: Path, record: NativeRecord) -> None:
    """Write ``record`` (atomically; the directory is created)."""
    entries = {
        "spec": spec_to_json(record.spec),
        "pid": record.pid,
        "started_at": record.started_at,
        "started_by_gpuless": record.started_by_gpuless,
        "log_path": record.log_path,
        "executable": record.executable,
        "compose_path": record.compose_path,
    }
    write_section(record_path(directory, record.spec.port), FORMAT, SECTION, entries)


def forget(directory: Path, port: int) -> None:
    with contextlib.suppress(FileNotFoundError):
        record_path(directory, port).unlink()


def load(path: Path) -> NativeRecord | None:
    """The record in ``path``; None when there is none or it is damaged (a damaged record is a server
    gpuless cannot vouch for, never a crash)."""
    raw = read_section(path, FORMAT, SECTION)
    try:
        spec = spec_from_json(str(raw["spec"]))
        pid, started = raw.get("pid"), raw.get("started_at")
        return NativeRecord(
            spec=spec,
            pid=pid if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0 else None,
            started_at=float(started) if isinstance(started, int | float) else None,
            started_by_gpuless=raw.get("started_by_gpuless") is True,
            log_path=_text(raw.get("log_path")),
            executable=_text(raw.get("executable")),
            compose_path=_text(raw.get("compose_path")),
        )
    except (KeyError, GpulessError, TypeError, ValueError):
        return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def is_alive(record: NativeRecord) -> bool:
    """Whether the recorded process still runs and is the same process (its start time matches)."""
    if record.pid is None or record.started_at is None:
        return False
    now = process_start(record.pid)
    return now is not None and abs(now - record.started_at) <= START_SLACK_S


def live_records(directory: Path) -> list[NativeRecord]:
    """The records whose process still runs, newest first; the stale ones are removed."""
    found: list[NativeRecord] = []
    for path in sorted(directory.glob("ollama-*.json")) if directory.is_dir() else ():
        record = load(path)
        if record is not None and is_alive(record):
            found.append(record)
        else:
            with contextlib.suppress(OSError):
                path.unlink()
    return sorted(found, key=lambda r: r.started_at or 0.0, reverse=True)


def find(directory: Path, port: int | None = None) -> NativeRecord | None:
    """The live record for ``port``; without a port the newest live one. None when there is none."""
    for record in live_records(directory):
        if port is None or record.spec.port == port:
            return record
    return None
