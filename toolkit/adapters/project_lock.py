"""One ``gpuless up`` or ``down`` at a time per container name, on this machine.

Two ``up`` runs racing for one name used to end with the loser removing the winner's container (and a
new models volume). An advisory lock file per name serialises them: the second run is told at once
that another one is at work, and touches nothing. The lock dies with its process, so a killed run
never leaves it held. The holder writes its PID into the file, so the refusal can name it. ``down``
waits a few seconds for the lock (an ``up`` that was just interrupted may still be removing what it
created), ``up`` does not. Where ``fcntl`` does not exist (Windows) there is no lock; removal by id and
label still keeps a loser from removing what it did not create.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from toolkit.errors import ContainerError


def lock_path(name: str, directory: Path | None = None) -> Path:
    """The lock file of container ``name`` (in ``directory``, else the system's temporary directory)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    base = directory or Path(tempfile.gettempdir())
    return base / f"gpuless-{safe}.lock"


#: How often a waiting caller tries the lock again.
POLL_S = 0.1


@contextlib.contextmanager
def exclusive(name: str, directory: Path | None = None, *, wait_s: float = 0.0) -> Iterator[None]:
    """Hold the lock of ``name`` for the block. When another process holds it, try again for up to
    ``wait_s`` seconds, then raise ContainerError (at once with the default 0)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here
        yield
        return
    path = lock_path(name, directory)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield  # an unwritable lock directory must not stop the user; the id/label rules still hold
        return
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _holder(fd)
                    raise ContainerError(
                        f"another `gpuless up` or `gpuless down`{holder} is working on {name} right now",
                        "Wait for it to finish, then run this again.",
                    ) from None
                time.sleep(POLL_S)
        with contextlib.suppress(OSError):  # the PID is for the message only
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    """`` (pid N)`` as the holder wrote it in the lock file, or nothing when it cannot be read."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return f" (pid {text})" if text.isdigit() else ""
