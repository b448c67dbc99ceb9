"""Each factor of the estimator, and the whole estimate against published CPU measurements.

Reference numbers are from shared/reference/performance-physics.md (§3 tables, §6 KV) and
ollama-docker-facts.md §4 (KV table, Ollama's GraphSize formula); each test cites its row.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.builders import machine
from toolkit.core.catalog.model import Catalog, ModelSpec, QuantVariant
from toolkit.core.estimate import estimator as est
from toolkit.core.estimate import memory as memory_terms
from toolkit.core.estimate import speed as speed_terms
from toolkit.core.estimate.params import DEFAULT_PARAMS, EstimatorParams
from toolkit.core.machine.hardware import (
    CgroupLimits,
    DockerEngineInfo,
    Machine,
)
from toolkit.errors import UsageError

MIB = 1024**2
GB = 10**9


#: The files the test server serves under the two test models' names (the catalog describes the public
#: tags, F16 and Q8_0): its measurements (docs/bench-report-xeon.txt) were made with these.
TEST_SERVER_FILES = {"smollm2:135m": ("Q4_1", 98_362_432), "gemma3:270m": ("Q4_K_M", 253_113_024)}


def spec(catalog: Catalog, name: str) -> tuple[ModelSpec, QuantVariant]:
    """The catalog's model; for the two test models, the test server's own file."""
    model, variant = catalog.find(name)
    if name in TEST_SERVER_FILES:
        quant, size = TEST_SERVER_FILES[name]
        variant = replace(variant, quant=quant, size_bytes=size)
    return model, variant


# --- KV cache ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "mib"),
    [  # ollama-docker-facts.md §4 table, f16, ctx 4096, one slot
        ("qwen2.5:0.5b", 48),
        ("qwen2.5:1.5b", 112),
        ("qwen2.5:3b", 144),
        ("qwen2.5:7b", 224),
        ("qwen3:0.6b", 448),
        ("qwen3:8b", 576),
        ("llama3.2:1b", 128),
        ("llama3.2:3b", 448),
        ("phi4-mini:3.8b", 512),
        ("mistral:7b", 512),
        ("smollm2:135m", 90),
        ("smollm2:1.7b", 768),
    ],
)
def test_kv_cache_matches_the_reference_table(catalog: Catalog, name: str, mib: int) -> None:
    model, _ = spec(catalog, name)
    assert memory_terms.kv_cache_bytes(model, 4096) == mib * MIB


def test_kv_cache_scales_with_slots_and_type(catalog: Catalog) -> None:
    model, _ = spec(catalog, "llama3.2:3b")
    one = memory_terms.kv_cache_bytes(model, 4096)
    assert memory_terms.kv_cache_bytes(model, 4096, parallel=4) == 4 * one
    assert memory_terms.kv_cache_bytes(model, 8192) == 2 * one
    assert memory_terms.kv_cache_bytes(model, 4096, kv_cache_type="q8_0") == one // 2
    assert memory_terms.kv_cache_bytes(model, 4096, kv_cache_type="q4_0") == one // 4
    exact = EstimatorParams(exact_kv_sizes=True)
    assert memory_terms.kv_cache_bytes(model, 4096, kv_cache_type="q8_0", params=exact) == int(
        one / 2 * 34 / 32
    )
    with pytest.raises(UsageError, match="KV cache type"):
        memory_terms.kv_cache_bytes(model, 4096, kv_cache_type="q3_k")


def test_gemma3_sliding_window_kv_like_ollama(catalog: Catalog) -> None:
    # Ollama's GraphSize: every 6th layer global, the rest (slots × window + batch); §4 table: ~38 / ~254 MiB
    g1, _ = spec(catalog, "gemma3:1b")
    g4, _ = spec(catalog, "gemma3:4b")
    assert memory_terms.kv_cache_bytes(g1, 4096) == 38 * MIB
    assert memory_terms.kv_cache_bytes(g4, 4096) == 254 * MIB
    # all-global would be 104 MiB; long contexts grow only in the global layers
    assert memory_terms.kv_cache_bytes(g1, 32768) < 26 * 2 * 256 * 2 * 32768 / 4
    # a short context is never charged more than the full context in local layers
    assert memory_terms.kv_cache_bytes(g1, 256) == 26 * 2 * 256 * 2 * 256


# --- decode -----------------------------------------------------------------------------------------


def test_decode_falls_with_bandwidth(catalog: Catalog) -> None:
    model, variant = spec(catalog, "llama3.1:8b")
    rates = [est.estimate(model, variant, machine(gbps=g, cores=8)).decode_tps for g in (38.4, 51.2, 89.6)]
    assert rates[0] < rates[1] < rates[2]
    assert est.estimate(model, variant, machine(gbps=89.6, cores=8)).factors.bound == "memory"


def test_measured_bandwidth_uses_the_higher_efficiency(catalog: Catalog) -> None:
    model, variant = spec(catalog, "qwen2.5:7b")
    peak = est.estimate(model, variant, machine(gbps=50, cores=8, source="profile"))
    measured = est.estimate(model, variant, machine(gbps=50, cores=8, source="measured"))
    assert (peak.factors.eta, measured.factors.eta) == (0.6, 0.85)
    assert measured.decode_tps > peak.decode_tps
    unknown = est.estimate(model, variant, machine(gbps=None))
    assert (unknown.factors.bandwidth_source, unknown.factors.bandwidth_gbps) == ("assumed", 38.4)


def test_peak_bandwidth_efficiency_follows_the_platform_class(catalog: Catalog) -> None:
    # docs/estimator-fit.txt: η per platform class for a theoretical / profile figure
    model, variant = spec(catalog, "llama3.1:8b")
    names = {
        "13th Gen Intel(R) Core(TM) i7-13700H": 0.90,
        "Intel(R) Core(TM) i5-10210U CPU @ 1.60GHz": 0.58,
        "AMD Ryzen 5 5600U with Radeon Graphics": 0.80,
        "test CPU": 0.6,  # a class the fit has no value for keeps the shipped η
    }
    for name, eta in names.items():
        peak = est.estimate(model, variant, machine(gbps=51.2, cores=8, name=name))
        assert peak.factors.eta == eta, name
        assert peak.factors.effective_bandwidth_gbps == pytest.approx(51.2 * eta, abs=0.01)
        # a measured probe figure already holds the platform's gap: the one measured η applies
        probed = est.estimate(model, variant, machine(gbps=51.2, cores=8, name=name, source="measured"))
        assert probed.factors.eta == 0.85, name
    intel12 = machine(gbps=51.2, cores=8, name="13th Gen Intel(R) Core(TM) i7-13700H")
    intel8 = replace(intel12, cpu=replace(intel12.cpu, model="Intel(R) Core(TM) i7-8550U CPU @ 1.80GHz"))
    assert (
        est.estimate(model, variant, intel12).decode_tps
        > 1.4 * est.estimate(model, variant, intel8).decode_tps
    )
    # an unknown bandwidth is a theoretical figure: the class's η applies to it too
    assumed = est.estimate(model, variant, replace(intel12, bandwidth=None))
    assert (assumed.factors.bandwidth_source, assumed.factors.eta) == ("assumed", 0.90)


def test_tiny_model_hits_the_overhead_ceiling(catalog: Catalog) -> None:
    model, variant = spec(catalog, "smollm2:135m")
    ceiling = 1 / DEFAULT_PARAMS.per_token_overhead_s
    # a short history, so attention (which grows with depth) is negligible too
    fast = est.estimate(model, variant, machine(gbps=800, cores=64, simd=("avx512f",)), prompt_tokens=0)
    assert fast.decode_tps < ceiling
    assert fast.decode_tps > 0.8 * ceiling  # everything else is negligible: overhead-bound
    # doubling bandwidth barely helps a tiny model, but nearly doubles a big one on a slow machine
    slow_small = est.estimate(model, variant, machine(gbps=100, cores=8)).decode_tps
    fast_small = est.estimate(model, variant, machine(gbps=200, cores=8)).decode_tps
    big, big_variant = spec(catalog, "qwen2.5:7b")
    slow_big = est.estimate(big, big_variant, machine(gbps=40, cores=8)).decode_tps
    fast_big = est.estimate(big, big_variant, machine(gbps=80, cores=8)).decode_tps
    assert fast_small / slow_small < 1.25 < 1.7 < fast_big / slow_big


def this_machine() -> Machine:
    """The test machine of docs/bench-report-xeon.txt: 2 × Xeon vCPU (AVX-512, "@ 2.50GHz" in the name, no
    clock known) with the bandwidth probe's 11.2 GB/s."""
    return machine(
        cores=2,
        simd=("avx2", "avx512f", "avx512_vnni", "fma"),
        gbps=11.2,
        source="measured",
        clock=None,
        name="Intel(R) Xeon(R) Processor @ 2.50GHz",
    )


