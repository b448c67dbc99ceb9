"""Model archives and folders on this machine: read under every check of ``core.models.archive``, and
written as one tar stream (an export's file or stdout, an import's upload into the volume).

Reading hashes every blob before the caller writes anything; the tar is written by hand (PAX headers,
512-byte blocks) so that it streams: no temporary copy of a multi-gigabyte model is ever made.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tarfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from toolkit.core.models.archive import (
    SUMS,
    ArchiveIndex,
    ArchiveModel,
    Kind,
    Member,
    check_blob,
    check_contents,
    clean_path,
    index_members,
    parse_sums,
)
from toolkit.core.models.manifest import MAX_MANIFEST_BYTES
from toolkit.errors import ModelArchiveError

CHUNK = 1024 * 1024
#: Bytes done, bytes in all; called as a copy goes.
Progress = Callable[[int, int], None]


class ByteCount:
    """Counts the bytes of a copy as they pass and reports the running total to ``progress``."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total = total
        self.done = 0
        self._progress = progress

    def __call__(self, count: int) -> None:
        self.done += count
        if self._progress:
            self._progress(self.done, self.total)


class Source(Protocol):
    """An archive or a folder: its entries, and each file's bytes."""

    name: str

    def members(self) -> list[Member]: ...

    def open(self, path: str) -> AbstractContextManager[IO[bytes]]: ...


def _kind_of_tar(info: tarfile.TarInfo) -> Kind:
    if info.isreg():
        return "file"
    if info.isdir():
        return "dir"
    if info.issym():
        return "symlink"
    if info.islnk():
        return "hardlink"
    if info.ischr() or info.isblk() or info.isfifo():
        return "device"
    return "other"


class TarSource:
    """An uncompressed tar file (what ``gpuless models export -o FILE.tar`` writes)."""

    def __init__(self, path: Path) -> None:
        self.name = str(path)
        self._size = path.stat().st_size
        try:
            self._tar = tarfile.open(path, mode="r:")  # noqa: SIM115 (open while the source is used)
            self._infos = {info.name: info for info in self._tar.getmembers()}
        except (tarfile.TarError, EOFError) as error:
            raise ModelArchiveError(
                f"refused: {path} is not a readable tar archive (truncated or damaged: {error})"
            ) from None
        for info in self._infos.values():
            if info.isreg() and info.offset_data + info.size > self._size:
                raise ModelArchiveError(
                    f"refused: {path} ends inside {info.name!r}: the archive is truncated "
                    "(nothing was written)"
                )

    def members(self) -> list[Member]:
        return [Member(info.name, _kind_of_tar(info), info.size) for info in self._tar.getmembers()]

    @contextmanager
    def open(self, path: str) -> Iterator[IO[bytes]]:
        by_path = {clean_path(name): info for name, info in self._infos.items()}
        data = self._tar.extractfile(by_path[path])
        if data is None:
            raise ModelArchiveError(f"refused: {path} is not a file")
        yield data


class FolderSource:
    """A folder (what ``gpuless models export -o DIR`` writes); nothing in it is followed."""

    def __init__(self, path: Path) -> None:
        self.name = str(path)
        self._root = path

    def members(self) -> list[Member]:
        found: list[Member] = []
        pending = [""]
        while pending:
            relative = pending.pop()
            with os.scandir(self._root / relative if relative else self._root) as entries:
                for entry in entries:
                    path = f"{relative}/{entry.name}" if relative else entry.name
                    mode = entry.stat(follow_symlinks=False).st_mode
                    if stat.S_ISLNK(mode):
                        found.append(Member(path, "symlink", 0))
                    elif stat.S_ISDIR(mode):
                        found.append(Member(path, "dir", 0))
                        pending.append(path)
                    elif stat.S_ISREG(mode):
                        found.append(Member(path, "file", entry.stat(follow_symlinks=False).st_size))
                    else:
                        found.append(Member(path, "device", 0))
        return found

    @contextmanager
    def open(self, path: str) -> Iterator[IO[bytes]]:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        with os.fdopen(os.open(self._root / path, flags), "rb") as data:
            yield data


