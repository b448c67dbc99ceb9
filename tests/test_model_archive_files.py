"""Archives and folders on disk read by ``toolkit.adapters.models.archive``: a good one passes with every
blob hashed; links, devices and FIFOs, in a tar or a folder, are refused by kind before any hashing."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from tests.core.models.store import BLOBS, MANIFEST_PATH, export
from toolkit.adapters.models.archive import check_archive, tar_stream
from toolkit.errors import ModelArchiveError


def write_tar(path: Path, extra: tarfile.TarInfo | None = None) -> Path:
    entries = [(p, len(d), lambda d=d: iter([d])) for p, d in export().items()]
    path.write_bytes(b"".join(tar_stream(entries)))
    if extra is not None:
        with tarfile.open(path, "a") as tar:
            tar.addfile(extra, io.BytesIO(b"") if extra.isreg() else None)
    return path


def test_a_good_tar_and_folder_pass_with_every_blob_hashed(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    checked = check_archive(write_tar(tmp_path / "m.tar"), lambda done, total: seen.append((done, total)))
    assert [m.ref.short for m in checked.models] == ["smollm2:135m"]
    total = sum(len(b) for b in BLOBS.values())
    assert seen[-1] == (total, total)
    folder = tmp_path / "folder"
    for path, data in export().items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    assert [m.ref.short for m in check_archive(folder).models] == ["smollm2:135m"]


@pytest.mark.parametrize(
    ("kind", "words"),
    [(tarfile.LNKTYPE, "a hard link"), (tarfile.CHRTYPE, "a device"), (tarfile.FIFOTYPE, "a device")],
)
def test_links_and_devices_in_a_tar_are_refused(tmp_path: Path, kind: bytes, words: str) -> None:
    entry = tarfile.TarInfo("blobs/sha256-" + "c" * 64)
    entry.type = kind
    entry.linkname = MANIFEST_PATH
    with pytest.raises(ModelArchiveError, match=words):
        check_archive(write_tar(tmp_path / "m.tar", entry))


def test_a_fifo_in_a_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    for path, data in export().items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    os.mkfifo(folder / "blobs" / ("sha256-" + "d" * 64))
    with pytest.raises(ModelArchiveError, match="a device file"):
        check_archive(folder)


def test_a_cut_tar_is_refused_as_truncated(tmp_path: Path) -> None:
    whole = write_tar(tmp_path / "m.tar").read_bytes()
    cut = tmp_path / "cut.tar"
    cut.write_bytes(whole[: len(whole) - 1024 - 600])  # inside the last blob's data
    with pytest.raises(ModelArchiveError, match="truncated"):
        check_archive(cut)
