"""What a model archive (or folder) must be before one byte of it is written into a volume.

``gpuless models export`` writes ``SHA256SUMS`` (``sha256sum -c`` reads it), the manifest at
``manifests/<host>/<namespace>/<model>/<tag>`` and every blob it names at ``blobs/sha256-<hex>``, and
nothing else. An import accepts exactly that: plain files and directories under safe relative paths,
every file listed in ``SHA256SUMS``, every blob named by a manifest, every blob the size its manifest
says and (hashed by the adapter) the sha256 its name says. Anything else is refused with one line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from toolkit.core.models.layout import PART, ModelRef, blob_path, digest_of_blob
from toolkit.core.models.manifest import Manifest, parse_manifest
from toolkit.errors import ModelArchiveError

SUMS = "SHA256SUMS"
Kind = Literal["file", "dir", "symlink", "hardlink", "device", "other"]
_SUM_LINE = re.compile(r"([0-9a-f]{64}) [ *](.+)")
_NOT_A_FILE = {
    "symlink": "a symlink",
    "hardlink": "a hard link",
    "device": "a device file",
    "other": "not a regular file",
}


@dataclass(frozen=True)
class Member:
    """One entry of an archive or folder as it says it is: its path, its kind, its size in bytes."""

    path: str
    kind: Kind
    size: int


@dataclass(frozen=True)
class ArchiveIndex:
    """The entries of a checked archive: the checksum list, the manifests and the blobs, by path."""

    sums: Member
    manifests: tuple[Member, ...]
    blobs: Mapping[str, Member]


@dataclass(frozen=True)
class ArchiveModel:
    """A model in an archive whose manifest, names and sizes agree (blob hashes checked separately)."""

    ref: ModelRef
    manifest: Manifest
    data: bytes


def clean_path(raw: str) -> str:
    """An entry's path made relative and plain; ModelArchiveError for one that is absolute or climbs out
    (``..``), so no entry can name a file outside the folder it is copied into."""
    if raw.startswith("/") or "\\" in raw or "\x00" in raw or re.match(r"[A-Za-z]:", raw):
        raise ModelArchiveError(f"refused: the entry {raw[:120]!r} is an absolute path (nothing was written)")
    parts = [part for part in raw.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ModelArchiveError(
            f"refused: the entry {raw[:120]!r} climbs out of the folder (nothing was written)"
        )
    return "/".join(parts)


def _allowed_dir(path: str) -> bool:
    parts = path.split("/") if path else []
    if not parts:
        return True
    if not all(PART.fullmatch(part) and ".." not in part for part in parts):
        return False
    return (parts[0] == "blobs" and len(parts) == 1) or (parts[0] == "manifests" and len(parts) <= 4)


def index_members(members: Iterable[Member]) -> ArchiveIndex:
    """Check every entry's path and kind and sort the files; ModelArchiveError for the first that is not
    a plain file or directory where an export puts one."""
    sums: Member | None = None
    manifests: list[Member] = []
    blobs: dict[str, Member] = {}
    seen: set[str] = set()
    for raw in members:
        member = Member(clean_path(raw.path), raw.kind, raw.size)
        if member.kind in _NOT_A_FILE:
            raise ModelArchiveError(
                f"refused: {member.path!r} is {_NOT_A_FILE[member.kind]}; a model archive holds only files "
                "(nothing was written)"
            )
        if member.kind == "dir":
            if not _allowed_dir(member.path):
                raise ModelArchiveError(f"refused: unexpected folder {member.path!r} (nothing was written)")
            continue
        if member.path in seen:
            raise ModelArchiveError(f"refused: {member.path!r} appears twice (nothing was written)")
        seen.add(member.path)
        if member.path == SUMS:
            sums = member
        elif digest_of_blob(member.path):
            blobs[member.path] = member
        elif ModelRef.from_manifest_path(member.path):
            manifests.append(member)
        else:
            raise ModelArchiveError(
                f"refused: unexpected file {member.path!r}; a model archive holds {SUMS}, manifests/ and "
                "blobs/ only (nothing was written)"
            )
    if sums is None:
        raise ModelArchiveError(f"refused: no {SUMS}; this was not made by `gpuless models export`")
    if not manifests:
        raise ModelArchiveError("refused: no manifest (manifests/<host>/<namespace>/<model>/<tag>)")
    return ArchiveIndex(sums, tuple(manifests), blobs)


def parse_sums(data: bytes) -> dict[str, str]:
    """``SHA256SUMS`` (``<hex>  <path>`` per line, as sha256sum writes it) → path: hex."""
    sums: dict[str, str] = {}
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ModelArchiveError(f"refused: {SUMS} is not text") from None
    for number, line in enumerate(text.splitlines(), 1):
        match = _SUM_LINE.fullmatch(line.rstrip("\r"))
        if match is None:
            raise ModelArchiveError(f"refused: {SUMS} line {number} is not '<sha256>  <path>'")
        sums[clean_path(match.group(2))] = match.group(1)
    return sums


def render_sums(entries: Iterable[tuple[str, str]]) -> bytes:
    """(path, hex) pairs → ``SHA256SUMS`` text, one ``<hex>  <path>`` line each."""
    return "".join(f"{hexdigest}  {path}\n" for path, hexdigest in entries).encode()


def check_contents(
    index: ArchiveIndex,
    manifest_bytes: Mapping[str, bytes],
    sums: Mapping[str, str],
    hash_of: Mapping[str, str],
) -> tuple[ArchiveModel, ...]:
    """Everything that can be checked without hashing the blobs: the checksum list covers exactly the
    files, each manifest parses and matches its checksum, names only blobs the archive holds, at the
    sizes they have. ``hash_of`` holds the sha256 of the small files (manifests) already read."""
    files = {member.path for member in index.manifests} | set(index.blobs)
    if unlisted := sorted(files - set(sums)):
        raise ModelArchiveError(f"refused: {unlisted[0]!r} is not in {SUMS} (nothing was written)")
    if absent := sorted(set(sums) - files):
        raise ModelArchiveError(
            f"refused: {SUMS} lists {absent[0]!r}, which the archive lacks (nothing was written)"
        )
    models: list[ArchiveModel] = []
    named: set[str] = set()
    for member in index.manifests:
        data = manifest_bytes[member.path]
        if hash_of[member.path] != sums[member.path]:
            raise ModelArchiveError(f"refused: {member.path} does not match its sha256 in {SUMS} (damaged)")
        manifest = parse_manifest(data, member.path)
        for layer in manifest.blobs:
            path = blob_path(layer.digest)
            blob = index.blobs.get(path)
            if blob is None:
                raise ModelArchiveError(
                    f"refused: {member.path} names blob {layer.digest}, which the archive lacks "
                    "(nothing was written)"
                )
            if blob.size != layer.size:
                raise ModelArchiveError(
                    f"refused: {path} is {blob.size} bytes but the manifest says {layer.size}: "
                    "the archive is truncated or damaged (nothing was written)"
                )
            named.add(path)
        ref = ModelRef.from_manifest_path(member.path)
        assert ref is not None  # index_members sorted only such paths here
        models.append(ArchiveModel(ref, manifest, data))
    if stray := sorted(set(index.blobs) - named):
        raise ModelArchiveError(f"refused: {stray[0]} is named by no manifest (nothing was written)")
    for path in index.blobs:
        if sums[path] != path.removeprefix("blobs/sha256-"):
            raise ModelArchiveError(f"refused: {SUMS} gives {path} another sha256 than its name (damaged)")
    return tuple(models)


def check_blob(path: str, hexdigest: str) -> None:
    """A blob's bytes hash to the digest its name (and so its manifest) says; else one line."""
    expected = path.removeprefix("blobs/sha256-")
    if hexdigest != expected:
        raise ModelArchiveError(
            f"refused: {path} is damaged: its bytes hash to sha256:{hexdigest[:12]}…, not "
            f"sha256:{expected[:12]}… (nothing was written)"
        )
