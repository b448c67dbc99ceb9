"""Predict memory, decode speed, prefill speed and time-to-first-token of a model on a machine.

Pure arithmetic over ``ModelSpec`` / ``QuantVariant`` / ``Machine``, so the recommender, the compose
generator and the benchmark (predicted vs measured) all use the same numbers. Every factor is a named,
documented constant (collected in ``EstimatorParams``) and is reported back in ``Estimate.factors`` so a
UI can explain where a figure comes from. Sources: shared/reference/performance-physics.md (§0 formulas,
§2 ISA and threads, §3 reference measurements, §6 KV cache) and ollama-docker-facts.md §4.

API:

- ``estimate(model, variant, machine, *, context=4096, parallel=1, kv_cache_type="f16",
  prompt_tokens=512, params=DEFAULT_PARAMS) -> Estimate`` — memory (weights + KV + runtime overhead, bytes),
  per-user decode tok/s, aggregate tok/s over ``parallel`` concurrent streams, prefill tok/s, TTFT (s),
  grade (A/B/C, or "<C" below the C line) and the factors used.
The terms it combines have their own modules: ``toolkit.core.estimate.memory`` (``kv_cache_bytes``,
``runtime_overhead_bytes``), ``toolkit.core.estimate.speed`` (``compute_threads``, ``effective_bandwidth``,
``flop_rates``, ``attention_seconds``, the width efficiencies), ``toolkit.core.estimate.params``
(``EstimatorParams``, every factor's value and evidence) and ``toolkit.core.estimate.grades`` (``grade``).

The model, in one place:

    memory      = weights (GGUF size) + KV (2·L·n_kv·d_head·ctx·slots·bytes/elem)
                  + runtime (process + llama.cpp state + vocabulary tables + compute buffer)
    decode step = max(bytes read / (η·BW), 2·N·slots / (decode FLOP rate · width efficiency))
                  (η: ``eta_measured`` for the probe's figure, else the CPU's platform class's)
                  + per-token overhead + slots · attention(depth)
    attention   = cycles · Σ_layers heads · tokens attended (window-capped) / (threads · clock)
    prefill     = η_prefill / (2·N_matmul / (prefill FLOP rate · width efficiency) + attention(prompt / 2))
                  (η_prefill: the CPU's platform class's share of the SIMD table's rate)
    TTFT        = prompt tokens / prefill + one decode step

Attention is a *time* per (layer × query head × context token), not FLOPs or KV bytes: llama.cpp's CPU
attention runs a chain of small per-head ops (K·Q, mask, softmax, V·KQ, copies) whose cost per attended
token dwarfs the KV bytes it reads. Its cycles per layer·head·token are fitted on published laptop and
board measurements, for decode (52) and for prefill (38, where the batch shares the per-op cost);
``EstimatorParams`` gives the evidence for each, and why the test machine's own slopes (≈300 and 80) are
not the shipped ones.

Narrow models (hidden < 1024 in decode, < 2048 in prefill) do not reach the FLOP rates the SIMD tables
give: the test machine prefilled SmolLM2-135M / Gemma3-270M at 124 / 229 tok/s (the plain FLOP
model said 755 / 390), and extra concurrent streams added almost no aggregate throughput. See
``EstimatorParams`` for each factor's anchors.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from toolkit.core.catalog.model import ModelSpec, QuantVariant
from toolkit.core.estimate.grades import Grade, grade
from toolkit.core.estimate.memory import kv_cache_bytes, kv_read_per_token, runtime_overhead_bytes
from toolkit.core.estimate.params import DEFAULT_PARAMS, EstimatorParams
from toolkit.core.estimate.speed import (
    attention_seconds,
    clock_ghz,
    compute_threads,
    decode_width_efficiency,
    effective_bandwidth,
    flop_rates,
    prefill_matmul_flops_per_token,
    prefill_width_efficiency,
)
from toolkit.core.machine.hardware import Machine
from toolkit.core.machine.platform_class import platform_class
from toolkit.errors import UsageError


@dataclass(frozen=True)
class EstimateFactors:
    """The machine-side numbers an estimate used, for explanations ("why 11 tok/s?").

    Attributes:
        bandwidth_gbps: the bandwidth figure before η (GB/s).
        bandwidth_source: "measured", "profile" or "assumed".
        eta: the share of it decode is expected to reach.
        effective_bandwidth_gbps: ``eta × bandwidth_gbps`` (× ``decode_speed_factor`` when calibrated).
        threads: cores llama.cpp computes on (P-cores on hybrid CPUs, capped by CPU limits).
        clock_ghz: clock used for the FLOP rates.
        simd: the SIMD class that picked the FLOPs-per-cycle factors.
        decode_gflops: matrix-vector rate used for the decode compute bound.
        prefill_gflops: matrix-matrix rate used for prefill.
        bytes_per_token: weights + KV read by one decode step of one stream.
        memory_time_s: time to stream those bytes (all streams' KV included).
        compute_time_s: time of the step's arithmetic.
        per_token_overhead_s: the fixed per-step cost added to the larger of the two.
        attention_time_s: one stream's attention time per decode step at the estimate's depth
            (added once per stream).
        prefill_width_efficiency: share of ``prefill_gflops`` a model this narrow reaches.
        prefill_eta: share of ``prefill_gflops`` (and of the clock prompt attention runs on) the CPU's
            platform class sustains in prefill (``EstimatorParams.prefill_eta_by_platform``).
        decode_width_efficiency: share of ``decode_gflops`` a model this narrow reaches.
        bound: which of memory / compute sets the step time.
        platform: the CPU's platform class (``toolkit.core.machine.platform_class``), which chose η for a
            theoretical bandwidth and the prefill η.
    """

    bandwidth_gbps: float
    bandwidth_source: str
    eta: float
    effective_bandwidth_gbps: float
    threads: int
    clock_ghz: float
    simd: str
    decode_gflops: float
    prefill_gflops: float
    bytes_per_token: int
    memory_time_s: float
    compute_time_s: float
    per_token_overhead_s: float
    attention_time_s: float
    prefill_width_efficiency: float
    prefill_eta: float
    decode_width_efficiency: float
    bound: Literal["memory", "compute"]
    platform: str


@dataclass(frozen=True)
class Estimate:
    """Predicted memory and speed of one model variant on one machine at one setting.

    Attributes:
        model: model name ("qwen2.5:3b"); tag: the variant's Ollama tag.
        context: tokens of context per slot (``num_ctx`` / ``OLLAMA_CONTEXT_LENGTH``).
        parallel: concurrent streams (``OLLAMA_NUM_PARALLEL``); each gets its own KV cache.
        kv_cache_type: "f16", "q8_0" or "q4_0".
        prompt_tokens: prompt length the TTFT assumes.
        decode_depth: tokens of history (KV read, attention) the decode figures are priced at.
        weights_bytes, kv_bytes, overhead_bytes, total_bytes: memory, bytes.
        decode_tps: tokens/s each stream sees when ``parallel`` streams decode at once.
        aggregate_tps: ``decode_tps × parallel``.
        single_stream_tps: tokens/s of one stream alone (what the grade of a single user is based on).
        prefill_tps: prompt tokens processed per second.
        ttft_s: time to first token of one request: prompt ÷ prefill + one decode step.
        grade: A/B/C of ``decode_tps`` against the speed lines 70/30/15, "<C" below 15.
        factors: see ``EstimateFactors``.
    """

    model: str
    tag: str
    context: int
    parallel: int
    kv_cache_type: str
    prompt_tokens: int
    decode_depth: int
    weights_bytes: int
    kv_bytes: int
    overhead_bytes: int
    total_bytes: int
    decode_tps: float
    aggregate_tps: float
    single_stream_tps: float
    prefill_tps: float
    ttft_s: float
    grade: Grade
    factors: EstimateFactors = field(repr=False)

    def answer_seconds(self, tokens: int) -> float:
        """Seconds until a ``tokens``-long answer is complete (TTFT + the rest at ``decode_tps``)."""
        return self.ttft_s + max(tokens - 1, 0) / self.decode_tps

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Answer tokens already written when a decode step is priced by default: a step then reads the prompt's
#: KV plus this much of the answer's.
ANSWER_DEPTH_TOKENS = 128


def decode_depth_for(prompt_tokens: int, context: int) -> int:
    """Tokens of history the default decode figure is priced at: the prompt plus ``ANSWER_DEPTH_TOKENS``,
    within the context."""
    return min(prompt_tokens + ANSWER_DEPTH_TOKENS, context)


def estimate(
    model: ModelSpec,
    variant: QuantVariant,
    machine: Machine,
    *,
    context: int = 4096,
    parallel: int = 1,
    kv_cache_type: str = "f16",
    prompt_tokens: int = 512,
    params: EstimatorParams = DEFAULT_PARAMS,
    decode_depth: int | None = None,
) -> Estimate:
    """Predict memory and speed of ``variant`` of ``model`` on ``machine`` (see the module docstring).

    Decode is predicted at ``decode_depth`` tokens of history (KV read and attention), by default
    ``decode_depth_for(prompt_tokens, context)``: the prompt plus part of the answer."""
    if context <= 0:
        raise UsageError(f"context must be positive, not {context}")
    if parallel <= 0:
        raise UsageError(f"parallel slots (users) must be positive, not {parallel}")
    if prompt_tokens < 0:
        raise UsageError(f"prompt length must not be negative, not {prompt_tokens}")
    if decode_depth is not None and not 0 <= decode_depth <= context:
        raise UsageError(f"decode depth must be between 0 and the context ({context}), not {decode_depth}")
    weights = variant.size_bytes
    kv = kv_cache_bytes(model, context, parallel, kv_cache_type, params)
    overhead = runtime_overhead_bytes(model, context, params)

    platform = platform_class(machine.cpu)
    bandwidth, eta, source = effective_bandwidth(machine, params)
    speed = params.decode_speed_factor  # 1.0 unless calibrated on this machine
    effective = bandwidth * eta * speed
    decode_rate, prefill_rate = flop_rates(machine, params)
    decode_rate *= speed
    depth = decode_depth_for(prompt_tokens, context) if decode_depth is None else decode_depth
    kv_read = kv_read_per_token(model, depth, kv_cache_type, params)
    attention_s = attention_seconds(model, machine, depth, params.decode_attention_cycles, params) / speed
    decode_width = decode_width_efficiency(model, params)

    def step(streams: int) -> tuple[float, float, float]:
        memory_s = (weights + streams * kv_read) / (effective * 1e9)
        compute_s = streams * 2 * model.params / (decode_rate * decode_width)
        fixed = params.per_token_overhead_s / speed + streams * attention_s
        return max(memory_s, compute_s) + fixed, memory_s, compute_s

    single_step, _, _ = step(1)
    step_s, memory_s, compute_s = step(parallel)
    per_stream = 1 / step_s
    width = prefill_width_efficiency(model, params)
    prompt_s = prefill_matmul_flops_per_token(model) / (prefill_rate * width) + attention_seconds(
        model, machine, max(prompt_tokens, 1) / 2, params.prefill_attention_cycles, params
    )
    prefill_eta = params.prefill_eta_for(platform)
    prefill_tps = params.prefill_speed_factor * prefill_eta / prompt_s
    ttft = prompt_tokens / prefill_tps + single_step
    factors = EstimateFactors(
        bandwidth_gbps=bandwidth,
        bandwidth_source=source,
        eta=eta,
        effective_bandwidth_gbps=round(effective, 2),
        threads=compute_threads(machine),
        clock_ghz=clock_ghz(machine, params),
        simd=machine.cpu.best_simd,
        decode_gflops=round(decode_rate / 1e9, 1),
        prefill_gflops=round(prefill_rate / 1e9, 1),
        bytes_per_token=weights + kv_read,
        memory_time_s=memory_s,
        compute_time_s=compute_s,
        per_token_overhead_s=params.per_token_overhead_s / speed,
        attention_time_s=attention_s,
        prefill_width_efficiency=width,
        prefill_eta=prefill_eta,
        decode_width_efficiency=decode_width,
        bound="memory" if memory_s >= compute_s else "compute",
        platform=platform,
    )
    return Estimate(
        model=model.name,
        tag=variant.tag,
        context=context,
        parallel=parallel,
        kv_cache_type=kv_cache_type,
        prompt_tokens=prompt_tokens,
        decode_depth=depth,
        weights_bytes=weights,
        kv_bytes=kv,
        overhead_bytes=overhead,
        total_bytes=weights + kv + overhead,
        decode_tps=per_stream,
        aggregate_tps=per_stream * parallel,
        single_stream_tps=1 / single_step,
        prefill_tps=prefill_tps,
        ttft_s=ttft,
        grade=grade(per_stream),
        factors=factors,
    )


__all__ = ["ANSWER_DEPTH_TOKENS", "Estimate", "EstimateFactors", "decode_depth_for", "estimate"]