#: This machine's own attention slopes (docs/bench-report-xeon.txt), ≈300 cycles per layer·head·token in
#: decode and 80 in prefill. The shipped 52 and 38 are the published laptops' fit (``EstimatorParams``
#: ``decode_attention_cycles`` / ``prefill_attention_cycles``); the tests of this machine's measurements use
#: its own terms, as its benchmark calibration would correct them.
THIS_MACHINE_PARAMS = EstimatorParams(decode_attention_cycles=300, prefill_attention_cycles=80)


# docs/bench-report-xeon.txt, llama.cpp behind the Ollama API on this_machine(), 128-token answers, medians:
# (model, chat prompt, document prompt, decode chat, decode document, prefill document, TTFT document)
BENCH_REPORT = [
    ("smollm2:135m", 47, 976, 65.8, 35.8, 124.0, 7.9),
    ("gemma3:270m", 47, 952, 40.7, 35.5, 229.0, 4.2),
]


@pytest.mark.parametrize(
    ("name", "chat", "document", "decode_chat", "decode_doc", "prefill", "ttft"), BENCH_REPORT
)
def test_this_machine_matches_the_bench_report(
    catalog: Catalog,
    name: str,
    chat: int,
    document: int,
    decode_chat: float,
    decode_doc: float,
    prefill: float,
    ttft: float,
) -> None:
    """Decode at both depths, prefill and TTFT of the ~1k-token prompt, within ±25% of the measurement
    with this machine's attention terms (before the attention and width factors: prefill +510% / +70%,
    TTFT -83% / -41%, decode at depth +91%)."""
    model, variant = spec(catalog, name)
    short = est.estimate(model, variant, this_machine(), prompt_tokens=chat, params=THIS_MACHINE_PARAMS)
    long = est.estimate(model, variant, this_machine(), prompt_tokens=document, params=THIS_MACHINE_PARAMS)
    assert short.decode_tps == pytest.approx(decode_chat, rel=0.25)
    assert long.decode_tps == pytest.approx(decode_doc, rel=0.25)
    assert long.prefill_tps == pytest.approx(prefill, rel=0.25)
    assert long.ttft_s == pytest.approx(ttft, rel=0.25)
    # the shipped (published-fit) term: short history, where attention hardly counts, still within 25%
    shipped = est.estimate(model, variant, this_machine(), prompt_tokens=chat)
    assert shipped.decode_tps == pytest.approx(decode_chat, rel=0.25)


