"""The one way tests run the gpuless CLI.

- ``run``: in this process (``toolkit.cli.main.main``): the exit code, stdout and stderr of a command. Fast,
  and what a test of a command's output wants; monkeypatched settings reach it.
- ``gpuless``: as a user runs it, a separate ``python -m toolkit`` process, for when a real process is the
  point: its start-up imports, a command that starts servers or containers and must leave nothing behind,
  an environment of its own, an exit code set by the interpreter.
- ``start``: the same in the background (signal tests), with Ctrl-C's default disposition as in a terminal.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from toolkit.cli.main import main

#: Seconds a command run as a process may take before the test fails.
TIMEOUT = 300.0


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as done:
        code = int(done.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def command(*args: str) -> list[str]:
    """The argv that runs ``gpuless ARGS`` with this interpreter (and so this worktree's code)."""
    return [sys.executable, "-m", "toolkit", *args]


def _env(env: Mapping[str, str] | None, inherit: bool = True) -> dict[str, str] | None:
    if env is None:
        return None
    return {**os.environ, **env} if inherit else dict(env)


def gpuless(
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = TIMEOUT,
    input: str | None = None,
    inherit: bool = True,
) -> subprocess.CompletedProcess[str]:
    """``gpuless ARGS`` as a process, its output captured as text; ``env`` is added to this process's
    environment, or (``inherit=False``) is the whole of it."""
    return subprocess.run(
        command(*args), cwd=cwd, env=_env(env, inherit), input=input, capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip


def one_error_line(stderr: str, *needles: str) -> str:
    """The one ``gpuless: error:`` line of ``stderr`` (a hint may follow), holding every needle; no
    traceback. What every refusal looks like to a user."""
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("gpuless: error:")]
    assert len(errors) == 1, stderr
    for needle in needles:
        assert needle in errors[0], stderr
    return errors[0]


def _default_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(
    *args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None, **popen: Any
) -> subprocess.Popen[str]:
    """``gpuless ARGS`` in the background, stdout and stderr piped (unless ``popen`` says otherwise).

    Ctrl-C gets its default disposition back, as in a terminal: a suite started with SIGINT ignored (a
    background job of a shell without job control) would pass that on, and the command's Python would
    then never raise KeyboardInterrupt."""
    options: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **popen}
    return subprocess.Popen(
        command(*args), cwd=cwd, env=_env(env), text=True, preexec_fn=_default_ctrl_c, **options
    )


class Lines:
    """A background command's stdout (``start``) read line by line in a thread, so a test can wait for a
    line while it polls something else."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._seen = threading.Condition()
        assert proc.stdout is not None
        self._thread = threading.Thread(target=self._read, args=(proc.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            with self._seen:
                self.lines.append(line)
                self._seen.notify_all()

    def wait_for(self, text: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._seen:
            while not any(text in line for line in self.lines):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._seen.wait(left)
        return True
