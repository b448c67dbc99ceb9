"""The speed side of the estimate: the machine's FLOP rates, threads, clock and usable bandwidth, the time
of attention, and how much of the FLOP rate narrow models reach.

Each function answers one question about the machine or the model that ``core.estimate.estimator`` combines
into a decode step and a prefill rate; scripts/bench_estimator.py and the tests call them one by one.

Attention is a *time* per (layer × query head × context token), not FLOPs or KV bytes: llama.cpp's CPU
attention runs a chain of small per-head ops (K·Q, mask, softmax, V·KQ, copies) whose cost per attended
token dwarfs the KV bytes it reads. ``attention_seconds`` takes the cycles per layer·head·token
(``EstimatorParams.decode_attention_cycles`` / ``prefill_attention_cycles``, where the evidence for each
value is given) and divides them over the cores' clock.

Narrow models (hidden < 1024 in decode, < 2048 in prefill) do not reach the FLOP rates the SIMD tables
give: the test machine prefilled SmolLM2-135M / Gemma3-270M at 124 / 229 tok/s (the plain FLOP model
said 755 / 390), and extra concurrent streams added almost no aggregate throughput
(``prefill_width_efficiency``, ``decode_width_efficiency``).
"""

from __future__ import annotations

import math
import re

from toolkit.core.catalog.model import ModelSpec
from toolkit.core.estimate.memory import VOCAB_SIZE_BY_FAMILY
from toolkit.core.estimate.params import DEFAULT_PARAMS, EstimatorParams
from toolkit.core.machine.hardware import Machine
from toolkit.core.machine.platform_class import platform_class

#: Decode FLOPs per cycle per core that llama.cpp's quantised matrix-vector kernels reach, by the widest
#: SIMD unit. Anchors: the Ryzen AI 5 340 (6 Zen 5 cores, AVX-512) decoding Llama 3.1 8B at 10.46 tok/s
#: needs ≥ 7 (§3b); an i7-13700H (6 P-cores, AVX2)
#: decoding Llama 3.1 8B at 9.6 tok/s needs ≥ 8 (LocalScore, §3c); an M2 Pro CPU (8 P-cores) decoding
#: 7B Q4_0 at 20.9 tok/s needs ≥ 10 (§3a). Decode is a matrix-vector product, so wider vectors add little
#: (Ollama measured AMX *slowing* decode, ollama PR #9203); AVX and scalar are scaled down by width.
#: (An earlier anchor, "SmolLM2-135M ≈ 120 tok/s on the test machine", did not hold up: llama.cpp runs
#: it at 62–66 tok/s there; narrow models get ``EstimatorParams.decode_full_width`` instead.)
DECODE_FLOPS_PER_CYCLE: dict[str, float] = {
    "amx": 8.0,  # Ollama ships no AMX build (ollama PR #9203); AMX CPUs run the AVX-512 kernels
    "avx512f": 8.0,
    "avx2": 8.0,
    "avx": 3.0,
    "sve": 10.0,
    "neon": 10.0,
    "scalar": 1.0,
}

#: Prefill (batched matrix-matrix) FLOPs per cycle per core. Anchors, §3 pp rates ÷ (2·N) ÷ threads at an
#: assumed 3 GHz sustained clock: AVX2 laptops 55–96 GFLOP/s per core (i5-4278U, i7-8550U, i7-7820HQ,
#: i3-1315U, i7-13700H) → 25; AVX-512 Zen 4/5 100–132 (Ryzen 7 8840U, Ryzen AI 9 HX 370) → 36;
#: Apple NEON 103–145 (M2 Pro, M4) → 31 at their higher clocks. The share of it each platform class's cores
#: sustain is fitted on published measurements (``EstimatorParams.prefill_eta_by_platform``).
PREFILL_FLOPS_PER_CYCLE: dict[str, float] = {
    "amx": 36.0,
    "avx512f": 36.0,
    "avx2": 25.0,
    "avx": 8.0,
    "sve": 31.0,
    "neon": 31.0,
    "scalar": 2.0,
}

#: AVX-VNNI (Intel 12th gen+ client chips, no AVX-512) speeds up llama.cpp's int8 dot products
#: (Ollama's "alderlake" CPU variant); the i7-13700H anchor sits ~20% above plain AVX2 laptops.
AVX_VNNI_PREFILL_BONUS = 1.2

_CLOCK_IN_NAME = re.compile(r"@\s*([0-9]+(?:\.[0-9]+)?)\s*GHz", re.IGNORECASE)


def compute_threads(machine: Machine) -> int:
    """Cores llama.cpp computes on: P-cores on hybrid CPUs (E-cores slow lockstep threading, so
    llama.cpp's default skips them), else physical cores; capped by a cgroup CPU quota or the Docker VM."""
    cpu = machine.cpu
    threads = cpu.performance_cores or cpu.physical_cores
    if machine.cgroup.cpu_limit is not None:
        threads = min(threads, max(1, math.floor(machine.cgroup.cpu_limit)))
    if machine.docker.is_desktop and machine.docker.ncpu:
        threads = min(threads, machine.docker.ncpu)
    return max(1, threads)