def _smollm2_here(
    catalog: Catalog, prompt_tokens: int, params: EstimatorParams = DEFAULT_PARAMS
) -> est.Estimate:
    """SmolLM2-135M's estimate on this machine at ``prompt_tokens`` (the shipped terms unless ``params``)."""
    model, variant = spec(catalog, "smollm2:135m")
    return est.estimate(model, variant, this_machine(), prompt_tokens=prompt_tokens, params=params)


def test_shipped_attention_over_predicts_this_machine_at_long_history(catalog: Catalog) -> None:
    """The known gap: at ~1k tokens of history SmolLM2-135M decodes 35.8 tok/s here, and the published
    laptops' 52 cycles predict ~60% more (this machine's 300 cycles: within 10%). Calibration by a
    benchmark on this machine is what closes it; if the shipped term changes, revisit the docstring of
    ``EstimatorParams.decode_attention_cycles``."""
    shipped = _smollm2_here(catalog, 976).decode_tps
    own = _smollm2_here(catalog, 976, THIS_MACHINE_PARAMS).decode_tps
    assert shipped / 35.8 > 1.4
    assert own == pytest.approx(35.8, rel=0.10)
    assert DEFAULT_PARAMS.decode_attention_cycles < THIS_MACHINE_PARAMS.decode_attention_cycles / 4


