"""Write compose.yaml without ever losing the user's file, and read it back.

An existing file that differs is not overwritten unless ``force`` is given or it is a gpuless file
nobody edited (a new plan, e.g. another model, then replaces it); the refusal carries a unified diff
so the user sees what would change. Before a replacement the old file is copied to a timestamped
backup next to it. The new text goes to a temporary file in the same directory and is
moved into place with ``os.replace``, so a crash leaves either the old file or the new one, never half.
Only a regular file of bounded size is read (a FIFO at that name would block forever).
"""

from __future__ import annotations

import contextlib
import difflib
import os
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from toolkit.core.compose.read import ComposeFileSpec, read_compose_text
from toolkit.core.compose.render import render_compose_yaml
from toolkit.core.compose.spec import OllamaServiceSpec
from toolkit.core.compose.yaml_budget import MAX_BYTES
from toolkit.core.units import format_bytes
from toolkit.errors import ComposeFileExistsError, UsageError


@dataclass(frozen=True)
class WriteResult:
    """What happened to the file.

    Attributes:
        path: the compose file.
        outcome: "created" (no file before), "unchanged" (same text already there), "replaced" (forced).
        backup: where the previous file was copied, when it was replaced.
        diff: unified diff from the old text to the new one ("" when created or unchanged).
    """

    path: Path
    outcome: Literal["created", "unchanged", "replaced"]
    backup: Path | None = None
    diff: str = ""


def unified_diff(old: str, new: str, path: Path) -> str:
    """The change from ``old`` to ``new`` as a unified diff labelled with the file name."""
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"{path} (current)",
            tofile=f"{path} (generated)",
        )
    )


def backup_path(path: Path, now: float | None = None) -> Path:
    """``compose.yaml`` → ``compose.yaml.20250101-120000.bak`` (a counter is added if that exists)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    candidate = path.with_name(f"{path.name}.{stamp}.bak")
    counter = 1
    while os.path.lexists(candidate):  # a dangling symlink counts: it is never written through
        candidate = path.with_name(f"{path.name}.{stamp}-{counter}.bak")
        counter += 1
    return candidate


def write_compose(path: Path, text: str, *, force: bool = False) -> WriteResult:
    """Write ``text`` to ``path`` safely (see the module docstring)."""
    if path.is_dir():
        raise UsageError(f"{path} is a directory", "Pass a file name, e.g. --output ./compose.yaml.")
    shown, path = path, real_target(path)
    if path.exists():
        try:
            old = read_regular_text(path)
        except (OSError, UnicodeDecodeError) as error:
            raise UsageError(f"cannot read the existing {path}: {error}") from None
        if old == text:
            return WriteResult(path, "unchanged")
        diff = unified_diff(old, text, shown)
        if not force and not _unedited_gpuless_file(old):
            raise ComposeFileExistsError(
                f"{path} exists and differs from the generated file; not overwriting it",
                "Review the diff above, then run again with --force (a backup is kept), "
                "or write elsewhere with --output.",
                diff=diff,
            )
        backup = _keep_backup(path)
        _atomic_write(path, text)
        return WriteResult(shown, "replaced", backup, diff)
    _atomic_write(path, text)
    return WriteResult(shown, "created")


def real_target(path: Path) -> Path:
    """``path``, or the file it points to when it is a symbolic link (UsageError when that file does
    not exist: writing would create a file wherever the link points)."""
    if not path.is_symlink():
        return path
    target = Path(os.path.realpath(path))
    if not target.is_file():
        raise UsageError(
            f"{path} is a symbolic link to {target}, which is not a file; not writing through it",
            "Point the link at your compose file, or remove it.",
        )
    return target


def check_writable(path: Path) -> None:
    """UsageError unless a new version of ``path`` (and a backup) can be written in its directory: a
    temporary file is created there and removed again."""
    target = real_target(path)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".probe", dir=directory)
        os.close(fd)
        os.unlink(name)
    except OSError as error:
        raise UsageError(
            f"cannot write in {directory} ({error.strerror or error}), where {path} and its backup go",
            "Make the directory writable, or copy the project to a writable one.",
        ) from None


def _keep_backup(path: Path) -> Path:
    """Copy ``path`` to a new backup file beside it, created exclusively (``O_EXCL``, no symlink
    followed): a name someone planted is skipped, never written through."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        backup = backup_path(path)
        try:
            fd = os.open(backup, flags, 0o600)
        except FileExistsError:  # taken between the look and the open
            continue
        except OSError as error:
            raise _backup_error(path, backup, error) from None
        try:
            with os.fdopen(fd, "wb") as out, path.open("rb") as source:
                shutil.copyfileobj(source, out)
            shutil.copystat(path, backup)
        except OSError as error:
            with contextlib.suppress(OSError):
                os.unlink(backup)
            raise _backup_error(path, backup, error) from None
        return backup
    raise UsageError(f"cannot find a free backup name for {path}; nothing was changed")