def clock_ghz(machine: Machine, params: EstimatorParams = DEFAULT_PARAMS) -> float:
    """The profile's clock, else the default; a clock in the CPU name ("@ 1.80GHz") is the *base* clock,
    which cores exceed under load, so it can only raise the default, never lower it."""
    if machine.cpu.clock_ghz:
        return machine.cpu.clock_ghz
    match = _CLOCK_IN_NAME.search(machine.cpu.model)
    if match:
        return max(float(match.group(1)), params.default_clock_ghz)
    return params.default_clock_ghz


def effective_bandwidth(
    machine: Machine, params: EstimatorParams = DEFAULT_PARAMS
) -> tuple[float, float, str]:
    """(bandwidth GB/s, η, source). The probe's measured figure, when the machine has one, is used with
    ``eta_measured`` whatever the platform; a theoretical (profile) or assumed figure with the platform
    class's ``eta_theoretical_for``, which models the class's gap between peak and reachable bandwidth."""
    eta_peak = params.eta_theoretical_for(platform_class(machine.cpu))
    if machine.bandwidth is None or machine.bandwidth.gbps <= 0:
        return params.assumed_bandwidth_gbps, eta_peak, "assumed"
    source = machine.bandwidth.source
    eta = params.eta_measured if source == "measured" else eta_peak
    return machine.bandwidth.gbps, eta, source


def flop_rates(machine: Machine, params: EstimatorParams = DEFAULT_PARAMS) -> tuple[float, float]:
    """(decode, prefill) FLOP/s of the cores llama.cpp uses."""
    simd = machine.cpu.best_simd
    cycles = compute_threads(machine) * clock_ghz(machine, params) * 1e9
    decode = cycles * DECODE_FLOPS_PER_CYCLE.get(simd, 1.0)
    prefill = cycles * PREFILL_FLOPS_PER_CYCLE.get(simd, 2.0)
    if simd == "avx2" and machine.cpu.has("avx_vnni"):
        prefill *= AVX_VNNI_PREFILL_BONUS
    return decode, prefill


def prefill_matmul_flops_per_token(model: ModelSpec) -> float:
    """2 × the weights one prompt token is multiplied by: all but the embedding (looked up by row) and the
    output head (only the last prompt token gets logits). See ``VOCAB_SIZE_BY_FAMILY``."""
    vocab = VOCAB_SIZE_BY_FAMILY.get(model.family, 0)
    embedding = vocab * model.embedding_length * (1 if model.tied_embeddings else 2)
    layers = model.params - embedding
    if layers < model.params / 10:  # a catalog mismatch; never let the table erase the model
        layers = model.params
    return 2.0 * layers


def attended_head_tokens(model: ModelSpec, depth: float, params: EstimatorParams = DEFAULT_PARAMS) -> float:
    """Σ over layers of query heads × tokens attended at ``depth`` tokens of history (one stream).

    Windowed layers (gemma3) attend at most ``window + ubatch`` cells, the size llama.cpp gives their KV
    cache: masked cells still cost time without flash attention. Same cap as ``kv_cache_bytes``."""
    if depth <= 0:
        return 0.0
    if not (model.sliding_window and model.sliding_window_pattern):
        return model.layers * model.heads * depth
    local = min(depth, model.sliding_window + params.ubatch)
    pattern = model.sliding_window_pattern
    return model.heads * sum(depth if (i + 1) % pattern == 0 else local for i in range(model.layers))


def attention_seconds(
    model: ModelSpec,
    machine: Machine,
    depth: float,
    cycles: float,
    params: EstimatorParams = DEFAULT_PARAMS,
) -> float:
    """Time of one token's attention at ``depth``: ``cycles`` per layer·head·token over the cores' clock."""
    core_hz = compute_threads(machine) * clock_ghz(machine, params) * 1e9
    return cycles * attended_head_tokens(model, depth, params) / core_hz


def prefill_width_efficiency(model: ModelSpec, params: EstimatorParams = DEFAULT_PARAMS) -> float:
    """Share of the prefill FLOP rate a model of this hidden size reaches: ``(hidden / full width) **
    exponent`` below ``prefill_full_width``, 1 from it (see ``prefill_full_width``)."""
    share = min(1.0, model.embedding_length / params.prefill_full_width)
    return math.pow(share, params.prefill_width_exponent)


def decode_width_efficiency(model: ModelSpec, params: EstimatorParams = DEFAULT_PARAMS) -> float:
    """Share of the decode FLOP rate a model of this hidden size reaches (see ``decode_full_width``)."""
    return min(1.0, model.embedding_length / params.decode_full_width)


__all__ = [
    "AVX_VNNI_PREFILL_BONUS",
    "DECODE_FLOPS_PER_CYCLE",
    "PREFILL_FLOPS_PER_CYCLE",
    "attended_head_tokens",
    "attention_seconds",
    "clock_ghz",
    "compute_threads",
    "decode_width_efficiency",
    "effective_bandwidth",
    "flop_rates",
    "prefill_matmul_flops_per_token",
    "prefill_width_efficiency",
]