def test_shipped_prefill_attention_over_predicts_this_machine_at_long_prompts(catalog: Catalog) -> None:
    """The same gap in prefill: at a 976-token prompt SmolLM2-135M prefills 124 tok/s here; the published
    laptops' 38 cycles predict ~30% more (this machine's 80: within 15%). At a chat-length prompt, where
    attention hardly counts, both agree. If the shipped term changes, revisit the docstring of
    ``EstimatorParams.prefill_attention_cycles``."""
    shipped = _smollm2_here(catalog, 976).prefill_tps
    own = _smollm2_here(catalog, 976, THIS_MACHINE_PARAMS).prefill_tps
    assert 1.2 < shipped / 124.0 < 1.4
    assert own == pytest.approx(124.0, rel=0.15)
    short = [_smollm2_here(catalog, 47, p).prefill_tps for p in (DEFAULT_PARAMS, THIS_MACHINE_PARAMS)]
    assert short[0] == pytest.approx(short[1], rel=0.02)
    assert DEFAULT_PARAMS.prefill_attention_cycles < THIS_MACHINE_PARAMS.prefill_attention_cycles / 2


def test_prefill_eta_follows_the_platform_class(catalog: Catalog) -> None:
    """Older Intel laptops sustain 0.65 of the SIMD table's prefill rate, Intel 12th gen+ 0.97 (fitted on
    published points, ``EstimatorParams.prefill_eta_by_platform``); a CPU of no fitted class gets the table's
    rate. Decode is untouched by it."""
    model, variant = spec(catalog, "llama3.1:8b")
    names = {
        "intel_pre12": "Intel(R) Core(TM) i7-8550U CPU @ 1.80GHz",
        "intel_12plus": "13th Gen Intel(R) Core(TM) i7-13700H",
        "other": "test CPU",
    }
    runs = {label: est.estimate(model, variant, machine(name=name)) for label, name in names.items()}
    assert {label: r.factors.platform for label, r in runs.items()} == {k: k for k in names}
    assert runs["intel_pre12"].factors.prefill_eta == 0.65
    assert runs["intel_12plus"].factors.prefill_eta == 0.97
    assert runs["other"].factors.prefill_eta == 1.0
    assert runs["intel_pre12"].prefill_tps == pytest.approx(0.65 * runs["other"].prefill_tps)
    assert runs["intel_12plus"].prefill_tps == pytest.approx(0.97 * runs["other"].prefill_tps)
    unfitted = EstimatorParams(prefill_eta_by_platform={})
    assert est.estimate(model, variant, machine(name=names["intel_pre12"]), params=unfitted).prefill_tps == (
        pytest.approx(runs["other"].prefill_tps)
    )


def test_depth_slows_decode_less_with_a_sliding_window(catalog: Catalog) -> None:
    """SmolLM2 (every layer global) lost 46% from ~50 to ~1k tokens of prompt, Gemma 3 (5 of 6 layers
    windowed) 13%: attention time, not KV bytes, makes the difference."""
    smol, gemma = (spec(catalog, name) for name in ("smollm2:135m", "gemma3:270m"))
    ratios = {}
    for label, (model, variant) in (("smol", smol), ("gemma", gemma)):
        short = est.estimate(model, variant, this_machine(), prompt_tokens=47, params=THIS_MACHINE_PARAMS)
        long = est.estimate(model, variant, this_machine(), prompt_tokens=976, params=THIS_MACHINE_PARAMS)
        ratios[label] = long.decode_tps / short.decode_tps
    assert ratios["smol"] < 0.65 < 0.8 < ratios["gemma"] < 1.0
    # without the attention term the KV bytes alone explain only a few percent
    no_attention = EstimatorParams(decode_attention_cycles=0)
    bare = [
        est.estimate(*smol, this_machine(), prompt_tokens=n, params=no_attention).decode_tps
        for n in (47, 976)
    ]
    assert bare[1] / bare[0] > 0.8


