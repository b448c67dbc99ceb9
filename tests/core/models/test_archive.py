"""The checks an archive passes before anything is written (``toolkit.core.models``), over data."""

from __future__ import annotations

import hashlib

import pytest

from tests.core.models.store import (
    BLOBS,
    CONFIG,
    MANIFEST,
    MANIFEST_PATH,
    WEIGHTS,
    archive,
    checked_export,
    digest,
)
from toolkit.core.models.archive import (
    SUMS,
    Member,
    check_blob,
    check_contents,
    clean_path,
    index_members,
    parse_sums,
)
from toolkit.core.models.layout import blob_path
from toolkit.errors import ModelArchiveError


def check(files: dict[str, bytes], sizes: dict[str, int] | None = None) -> None:
    members, data = archive(files)
    members = [Member(m.path, m.kind, (sizes or {}).get(m.path, m.size)) for m in members]
    index = index_members(members)
    small = {m.path: data[m.path] for m in index.manifests}
    check_contents(
        index, small, parse_sums(data[SUMS]), {p: hashlib.sha256(b).hexdigest() for p, b in small.items()}
    )


def test_a_whole_export_passes() -> None:
    models = checked_export()
    assert [m.ref.short for m in models] == ["smollm2:135m"]
    assert models[0].manifest.size == len(WEIGHTS) + len(CONFIG)
    for path, blob in BLOBS.items():
        check_blob(path, hashlib.sha256(blob).hexdigest())


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("../etc/passwd", "climbs out"),
        ("blobs/../../x", "climbs out"),
        ("/etc/passwd", "absolute path"),
        ("C:/Windows/x", "absolute path"),
        ("blobs\\sha256-x", "absolute path"),
    ],
)
def test_paths_that_escape_are_refused(raw: str, words: str) -> None:
    with pytest.raises(ModelArchiveError, match=words):
        clean_path(raw)


def test_a_leading_dot_slash_is_the_same_path() -> None:
    assert clean_path("./blobs/sha256-" + "a" * 64) == "blobs/sha256-" + "a" * 64


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("symlink", "a symlink"),
        ("hardlink", "a hard link"),
        ("device", "a device file"),
        ("other", "not a regular"),
    ],
)
def test_only_files_and_folders_are_accepted(kind: str, words: str) -> None:
    members, _ = archive({MANIFEST_PATH: MANIFEST, **BLOBS})
    path = next(iter(BLOBS))
    changed = [Member(m.path, kind, 0) if m.path == path else m for m in members]  # type: ignore[arg-type]
    with pytest.raises(ModelArchiveError, match=words):
        index_members(changed)


def test_unexpected_files_folders_and_duplicates_are_refused() -> None:
    members, _ = archive({MANIFEST_PATH: MANIFEST, **BLOBS})
    with pytest.raises(ModelArchiveError, match=r"unexpected file 'notes\.txt'"):
        index_members([*members, Member("notes.txt", "file", 3)])
    with pytest.raises(ModelArchiveError, match="unexpected folder"):
        index_members([*members, Member("blobs/sub", "dir", 0)])
    with pytest.raises(ModelArchiveError, match="appears twice"):
        index_members([*members, members[-1]])
    with pytest.raises(ModelArchiveError, match=f"no {SUMS}"):
        index_members([m for m in members if m.path != SUMS])


def test_a_manifest_naming_a_missing_blob_is_refused() -> None:
    weights = blob_path(digest(WEIGHTS))
    with pytest.raises(ModelArchiveError, match=f"names blob {digest(WEIGHTS)}, which the archive lacks"):
        check({MANIFEST_PATH: MANIFEST, **{p: b for p, b in BLOBS.items() if p != weights}})


def test_a_blob_of_another_size_is_refused_as_truncated() -> None:
    weights = blob_path(digest(WEIGHTS))
    with pytest.raises(ModelArchiveError, match="the manifest says 1004: the archive is truncated"):
        check({MANIFEST_PATH: MANIFEST, **BLOBS}, sizes={weights: 500})


def test_a_damaged_manifest_or_unlisted_file_is_refused() -> None:
    members, data = archive({MANIFEST_PATH: MANIFEST, **BLOBS})
    index = index_members(members)
    sums = parse_sums(data[SUMS])
    with pytest.raises(ModelArchiveError, match="does not match its sha256"):
        check_contents(index, {MANIFEST_PATH: MANIFEST}, sums, {MANIFEST_PATH: "0" * 64})
    with pytest.raises(ModelArchiveError, match="is not in SHA256SUMS"):
        check_contents(index, {MANIFEST_PATH: MANIFEST}, {MANIFEST_PATH: sums[MANIFEST_PATH]}, {})


def test_a_flipped_byte_is_refused_by_the_hash() -> None:
    path = blob_path(digest(WEIGHTS))
    flipped = bytearray(WEIGHTS)
    flipped[500] ^= 0x01
    with pytest.raises(ModelArchiveError, match=f"{path} is damaged"):
        check_blob(path, hashlib.sha256(flipped).hexdigest())