def _backup_error(path: Path, backup: Path, error: OSError) -> UsageError:
    return UsageError(
        f"cannot keep a backup of {path} as {backup.name}: {error.strerror or error}; nothing was changed",
        "Make its directory writable, or write elsewhere with --output.",
    )


def _unedited_gpuless_file(text: str) -> bool:
    """A file gpuless generated and nobody edited since: replacing it (with a backup) loses nothing of
    the user's, so a new plan (another model, say) may update it without --force."""
    try:
        return not read_compose_text(text).edited
    except UsageError:
        return False


def _atomic_write(path: Path, text: str) -> None:
    directory = path.parent if str(path.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp_name, mode)
            os.replace(tmp_name, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None


def read_regular_text(path: Path, limit: int = MAX_BYTES) -> str:
    """The text of ``path`` when it is a regular file (symlinks followed) of at most ``limit`` bytes;
    UsageError otherwise. A FIFO, a device or a socket is refused before it is opened: reading one
    blocks until something writes to it, or never ends. UnicodeDecodeError goes up as it is."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(
                f"{path} is not a regular file (a FIFO, device or socket); not reading it",
                "Point -f at a compose file, or remove what stands at that name.",
            )
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise UsageError(f"{path} is larger than {format_bytes(limit)}; not reading it")
    return data.decode("utf-8")


def read_compose_file(path: Path) -> ComposeFileSpec:
    """The spec a gpuless compose file describes (the user's edits included); UsageError if unreadable."""
    try:
        text = read_regular_text(path)
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise UsageError(
            f"{path} is not UTF-8 text (byte 0x{error.object[error.start]:02x} at offset {error.start})",
            "Save it as UTF-8, or point -f at another compose file.",
        ) from None
    try:
        return read_compose_text(text)
    except UsageError as error:
        raise UsageError(f"{path}: {error.message}", error.hint) from None


def managed_names(path: Path | None, default: tuple[str, str]) -> tuple[str, str]:
    """(container, volume) that ``gpuless up`` would start here: those of ``path`` when given, else of
    ./compose.yaml when gpuless wrote it, else ``default`` (the configured names).

    A ``path`` the user named must be readable; a ./compose.yaml that is not gpuless's is passed over.
    """
    spec = read_compose_file(path).spec if path is not None else spec_here()
    return (spec.container_name, spec.volume_name) if spec is not None else default


def spec_here(path: Path = Path("compose.yaml")) -> OllamaServiceSpec | None:
    """The spec of ``path`` (./compose.yaml) when gpuless wrote it (and it reads), else None."""
    if not path.is_file():
        return None
    try:
        return read_compose_file(path).spec
    except UsageError:
        return None


def sync_compose_file(path: Path, spec: OllamaServiceSpec) -> str | None:
    """After a server was started from ``spec`` without its file (a model switch in the wizard, or
    ``gpuless up --model``): bring the compose file at ``path`` in line through the safe write, or say
    plainly why not. Returns one line for the user, None when there is no file or nothing to say."""
    if not path.is_file():
        return None
    try:
        current = read_compose_file(path).spec
    except UsageError:
        return None  # not a gpuless file: it does not describe this server
    if current.container_name != spec.container_name:
        return None  # another server's file
    text = render_compose_yaml(spec)
    try:
        result = write_compose(path, text)
    except ComposeFileExistsError:
        return (
            f"The running server ({spec.served_model}) differs from your edited {path}; "
            f"`gpuless up` would start the file's {current.model} again. "
            f"Regenerate it with `gpuless compose --model {spec.model} --force` (a backup is kept)."
        )
    except UsageError as error:
        return f"{path} was not updated: {error.message}"
    if result.outcome == "replaced":
        return f"Updated {path} for {spec.model} (the previous file is kept as {result.backup})."
    return None