@pytest.mark.parametrize(
    ("name", "aggregates"),
    [("smollm2:135m", (63.5, 71.1, 67.8)), ("gemma3:270m", (38.1, 48.5, 50.8))],
)
def test_concurrent_streams_on_two_cores_are_compute_bound(
    catalog: Catalog, name: str, aggregates: tuple[float, float, float]
) -> None:
    """docs/bench-report-xeon.txt, chat shape, OLLAMA_NUM_PARALLEL=4: aggregate tok/s at 1 / 2 / 4 streams
    (before the narrow-model decode efficiency the estimator promised 156 / 167 for SmolLM2)."""
    model, variant = spec(catalog, name)
    predicted = [
        est.estimate(
            model, variant, this_machine(), prompt_tokens=47, parallel=n, params=THIS_MACHINE_PARAMS
        ).aggregate_tps
        for n in (1, 2, 4)
    ]
    for got, measured in zip(predicted, aggregates, strict=True):
        assert got == pytest.approx(measured, rel=0.25)
    assert predicted[2] < 1.6 * predicted[0]  # two cores: more streams add little
    wide, _ = spec(catalog, "qwen2.5:1.5b")
    assert speed_terms.decode_width_efficiency(wide) == 1.0
    assert speed_terms.decode_width_efficiency(model) < 0.7


def test_attention_cost_is_window_capped_and_scales_with_cores(catalog: Catalog) -> None:
    smol, _ = spec(catalog, "smollm2:135m")
    gemma, _ = spec(catalog, "gemma3:270m")
    assert speed_terms.attended_head_tokens(smol, 1000) == 30 * 9 * 1000
    assert speed_terms.attended_head_tokens(smol, 0) == 0
    # gemma3:270m: 3 global layers see the whole depth, 15 windowed ones at most window + ubatch cells
    assert speed_terms.attended_head_tokens(gemma, 300) == 18 * 4 * 300
    assert speed_terms.attended_head_tokens(gemma, 8000) == 4 * (3 * 8000 + 15 * (512 + 512))
    two = speed_terms.attention_seconds(smol, this_machine(), 1000, 300)
    assert two == pytest.approx(300 * 270_000 / (2 * 3.0e9))
    four = speed_terms.attention_seconds(
        smol, replace(this_machine(), cpu=replace(this_machine().cpu, physical_cores=4)), 1000, 300
    )
    assert four == pytest.approx(two / 2)


def test_prefill_leaves_out_embeddings_and_slows_for_narrow_models(catalog: Catalog) -> None:
    gemma, _ = spec(catalog, "gemma3:270m")
    # 262,144 × 640 tied embedding is looked up, not multiplied: ~100 M layer weights remain
    assert speed_terms.prefill_matmul_flops_per_token(gemma) == 2 * (gemma.params - 262144 * 640)
    assert 190e6 < speed_terms.prefill_matmul_flops_per_token(gemma) < 210e6
    llama8b, _ = spec(catalog, "llama3.1:8b")  # untied: embedding and output head both leave
    assert speed_terms.prefill_matmul_flops_per_token(llama8b) == 2 * (llama8b.params - 2 * 128256 * 4096)
    unknown = replace(gemma, family="something-new")
    assert speed_terms.prefill_matmul_flops_per_token(unknown) == 2 * gemma.params
    # the narrow end keeps what this machine measured (the earlier straight line gave 640 / 3072 = 0.208)
    assert speed_terms.prefill_width_efficiency(gemma) == pytest.approx((640 / 2048) ** 1.33)
    assert 0.2 < speed_terms.prefill_width_efficiency(gemma) < 0.22
    assert speed_terms.prefill_width_efficiency(llama8b) == 1.0
    llama1b, _ = spec(catalog, "llama3.2:1b")  # 2048 wide: as fast per FLOP as 8B in the published pairs
    assert speed_terms.prefill_width_efficiency(llama1b) == 1.0


