"""The checks an archive passes before anything is written (``toolkit.core.models``), over data."""

from __future__ import annotations

import hashlib
import json

import pytest

from toolkit.core.models.archive import (
    SUMS,
    Member,
    check_blob,
    check_contents,
    clean_path,
    index_members,
    parse_sums,
    render_sums,
)
from toolkit.core.models.helper import parse_inspect
from toolkit.core.models.layout import ModelRef, blob_path, digest_of_blob
from toolkit.core.models.manifest import parse_manifest
from toolkit.core.models.plan import RESERVE, VolumeState, check_space, plan_import, stored_models
from toolkit.errors import ModelArchiveError, ModelStoreError, UsageError

WEIGHTS = b"GGUF" + b"w" * 1000
CONFIG = b'{"model_format":"gguf"}'
PARAMS = b'{"num_ctx":4096}'


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def manifest_bytes(*blobs: tuple[str, bytes]) -> bytes:
    config, *layers = blobs
    return json.dumps(
        {
            "schemaVersion": 2,
            "config": {"mediaType": config[0], "digest": digest(config[1]), "size": len(config[1])},
            "layers": [{"mediaType": m, "digest": digest(d), "size": len(d)} for m, d in layers],
        }
    ).encode()


MANIFEST = manifest_bytes(("config", CONFIG), ("application/vnd.ollama.image.model", WEIGHTS))
MANIFEST_PATH = "manifests/registry.ollama.ai/library/smollm2/135m"
BLOBS = {blob_path(digest(CONFIG)): CONFIG, blob_path(digest(WEIGHTS)): WEIGHTS}


def archive(files: dict[str, bytes]) -> tuple[list[Member], dict[str, bytes]]:
    """An export's members and bytes, SHA256SUMS over ``files``."""
    sums = render_sums((path, hashlib.sha256(data).hexdigest()) for path, data in files.items())
    everything = {SUMS: sums, **files}
    return [Member(path, "file", len(data)) for path, data in everything.items()], everything


def check(files: dict[str, bytes], sizes: dict[str, int] | None = None) -> None:
    members, data = archive(files)
    members = [Member(m.path, m.kind, (sizes or {}).get(m.path, m.size)) for m in members]
    index = index_members(members)
    small = {m.path: data[m.path] for m in index.manifests}
    check_contents(
        index, small, parse_sums(data[SUMS]), {p: hashlib.sha256(b).hexdigest() for p, b in small.items()}
    )


def test_a_whole_export_passes() -> None:
    members, data = archive({MANIFEST_PATH: MANIFEST, **BLOBS})
    index = index_members(members)
    models = check_contents(
        index,
        {MANIFEST_PATH: MANIFEST},
        parse_sums(data[SUMS]),
        {MANIFEST_PATH: hashlib.sha256(MANIFEST).hexdigest()},
    )
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


def test_manifests_and_names_are_read_strictly() -> None:
    assert parse_manifest(MANIFEST, "m").model_digest == digest(WEIGHTS)
    with pytest.raises(ModelArchiveError, match="not JSON"):
        parse_manifest(b"{", "m")
    bad = MANIFEST.replace(digest(WEIGHTS).encode(), b"sha256:../../etc/passwd")
    with pytest.raises(ModelArchiveError, match="is not sha256"):
        parse_manifest(bad, "m")
    assert ModelRef.parse("qwen2.5:1.5b").manifest_path == "manifests/registry.ollama.ai/library/qwen2.5/1.5b"
    assert ModelRef.parse("me/model").short == "me/model:latest"
    assert ModelRef.from_manifest_path("manifests/h/../m/t") is None
    with pytest.raises(UsageError):
        ModelRef.parse("../x:y")
    assert digest_of_blob("blobs/sha256-" + "a" * 64) == "sha256:" + "a" * 64
    assert digest_of_blob("blobs/sha256-aa-partial") is None


def test_an_import_copies_only_what_the_volume_lacks_and_checks_space() -> None:
    members, data = archive({MANIFEST_PATH: MANIFEST, **BLOBS})
    index = index_members(members)
    models = check_contents(
        index,
        {MANIFEST_PATH: MANIFEST},
        parse_sums(data[SUMS]),
        {MANIFEST_PATH: hashlib.sha256(MANIFEST).hexdigest()},
    )
    config = blob_path(digest(CONFIG))
    weights = blob_path(digest(WEIGHTS))
    half = VolumeState(None, {config: len(CONFIG), weights: 10}, {})  # a partial weights file: copied again
    plan = plan_import(models, half)
    assert [layer.digest for layer in plan.copy] == [digest(WEIGHTS)]
    assert plan.bytes_to_copy == len(WEIGHTS) + len(MANIFEST)
    check_space(plan, plan.bytes_to_copy + RESERVE, "v")
    with pytest.raises(ModelStoreError, match=r"not enough space for the copy.*nothing was written"):
        check_space(plan, plan.bytes_to_copy + RESERVE - 1, "v")


def test_the_list_says_which_served_model_derives_from_which() -> None:
    served = manifest_bytes(
        ("config", CONFIG),
        ("application/vnd.ollama.image.model", WEIGHTS),
        ("application/vnd.ollama.image.params", PARAMS),
    )
    state = VolumeState(
        1000,
        {p: len(b) for p, b in BLOBS.items()},
        {MANIFEST_PATH: MANIFEST, MANIFEST_PATH + "-gpuless": served},
    )
    rows = {row.name: row for row in stored_models(state)}
    assert rows["smollm2:135m"].served_as == ("smollm2:135m-gpuless",)
    assert rows["smollm2:135m"].missing == ()
    assert rows["smollm2:135m-gpuless"].derives_from == "smollm2:135m"
    assert rows["smollm2:135m-gpuless"].missing == (digest(PARAMS),)


def test_the_helper_output_is_read() -> None:
    name = "sha256-" + "b" * 64
    output = (
        "--df\nFilesystem     1024-blocks     Used Available Capacity Mounted on\n"
        "overlay          264212084 31137204  75253708      30% /root/.ollama\n"
        f"--blobs\n98362432 {name}\n12 sha256-bad\n"
    )
    assert parse_inspect(output) == (75253708 * 1024, {f"blobs/{name}": 98362432})
