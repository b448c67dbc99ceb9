"""One ``gpuless up`` or ``down`` at a time per container name, on this machine.

Two ``up`` runs racing for one name used to end with the loser removing the winner's container (and a
new models volume). An advisory lock file per name serialises them: the second run is told at once
that another one is at work, and touches nothing. The lock dies with its process, so a killed run
never leaves it held. Where ``fcntl`` does not exist (Windows) there is no lock; removal by id and
label still keeps a loser from removing what it did not create.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from toolkit.errors import ContainerError


def lock_path(name: str, directory: Path | None = None) -> Path:
    """The lock file of container ``name`` (in ``directory``, else the system's temporary directory)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    base = directory or Path(tempfile.gettempdir())
    return base / f"gpuless-{safe}.lock"


@contextlib.contextmanager
def exclusive(name: str, directory: Path | None = None) -> Iterator[None]:
    """Hold the lock of ``name`` for the block; ContainerError at once when another process holds it."""
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
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ContainerError(
                f"another `gpuless up` or `gpuless down` is working on {name} right now",
                "Wait for it to finish, then run this again.",
            ) from None
        yield
    finally:
        os.close(fd)
