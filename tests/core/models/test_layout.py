"""Where a model's files sit in an Ollama store: manifest paths from names, digests from blob names."""

from __future__ import annotations

import pytest

from toolkit.core.models.layout import ModelRef, digest_of_blob
from toolkit.errors import UsageError


def test_names_and_paths_are_read_strictly() -> None:
    assert ModelRef.parse("qwen2.5:1.5b").manifest_path == "manifests/registry.ollama.ai/library/qwen2.5/1.5b"
    assert ModelRef.parse("me/model").short == "me/model:latest"
    assert ModelRef.from_manifest_path("manifests/h/../m/t") is None
    with pytest.raises(UsageError):
        ModelRef.parse("../x:y")
    assert digest_of_blob("blobs/sha256-" + "a" * 64) == "sha256:" + "a" * 64
    assert digest_of_blob("blobs/sha256-aa-partial") is None