def open_source(path: Path) -> Source:
    """The archive or folder at ``path``; UsageError-type refusals for anything else."""
    if path.is_symlink():
        raise ModelArchiveError(f"refused: {path} is a symlink; name the archive or folder itself")
    if path.is_dir():
        return FolderSource(path)
    if path.is_file():
        return TarSource(path)
    raise ModelArchiveError(
        f"{path} does not exist", "Name the .tar file or folder `gpuless models export` wrote."
    )


def hash_file(data: IO[bytes], progress: Callable[[int], None] | None = None) -> tuple[str, int]:
    """sha256 hex and byte count of everything ``data`` holds."""
    digest = hashlib.sha256()
    count = 0
    while block := data.read(CHUNK):
        digest.update(block)
        count += len(block)
        if progress:
            progress(len(block))
    return digest.hexdigest(), count


@dataclass(frozen=True)
class CheckedArchive:
    """An archive that passed every check, blobs hashed: its models and where its bytes come from."""

    source: Source
    index: ArchiveIndex
    models: tuple[ArchiveModel, ...]


def check_archive(path: Path, progress: Progress | None = None) -> CheckedArchive:
    """Every check of ``core.models.archive`` over the archive or folder at ``path``, every blob hashed;
    the first failure is one ModelArchiveError line."""
    source = open_source(path)
    index = index_members(source.members())
    small: dict[str, bytes] = {}
    for member in (index.sums, *index.manifests):
        if member.size > MAX_MANIFEST_BYTES:
            raise ModelArchiveError(
                f"refused: {member.path} is {member.size} bytes, too big to be what it says"
            )
        with source.open(member.path) as data:
            small[member.path] = data.read(MAX_MANIFEST_BYTES + 1)
    sums = parse_sums(small.pop(SUMS))
    hash_of = {p: hashlib.sha256(b).hexdigest() for p, b in small.items()}
    models = check_contents(index, small, sums, hash_of)
    step = ByteCount(sum(member.size for member in index.blobs.values()), progress)

    for blob_path in sorted(index.blobs):
        try:
            with source.open(blob_path) as data:
                hexdigest, count = hash_file(data, step)
        except (tarfile.TarError, EOFError, OSError) as error:
            raise ModelArchiveError(
                f"refused: {blob_path} cannot be read ({error}); truncated or damaged"
            ) from None
        if count != index.blobs[blob_path].size:
            raise ModelArchiveError(
                f"refused: {blob_path} ends early: the archive is truncated (nothing was written)"
            )
        check_blob(blob_path, hexdigest)
    return CheckedArchive(source, index, models)


#: One tar entry: its path, its size, and a function giving its bytes in chunks.
Entry = tuple[str, int, Callable[[], Iterator[bytes]]]


def tar_stream(entries: Iterable[Entry]) -> Iterator[bytes]:
    """A POSIX (PAX) tar of ``entries``, produced as it goes; a chunk source that yields a byte count
    other than the size it announced stops the stream with ModelArchiveError."""
    now = int(time.time())
    for path, size, chunks in entries:
        info = tarfile.TarInfo(path)
        info.size, info.mode, info.mtime = size, 0o644, now
        yield info.tobuf(format=tarfile.PAX_FORMAT)
        sent = 0
        for chunk in chunks():
            sent += len(chunk)
            yield chunk
        if sent != size:
            raise ModelArchiveError(f"{path} changed while it was copied ({sent} bytes, not {size})")
        if size % tarfile.BLOCKSIZE:
            yield b"\0" * (tarfile.BLOCKSIZE - size % tarfile.BLOCKSIZE)
    yield b"\0" * (2 * tarfile.BLOCKSIZE)


def constant(data: bytes) -> Callable[[], Iterator[bytes]]:
    """A chunk source for bytes already in memory."""
    return lambda: iter([data])


def hashed_chunks(
    data: IO[bytes], expected_hex: str, on_bytes: Callable[[int], None], damaged: Callable[[str], Exception]
) -> Iterator[bytes]:
    """``data`` in chunks, hashed on the way; at the end a hash other than ``expected_hex`` raises
    ``damaged(actual_hex)`` (so a stream that changed or rotted is never passed off as good)."""
    digest = hashlib.sha256()
    while block := data.read(CHUNK):
        digest.update(block)
        on_bytes(len(block))
        yield block
    if digest.hexdigest() != expected_hex:
        raise damaged(digest.hexdigest())
