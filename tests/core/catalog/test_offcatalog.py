"""A model the catalog lacks, estimated from its tag's name (size and quantization), and said so."""

from __future__ import annotations

import pytest

from toolkit.core.catalog.model import QUANT_BITS, Catalog
from toolkit.core.catalog.offcatalog import (
    ASSUMED_TAG_QUANT,
    NAME_ESTIMATE_UNCERTAINTY,
    parse_tag_name,
    spec_from_tag,
)
from toolkit.errors import UnknownModelError


@pytest.mark.parametrize(
    ("tag", "params", "quant"),
    [
        ("foo:7b-instruct-q4_K_M", 7_000_000_000, "Q4_K_M"),
        ("bar:1.5b", 1_500_000_000, None),
        ("baz:270m-fp16", 270_000_000, "F16"),
        ("x:8b-q5_K_S", 8_000_000_000, "Q5_K_S"),
        ("mymodel:latest", 0, None),
    ],
)
def test_parse_tag_name(tag: str, params: int, quant: str | None) -> None:
    assert parse_tag_name(tag) == (params, quant)


def test_spec_from_tag_estimates_an_unknown_tag_and_says_how(catalog: Catalog) -> None:
    spec = spec_from_tag("foo:7b-instruct-q4_K_M", catalog)
    variant = spec.default_variant
    assert spec.params == 7_000_000_000 and variant.quant == "Q4_K_M" and not variant.size_verified
    assert variant.size_bytes == int(7e9 * QUANT_BITS["Q4_K_M"] / 8)
    assert "Estimated from the name" in spec.notes and NAME_ESTIMATE_UNCERTAINTY in spec.notes
    assert not spec.good_at
    assumed = spec_from_tag("bar:1.5b", catalog)
    assert assumed.default_variant.quant == ASSUMED_TAG_QUANT and "(assumed)" in assumed.notes
    with pytest.raises(UnknownModelError, match="no parameter count"):
        spec_from_tag("mymodel:latest", catalog)
