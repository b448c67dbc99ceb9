"""A manifest is read strictly: JSON, and every digest a sha256 (never a path)."""

from __future__ import annotations

import pytest

from tests.core.models.store import CONFIG, MANIFEST, WEIGHTS, digest, manifest_bytes
from toolkit.core.models.manifest import parse_manifest
from toolkit.errors import ModelArchiveError


def test_manifests_are_read_strictly() -> None:
    assert parse_manifest(MANIFEST, "m").model_digest == digest(WEIGHTS)
    with pytest.raises(ModelArchiveError, match="not JSON"):
        parse_manifest(b"{", "m")
    bad = MANIFEST.replace(digest(WEIGHTS).encode(), b"sha256:../../etc/passwd")
    with pytest.raises(ModelArchiveError, match="is not sha256"):
        parse_manifest(bad, "m")


def test_a_manifest_without_layers_is_refused() -> None:
    with pytest.raises(ModelArchiveError, match=r"^m names no layers$"):
        parse_manifest(manifest_bytes(("config", CONFIG)), "m")
