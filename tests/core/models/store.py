"""A one-model Ollama store in bytes (smollm2:135m's manifest, config and weights), and an export of it
with its SHA256SUMS: the data the model-copy tests check, in memory (tests/core/models) and on disk
(tests/test_model_archive_files.py)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from toolkit.core.models.archive import SUMS, Member, check_contents, index_members, parse_sums, render_sums
from toolkit.core.models.layout import blob_path

WEIGHTS = b"GGUF" + b"w" * 1000
CONFIG = b'{"model_format":"gguf"}'
PARAMS = b'{"num_ctx":4096}'


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def manifest_bytes(*blobs: tuple[str, bytes]) -> bytes:
    """A manifest over (media type, bytes) pairs, the config first."""
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


def with_sums(files: dict[str, bytes]) -> dict[str, bytes]:
    """``files`` with the SHA256SUMS an export carries over them, first."""
    sums = render_sums((path, hashlib.sha256(data).hexdigest()) for path, data in files.items())
    return {SUMS: sums, **files}


def export() -> dict[str, bytes]:
    """The whole export of the store: SHA256SUMS, the manifest and both blobs."""
    return with_sums({MANIFEST_PATH: MANIFEST, **BLOBS})


def archive(files: dict[str, bytes]) -> tuple[list[Member], dict[str, bytes]]:
    """An export's members and bytes, SHA256SUMS over ``files``."""
    everything = with_sums(files)
    return [Member(path, "file", len(data)) for path, data in everything.items()], everything


def checked_export() -> list[Any]:
    """The models of the whole export, as the archive checks read them."""
    members, data = archive({MANIFEST_PATH: MANIFEST, **BLOBS})
    sums = {MANIFEST_PATH: hashlib.sha256(MANIFEST).hexdigest()}
    return list(
        check_contents(index_members(members), {MANIFEST_PATH: MANIFEST}, parse_sums(data[SUMS]), sums)
    )
