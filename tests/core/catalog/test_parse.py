"""catalog.toml parsed: a bad entry fails with one line naming the field."""

from __future__ import annotations

import pytest

from toolkit.core.catalog.parse import parse_catalog
from toolkit.errors import ProfileError


def _model(**over: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "x:1b",
        "family": "x",
        "architecture": "llama",
        "params": 1_000_000_000,
        "layers": 16,
        "heads": 32,
        "kv_heads": 8,
        "head_dim": 64,
        "embedding_length": 2048,
        "context_length": 8192,
        "good_at": {"chat": 4},
        "variant": [{"tag": "x:1b-q4_K_M", "quant": "Q4_K_M", "size_bytes": 600_000_000}],
    }
    data.update(over)
    return data


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"layers": -1}, "layers must be positive"),
        ({"kv_heads": 64}, "kv_heads (64) cannot exceed heads"),
        ({"good_at": {"poetry": 3}}, "unknown use case 'poetry'"),
        ({"good_at": {"chat": 11}}, "integer 0–10"),
        ({"variant": []}, "at least one"),
        ({"params": "1B"}, "params must be int"),
        ({"default_tag": "x:1b-q9"}, "not one of its variants"),
    ],
)
def test_bad_catalog_entries_fail_with_one_line(override: dict[str, object], message: str) -> None:
    with pytest.raises(ProfileError) as error:
        parse_catalog({"model": [_model(**override)]})
    assert message in error.value.message
    assert "\n" not in error.value.message


def test_catalog_rejects_duplicates_and_emptiness() -> None:
    with pytest.raises(ProfileError, match="twice"):
        parse_catalog({"model": [_model(), _model()]})
    with pytest.raises(ProfileError, match="no \\[\\[model\\]\\]"):
        parse_catalog({})
