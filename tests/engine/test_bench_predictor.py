"""The benchmark predicts from the file the server really has: the catalog describes the public tags
(smollm2:135m F16, gemma3:270m Q8_0) while the test server serves its own Q4_1 / Q4_K_M files under
those names, so size and quantisation come from ``/api/tags`` and ``/api/show``."""

from __future__ import annotations

from typing import Any

import pytest

from toolkit.adapters.bench.runner import BenchRunner
from toolkit.adapters.ollama.client import OllamaClient
from toolkit.adapters.resources import load_catalog, load_shipped_profile
from toolkit.core.bench.config import BenchConfig
from toolkit.core.catalog.offcatalog import served_variant
from toolkit.core.estimate.estimator import estimate
from toolkit.core.machine.profile import machine_from_profile


def test_served_variant_keeps_a_matching_file_and_replaces_another() -> None:
    spec, variant = load_catalog().find("smollm2:135m")
    assert variant.quant == "F16"
    same = served_variant(spec, variant, size_bytes=variant.size_bytes + 1000, quant="F16")
    assert same is variant
    other = served_variant(spec, variant, size_bytes=98_362_432, quant="Q4_1")
    assert (other.quant, other.size_bytes, other.size_verified) == ("Q4_1", 98_362_432, True)
    assert other.tag == variant.tag and "server" in other.note
    # Only the quantisation known: the size follows from its nominal bits per weight.
    named = served_variant(spec, variant, size_bytes=None, quant="q4_1")
    assert named.quant == "Q4_1" and named.size_bytes == int(spec.params * 5.0 / 8)
    assert served_variant(spec, variant, size_bytes=None, quant=None) is variant


@pytest.mark.engine
@pytest.mark.parametrize("model", ["smollm2:135m", "gemma3:270m"])
async def test_bench_predicts_from_the_served_file_not_the_public_tag(ollama_server: Any, model: str) -> None:
    # A shipped laptop, not this machine: whether a model is compute-bound depends on the cores and
    # bandwidth (at half a core, as under a CPU quota, smollm2 is compute-bound too).
    machine = machine_from_profile(load_shipped_profile("laptop-16gb-ddr4"))
    catalog = load_catalog()
    spec, public = catalog.find(model)
    config = BenchConfig(model=model, url=ollama_server.url, concurrency=())
    with_catalog = BenchRunner(config, machine=machine, catalog=catalog)
    from_show = BenchRunner(config, machine=machine)
    async with OllamaClient(ollama_server.url) as client:
        _, quant = await with_catalog._prepare(client)
        await from_show._prepare(client)
        size = {m["name"]: m["size"] for m in await client.tags()}[model]
    assert quant is not None and quant.upper() != public.quant  # the server's own file
    assert with_catalog.predictor is not None and from_show.predictor is not None
    decode, _, _ = with_catalog.predictor(512, 1)
    assert decode is not None
    public_decode = estimate(spec, public, machine, prompt_tokens=512).decode_tps
    served = estimate(spec, served_variant(spec, public, size_bytes=size, quant=quant), machine)
    assert decode == pytest.approx(served.decode_tps)
    # The public file is bigger, so never faster; on this laptop smollm2 is bandwidth-bound, so much faster.
    assert decode >= public_decode
    if model == "smollm2:135m":
        assert decode > public_decode * 1.1
    show_decode, _, _ = from_show.predictor(512, 1)
    assert decode == pytest.approx(show_decode, rel=0.15)  # both from the same file
