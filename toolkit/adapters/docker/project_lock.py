"""One gpuless command at a time that restarts or measures a container, per container name and user.

Two ``up`` runs racing for one name used to end with the loser removing the winner's container (and a
new models volume); two tunes, or a tune and a bench, restarted the container under each other. An
advisory lock file per name serialises them: the second run is told at once which command holds it
(``up``, ``down``, ``tune``, ``bench``), and touches nothing. The lock dies with its process, so a
killed run never leaves it held. ``down`` waits a few seconds for the lock (an ``up`` that was just
interrupted may still be removing what it created), the others do not. A process that holds a name's
lock may take it again (tune restarts the container through ``up``).

The lock files live in a directory of the user's own (``$XDG_RUNTIME_DIR/gpuless``, else the user cache
directory), created 0700; each file is opened without following a symlink, 0600, so nobody else can
pre-create it to block every ``up`` or point it at a file of the user's to be truncated. Where
``fcntl`` does not exist (Windows) there is no lock; removal by id and label still keeps a loser from
removing what it did not create.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

from toolkit.errors import ContainerError

#: How often a waiting caller tries the lock again.
POLL_S = 0.1

_held: dict[str, int] = {}  # lock files this process holds, and how many blocks hold each


def lock_dir() -> Path:
    """The per-user directory of the lock files: ``$XDG_RUNTIME_DIR/gpuless`` when that is set (a
    tmpfs only this user can write), else ``locks`` in the user cache directory."""
    from platformdirs import user_cache_dir

    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime):
        return Path(runtime) / "gpuless"
    return Path(user_cache_dir("gpuless")) / "locks"


def lock_path(name: str, directory: Path | None = None) -> Path:
    """The lock file of container ``name`` (in ``directory``, else ``lock_dir()``)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    return (directory or lock_dir()) / f"gpuless-{safe}.lock"


def _open(path: Path) -> int:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    return os.open(path, flags, 0o600)


@contextlib.contextmanager
def exclusive(
    name: str, directory: Path | None = None, *, wait_s: float = 0.0, command: str = "up"
) -> Iterator[None]:
    """Hold the lock of ``name`` for the block (``command`` names this run to one that is refused).
    When another process holds it, try again for up to ``wait_s`` seconds, then raise ContainerError
    (at once with the default 0)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here
        yield
        return
    path = lock_path(name, directory)
    key = str(path)
    if key in _held:  # this process holds it already (tune's restarts go through `up`)
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    try:
        fd = _open(path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise ContainerError(
                f"the lock file {path} is a symbolic link; not following it",
                "Remove it (someone else may have planted it), then run this again.",
            ) from None
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
                    raise ContainerError(
                        f"another {_holder(fd)} is working on {name} right now",
                        "Wait for it to finish, then run this again.",
                    ) from None
                time.sleep(POLL_S)
        with contextlib.suppress(OSError):  # the PID and command are for the message only
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {command}\n".encode(), 0)
        _held[key] = 1
        try:
            yield
        finally:
            del _held[key]
    finally:
        os.close(fd)


def holder_pid(path: Path) -> int | None:
    """The PID the holder of the lock file at ``path`` wrote, or None."""
    try:
        first = path.read_text(encoding="ascii", errors="replace").split()
    except OSError:
        return None
    return int(first[0]) if first and first[0].isdigit() else None


def _holder(fd: int) -> str:
    """```gpuless tune` (pid N)`` as the holder wrote it in the lock file, or `gpuless` run."""
    try:
        words = os.pread(fd, 64, 0).decode("ascii", "replace").split()
    except OSError:
        words = []
    pid = f" (pid {words[0]})" if words and words[0].isdigit() else ""
    named = words[1:]  # one word or more: `tune`, `models fetch`
    command = " ".join(named) if named and all(word.isalpha() for word in named) else ""
    return f"`gpuless {command}`{pid}" if command else f"gpuless run{pid}"