def test_reference_i7_8550u_ddr4_2400_llama31_8b(catalog: Catalog) -> None:
    # performance-physics.md §3a: i7-8550U, DDR4-2400 (38.4 GB/s), Llama-3.1-8B Q4_K_M → 4.42–4.70 tok/s,
    # pp 13.1–14.4 tok/s (normiebench#41/#43); i7-7820HQ on the same memory: pp 22.53 (normiebench#42)
    i7 = machine(cores=4, gbps=38.4, clock=3.0, name="Intel(R) Core(TM) i7-8550U CPU @ 1.80GHz")
    result = est.estimate(*spec(catalog, "llama3.1:8b"), i7)
    assert result.factors.platform == "intel_pre12"
    assert result.decode_tps == pytest.approx(4.55, rel=0.1)  # η 0.58 fitted for older Intel laptops
    assert 13.1 * 0.65 < result.prefill_tps < 22.53 * 1.35


def test_reference_ryzen_ai_5_340_ddr5_5600(catalog: Catalog) -> None:
    # performance-physics.md §3b: Ryzen AI 5 340 (6 Zen 5 cores, AVX-512), DDR5-5600 (89.6 GB/s), Ollama:
    # llama3.2:3b 23.81 tok/s, llama3.1:8b 10.46 tok/s (geerlingguy/ai-benchmarks#33)
    ryzen = machine(cores=6, simd=("avx2", "avx512f", "fma"), gbps=89.6, clock=3.5, name="AMD Ryzen AI 5 340")
    assert est.estimate(*spec(catalog, "llama3.2:3b"), ryzen).decode_tps == pytest.approx(23.81, rel=0.2)
    assert est.estimate(*spec(catalog, "llama3.1:8b"), ryzen).decode_tps == pytest.approx(10.46, rel=0.2)


def test_reference_ryzen_8840u_prefill(catalog: Catalog) -> None:
    # §3a: Ryzen 7 8840U (8 Zen 4 cores), CPU backend, Llama-3.1-8B Q4_K_M: pp 49.75 tok/s (normiebench#8)
    ryzen = machine(cores=8, simd=("avx2", "avx512f", "fma"), gbps=102.4, clock=3.0)
    assert est.estimate(*spec(catalog, "llama3.1:8b"), ryzen).prefill_tps == pytest.approx(49.75, rel=0.35)


# --- prefill and TTFT ---------------------------------------------------------------------------------


def test_ttft_grows_with_prompt_length_and_prefill_with_cores(catalog: Catalog) -> None:
    model, variant = spec(catalog, "llama3.2:3b")
    four = machine(cores=4)
    ttfts = [est.estimate(model, variant, four, prompt_tokens=n).ttft_s for n in (64, 512, 2048)]
    assert ttfts[0] < ttfts[1] < ttfts[2]
    one = est.estimate(model, variant, four, prompt_tokens=512)
    assert one.ttft_s == pytest.approx(512 / one.prefill_tps + 1 / one.single_stream_tps)
    # attention makes long prompts slower per token
    assert est.estimate(model, variant, four, prompt_tokens=4096).prefill_tps < one.prefill_tps
    eight = est.estimate(model, variant, machine(cores=8), prompt_tokens=512)
    assert eight.prefill_tps == pytest.approx(2 * one.prefill_tps)


def test_simd_width_factors(catalog: Catalog) -> None:
    model, variant = spec(catalog, "qwen2.5:1.5b")
    rates = {
        simd: est.estimate(model, variant, machine(simd=simd)).prefill_tps
        for simd in (("avx",), ("avx2",), ("avx2", "avx_vnni"), ("avx2", "avx512f"))
    }
    assert rates[("avx",)] < rates[("avx2",)] < rates[("avx2", "avx_vnni")] < rates[("avx2", "avx512f")]
    # AMX is Xeon-only and Ollama ships no AMX build: same as AVX-512
    amx = est.estimate(model, variant, machine(simd=("avx512f", "amx"))).prefill_tps
    assert amx == rates[("avx2", "avx512f")]


def test_threads_follow_p_cores_and_limits() -> None:
    hybrid = machine(cores=14, performance_cores=6)
    assert speed_terms.compute_threads(hybrid) == 6
    limited = replace(hybrid, cgroup=CgroupLimits(version=2, cpu_limit=2.5))
    assert speed_terms.compute_threads(limited) == 2
    vm = replace(machine(cores=8), docker=DockerEngineInfo(reachable=True, is_desktop=True, ncpu=4))
    assert speed_terms.compute_threads(vm) == 4


