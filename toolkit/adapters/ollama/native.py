"""Run Ollama without Docker: start a local ``ollama serve``, or attach to one that already runs.

``--runtime native`` is for machines where Ollama is installed natively (macOS with Metal, or no
Docker); the same spec supplies the environment (context length, parallelism, KV cache ...), while the
container-only knobs (memory limit, cpus, memlock) do not apply. ``--url`` attaches to any running
Ollama and only checks that it answers. The server is started in its own session, so it outlives
gpuless; its output goes to a log file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from toolkit.adapters.critical import unblock_in_child
from toolkit.adapters.ollama import admin as ollama_admin
from toolkit.adapters.ports import check_port_free
from toolkit.core.compose.spec import OllamaServiceSpec
from toolkit.core.target import check_target
from toolkit.errors import OllamaError, OllamaUnreachableError


@dataclass(frozen=True)
class NativeResult:
    """What ``--runtime native`` / ``--url`` did.

    Attributes:
        url: where Ollama answers.
        action: "started" (gpuless launched ``ollama serve``), "attached" (one was already answering).
        version: Ollama's version.
        pid: the started server's process id (None when attached).
        log_path: where the started server writes its output.
        executable: the ``ollama`` program started (None when attached).
    """

    url: str
    action: Literal["started", "attached"]
    version: str
    pid: int | None = None
    log_path: str | None = None
    executable: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def attach(url: str, *, wait_s: float = 0.0) -> NativeResult:
    """Check that ``url`` is a server URL gpuless may talk to (``check_target``: the user typed it, so
    any host is allowed, as for bench) and that an Ollama answers there (within ``wait_s`` seconds)."""
    check_target(url, explicit=True, command="up")
    if wait_s:
        return NativeResult(url, "attached", ollama_admin.wait_until_answers(url, timeout=wait_s))
    return NativeResult(url=url, action="attached", version=ollama_admin.api_version(url))


def native_environment(spec: OllamaServiceSpec, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for ``ollama serve``: the caller's plus the spec's, listening on loopback."""
    env = dict(os.environ if base is None else base)
    env.update(spec.environment())
    env["OLLAMA_HOST"] = f"{spec.bind_address}:{spec.port}"
    return env


def start_native(
    spec: OllamaServiceSpec, *, log_dir: Path, timeout: float = 60.0, executable: str | None = None
) -> NativeResult:
    """Start ``ollama serve`` for ``spec`` unless an Ollama already answers at ``spec.url``."""
    with contextlib.suppress(OllamaUnreachableError):
        return NativeResult(url=spec.url, action="attached", version=ollama_admin.api_version(spec.url))
    binary = executable or shutil.which("ollama")
    if binary is None:
        raise OllamaError(
            "--runtime native needs the `ollama` program, and it is not on PATH",
            "Install it from https://ollama.com/download, or use --runtime docker, or --url to attach.",
        )
    check_port_free(spec.bind_address, spec.port)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"ollama-serve-{spec.port}.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [binary, "serve"],
            env=native_environment(spec),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # started inside a signals_deferred block (tune's restart), it would inherit SIGTERM blocked
            preexec_fn=unblock_in_child if hasattr(signal, "pthread_sigmask") else None,
        )
    try:
        version = _wait_for(process, spec.url, timeout, log_path)
    except BaseException:
        _stop(process)
        raise
    return NativeResult(spec.url, "started", version, process.pid, str(log_path), binary)


def _wait_for(process: subprocess.Popen[bytes], url: str, timeout: float, log_path: Path) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise OllamaError(
                f"`ollama serve` exited with code {process.returncode} before answering: {_tail(log_path)}",
                f"Read {log_path}.",
            )
        with contextlib.suppress(OllamaUnreachableError):
            return ollama_admin.api_version(url, timeout=1.0)
        time.sleep(0.25)
    raise OllamaError(f"`ollama serve` did not answer at {url} within {timeout:.0f} s", f"Read {log_path}.")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _tail(path: Path) -> str:
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1][:200] if lines else "no output"