def test_clock_from_name_only_raises_the_default() -> None:
    assert speed_terms.clock_ghz(machine(clock=None, name="Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz")) == 3.0
    assert speed_terms.clock_ghz(machine(clock=None, name="Some Xeon @ 3.60GHz")) == 3.6
    assert speed_terms.clock_ghz(machine(clock=4.2)) == 4.2


# --- memory total, users, grade ----------------------------------------------------------------------------


def test_total_memory_is_weights_plus_kv_plus_overhead(catalog: Catalog) -> None:
    model, variant = spec(catalog, "qwen2.5:7b")
    result = est.estimate(model, variant, machine(), context=8192, parallel=2)
    assert result.weights_bytes == variant.size_bytes
    assert result.kv_bytes == memory_terms.kv_cache_bytes(model, 8192, 2)
    assert result.overhead_bytes == memory_terms.runtime_overhead_bytes(model, 8192)
    assert result.total_bytes == result.weights_bytes + result.kv_bytes + result.overhead_bytes
    assert 50 * MIB < result.overhead_bytes < 512 * MIB


def test_users_share_throughput(catalog: Catalog) -> None:
    model, variant = spec(catalog, "qwen2.5:3b")
    m = machine(cores=8, gbps=89.6)
    one = est.estimate(model, variant, m, parallel=1)
    four = est.estimate(model, variant, m, parallel=4)
    assert four.decode_tps < one.decode_tps  # each user is slower
    assert four.aggregate_tps > one.aggregate_tps  # but batching raises the total
    assert four.kv_bytes == 4 * one.kv_bytes
    assert four.single_stream_tps == one.decode_tps


# resident memory of real llama.cpp for the two test models (scripts/measure_memory.py,
# docs/memory-measured.txt): whole runner process (+33 MiB: the process before the model), one slot,
# a ~500-token prompt at 4096 and a short one otherwise, MiB
MEASURED_RESIDENT_MIB = [
    ("smollm2:135m", 1024, 148.6 + 33),
    ("smollm2:135m", 4096, 230.5 + 33),
    ("smollm2:135m", 8192, 306.1 + 33),
    ("gemma3:270m", 1024, 338.7 + 33),
    ("gemma3:270m", 4096, 371.6 + 33),
    ("gemma3:270m", 8192, 359.7 + 33),
]


@pytest.mark.parametrize(("name", "context", "mib"), MEASURED_RESIDENT_MIB)
def test_memory_matches_real_llama_cpp_within_15_percent(
    catalog: Catalog, name: str, context: int, mib: float
) -> None:
    """Predicted total vs resident memory of the test server's llama.cpp (the issue measured 247 and
    378 MiB at 4096; the old fixed 300 MiB runtime made it 516 and 561)."""
    model, variant = spec(catalog, name)
    result = est.estimate(model, variant, machine(), context=context)
    assert result.total_bytes / MIB == pytest.approx(mib, rel=0.15)


def test_memory_grows_with_context_by_the_kv_formula(catalog: Catalog) -> None:
    """Measured: SmolLM2-135M's resident size grows 22.5 MiB per 1,024 tokens of context (23,040 bytes
    per token, the KV formula), and its runtime part does not grow."""
    model, variant = spec(catalog, "smollm2:135m")
    low = est.estimate(model, variant, machine(), context=4096)
    high = est.estimate(model, variant, machine(), context=8192)
    assert (high.total_bytes - low.total_bytes) / MIB == pytest.approx((306.1 - 216.1), rel=0.02)
    assert high.overhead_bytes == low.overhead_bytes


def test_bad_settings_are_usage_errors(catalog: Catalog) -> None:
    model, variant = spec(catalog, "qwen2.5:3b")
    for kwargs in ({"context": 0}, {"parallel": 0}, {"prompt_tokens": -1}):
        with pytest.raises(UsageError):
            est.estimate(model, variant, machine(), **kwargs)  # type: ignore[arg-type]


def test_estimate_serialises(catalog: Catalog) -> None:
    data = est.estimate(*spec(catalog, "gemma3:1b"), machine()).to_dict()
    assert data["tag"] == "gemma3:1b-it-q4_K_M"
    assert data["factors"]["bound"] in ("memory", "compute")
