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
- ``kv_cache_bytes(model, context, parallel=1, kv_cache_type="f16")`` — Ollama's KV formula (gemma3
  sliding-window aware); ``runtime_overhead_bytes(model, context)``; ``grade(tokens_per_s)``.
- ``compute_threads(machine)``, ``effective_bandwidth(machine, params)`` — the machine-side inputs.

The model, in one place:

    memory      = weights (GGUF size) + KV (2·L·n_kv·d_head·ctx·slots·bytes/elem)
                  + runtime (process + llama.cpp state + vocabulary tables + compute buffer)
    decode step = max(bytes read / (η·BW), 2·N·slots / (decode FLOP rate · width efficiency))
                  (η: ``eta_measured`` for the probe's figure, else the CPU's platform class's)
                  + per-token overhead + slots · attention(depth)
    attention   = cycles · Σ_layers heads · tokens attended (window-capped) / (threads · clock)
    prefill     = 1 / (2·N_matmul / (prefill FLOP rate · width efficiency) + attention(prompt / 2))
    TTFT        = prompt tokens / prefill + one decode step

Attention is a *time* per (layer × query head × context token), not FLOPs or KV bytes: llama.cpp's CPU
attention without flash attention (Ollama's default on CPUs) runs a chain of small per-head ops (K·Q,
mask, softmax, V·KQ, copies) whose cost per attended token dwarfs the KV bytes it reads. Measured on the
test machine (docs/bench-report.txt: 2 × Xeon vCPU, AVX-512, llama.cpp behind the Ollama API): SmolLM2-135M
(30 layers × 9 heads) decodes 65.8 tok/s at ~110 tokens of history but 35.8 at ~1,040, while Gemma3-270M
(18 × 4 heads, 5 of 6 layers windowed) goes only 40.7 → 35.5. Both slopes fit ~300 core-cycles per
layer·head·token in decode (≈0.05 µs on 2 cores at 3 GHz) and ~80 in prefill, where the batch shares the
per-op cost. Flash attention (which gpuless's compose turns on) fuses these ops and is probably cheaper;
no measurement with it exists yet, so the estimate keeps the unfused cost.

Narrow models (hidden < 1024 in decode, < 3072 in prefill) do not reach the FLOP rates the SIMD tables
give: the same test machine prefilled SmolLM2-135M / Gemma3-270M at 124 / 229 tok/s (the plain FLOP
model said 755 / 390), and extra concurrent streams added almost no aggregate throughput. See
``EstimatorParams`` for each factor's anchors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from toolkit.core.catalog import ModelSpec, QuantVariant
from toolkit.core.hardware import Machine
from toolkit.core.platform_class import (
    AMD_ZEN2_3,
    AMD_ZEN4,
    ARM_BOARD,
    INTEL_12PLUS,
    INTEL_PRE12,
    platform_class,
)
from toolkit.errors import UsageError

KvCacheType = Literal["f16", "q8_0", "q4_0"]
Grade = Literal["A", "B", "C", "<C"]

MIB = 1024**2

#: KV bytes per element as Ollama's estimator counts them (``kvCacheBytesPerElement``, fs/ggml/ggml.go):
#: q8_0 is "half of f16", q4_0 "a quarter". ggml's real block sizes are 34/32 and 18/32 bytes
#: (``KV_BYTES_PER_ELEMENT_EXACT``); the difference is 6–12% of a small number, and matching Ollama's own
#: figure is what lets a user compare gpuless with Ollama's log.
KV_BYTES_PER_ELEMENT: dict[str, float] = {"f16": 2.0, "q8_0": 1.0, "q4_0": 0.5}
KV_BYTES_PER_ELEMENT_EXACT: dict[str, float] = {"f16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}

#: Speed lines (tokens/s per user) and their grades, the project's three: 70 feels instant (A), 30 is
#: faster than anyone reads (B), 15 is comfortable reading (C). Below the C line there is no fourth letter:
#: the grade reads "<C" ("below C, under 15 tok/s"), a plain reference, not a failing mark, because a
#: pick can sit under 15 tok/s and still meet the user's own target (10 tok/s by default).
GRADE_LINES: tuple[tuple[float, Grade], ...] = ((70.0, "A"), (30.0, "B"), (15.0, "C"))
BELOW_C: Grade = "<C"
GRADE_MEANINGS: dict[str, str] = {
    "A": "A, 70+ tok/s: instant",
    "B": "B, 30+ tok/s: faster than you read",
    "C": "C, 15+ tok/s: reading pace",
    BELOW_C: "below C's 15 tok/s",
}

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
#: Apple NEON 103–145 (M2 Pro, M4) → 31 at their higher clocks.
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

#: Vocabulary size by catalog family, to take the token-embedding (and untied output) matrices out of the
#: prefill FLOPs: llama.cpp looks embeddings up by row and computes logits only for a prompt's last token,
#: so a prompt token multiplies only the layers' weights. It matters for tiny models: 63% of Gemma3-270M's
#: parameters are its 262k × 640 embedding. Values from each family's GGUF ``tokenizer.ggml.tokens``;
#: unknown families keep the whole 2·N (an over-estimate of the work, so prefill is not over-promised).
VOCAB_SIZE_BY_FAMILY: dict[str, int] = {
    "gemma3": 262144,
    "llama3.1": 128256,
    "llama3.2": 128256,
    "mistral": 32768,
    "phi4-mini": 200064,
    "qwen2.5": 151936,
    "qwen3": 151936,
    "smollm2": 49152,
}

#: η per platform class for a theoretical / profile bandwidth, fitted by scripts/bench_estimator.py on
#: tests/data/published_cpu_speeds.toml (docs/estimator-fit.txt); classes not listed (Apple, whose points
#: the fit half lacks, and ``other``) use ``EstimatorParams.eta_theoretical``.
FITTED_ETA_THEORETICAL: dict[str, float] = {
    AMD_ZEN2_3: 0.80,
    AMD_ZEN4: 0.60,
    ARM_BOARD: 0.36,
    INTEL_12PLUS: 0.90,
    INTEL_PRE12: 0.58,
}

_CLOCK_IN_NAME = re.compile(r"@\s*([0-9]+(?:\.[0-9]+)?)\s*GHz", re.IGNORECASE)


@dataclass(frozen=True)
class EstimatorParams:
    """Every tunable factor of the estimator, with the reason for its default.

    Attributes:
        eta_theoretical: decode's share of a *theoretical* peak bandwidth (hardware profiles, spec sheets)
            for a platform class ``eta_theoretical_by_platform`` has no fitted value for (Apple, servers,
            virtual and unknown CPUs): x86 laptops reach 0.5–0.72 of it in the §3 community data; 0.6 is
            the middle. Apple's CPU-only share is folded into its profiles' ``cpu_bandwidth_share``.
        eta_theoretical_by_platform: decode's share of a theoretical or profile bandwidth per platform
            class (``toolkit.core.platform_class``), fitted by scripts/bench_estimator.py on the fit half
            of tests/data/published_cpu_speeds.toml (docs/estimator-fit.txt): Zen 2/3 0.80, Zen 4/5 0.60,
            Arm boards 0.36, Intel 12th gen+ 0.90, older Intel 0.58, fitted together with 52 decode
            attention cycles, which are not shipped (see ``decode_attention_cycles``). On the held-out
            points with short history (≤ 300 tokens, where attention hardly counts) the decode error
            falls from 0.19 to 0.14 with it; the fit's 0.07 overall also needs its attention term.
        eta_measured: share of a *measured* streaming-read bandwidth (the probe), for every platform class:
            a measured figure already contains the platform's gap to its theoretical peak, so the
            per-class table does not apply to it. 0.85–0.9 of STREAM on a Raspberry Pi 5
            (llama.cpp#26484), the low end used. The probe's figure is preferred whenever the machine has
            one (``effective_bandwidth``).
        assumed_bandwidth_gbps: used when the machine's bandwidth is unknown: DDR4-2400 dual channel,
            the slowest common laptop memory (so an unknown machine is not over-promised).
        per_token_overhead_s: fixed cost of each decode step that is neither weight streaming nor matrix
            maths: sampling over the vocabulary, graph build, thread barriers, streaming the token out.
            It caps tiny models (SmolLM2-135M would otherwise be predicted far faster than it runs).
            With the attention term, 1.6 ms puts SmolLM2-135M at 68 and Gemma3-270M at 34 tok/s on the
            test machine at a 47-token prompt (measured 65.8 and 40.7; tests/core/test_estimate.py).
        default_clock_ghz: sustained all-core clock assumed when neither the profile nor the CPU name
            gives one (laptop CPUs under load settle around 2.5–3.5 GHz).
        decode_attention_cycles: core-cycles of llama.cpp's CPU attention per (layer × query head × context
            token) in one decode step, divided over ``threads × clock``. Calibrated on the test machine
            (docs/bench-report.txt, 2 cores at 3 GHz assumed): SmolLM2-135M's step grows 15.2 → 27.9 ms
            from ~175 to ~1,100 tokens of history (270 layer·heads: 0.045–0.06 µs each) and Gemma3-270M's
            24.6 → 28.2 ms (72 layer·heads, windowed layers capped like the KV cache); 300 cycles = 0.05 µs.
            Kept although the published fit prefers 52 cycles (docs/estimator-fit.txt: with it the
            held-out decode error is 0.07, without it 0.21, because LocalScore's long-history points
            run 0.70× as fast as predicted at 300): the test machine's own slope says 300, the reason for
            the difference (flash attention, a 2-vCPU VM, the engine build) is not known, and at 52
            the 16 GB DDR5 profile's pick becomes a 7B model at 10.1 tok/s, just over the target.
        prefill_attention_cycles: the same for each prompt token over the prompt's average depth (half its
            length). Batched, the per-op cost is shared: SmolLM2-135M's prefill falls from 163 tok/s at 47
            prompt tokens to 124 at 976 and Gemma3-270M's from 249 to 229, slopes of 0.011–0.016 µs at
            2 × 3 GHz → 80 cycles.
        prefill_full_width: hidden size from which llama.cpp's batched matmul reaches the
            ``PREFILL_FLOPS_PER_CYCLE`` rate; narrower models get ``hidden / prefill_full_width`` of it.
            Small matrices (576–640 wide) split into few blocks per thread and spend their time in
            quantising activations, barriers and non-matmul ops: SmolLM2-135M and Gemma3-270M prefill at
            35–50 GFLOP/s of layer weights on the test machine, ~0.16–0.23 of the 216 GFLOP/s an
            AVX-512 laptop's 8B model reaches (§3a anchors, all hidden ≥ 3072). Calibrated only at the two
            ends; the straight line in between is an assumption.
        decode_full_width: the same for decode's matrix-vector products, from ``DECODE_FLOPS_PER_CYCLE``
            at this hidden size down to ``hidden / decode_full_width`` below it. A single stream of a
            tiny model is memory- or overhead-bound, so this shows when streams share a step: on the
            test machine SmolLM2-135M's aggregate went 73 → 82 → 78 tok/s of decode at 1 / 2 / 4 streams
            and Gemma3-270M's 41 → 53 → 54 (docs/bench-report.txt), i.e. each extra stream cost
            9.5 ms / 17.5 ms of arithmetic: 2·N at 28–31 GFLOP/s, 0.58–0.64 of the 48 the table gives
            2 × 3 GHz AVX-512 at hidden 576 / 640. Only models narrower than 1024 are affected.
        runtime_base_bytes: resident memory of the runner process besides the model's own buffers:
            the host process (33 MiB for the test server's Python + xllamacpp before loading, measured;
            an Ollama runner is a Go + C++ process of the same order, not measured) plus llama.cpp's
            context, thread pool and backend state (23 MiB, fitted). Measured by
            scripts/measure_memory.py, see docs/memory-measured.txt. The Ollama *server* process that
            spawns the runner is not included (ollama ps does not count it either).
        vocab_bytes_per_token: resident bytes per vocabulary entry: llama.cpp's token tables (text,
            score, attributes, the text → id map), the sampler's candidate array and the logits row.
            Fitted (≈ 231 B) from the two test models, whose vocabularies differ five-fold
            (SmolLM2 49,152, Gemma 3 262,144) while everything else is similar.
        activation_floats_per_hidden: floats per token × hidden size in llama.cpp's compute buffer
            (flash attention, which llama.cpp turns on automatically on CPUs, so no context-sized
            attention-score matrix): residual, norms, Q/K/V, FFN inputs. 8 is an assumption; the term is
            9–10 MiB for the test models at ubatch 512, small beside the measured totals.
        ubatch: llama.cpp's physical batch (``-ub``, 512): sizes the compute buffer.
        exact_kv_sizes: use ggml's true q8_0/q4_0 block sizes instead of Ollama's ½ / ¼.
        decode_speed_factor: this machine's measured ÷ predicted decode speed (1.0 uncalibrated). It
            multiplies every machine term of a decode step alike (effective bandwidth and decode FLOP
            rate up, per-token overhead and attention time down), so it belongs to the machine and
            carries over from a benchmarked model to every other (``toolkit.core.calibration``).
        prefill_speed_factor: the same for prefill (FLOP rate and prompt attention time).
        runtime_memory_factor: the same for the runtime memory term (weights and KV are exact sizes).
    """

    eta_theoretical: float = 0.6
    eta_theoretical_by_platform: Mapping[str, float] = field(
        default_factory=lambda: dict(FITTED_ETA_THEORETICAL)
    )
    eta_measured: float = 0.85
    assumed_bandwidth_gbps: float = 38.4
    per_token_overhead_s: float = 0.0016
    default_clock_ghz: float = 3.0
    decode_attention_cycles: float = 300.0
    prefill_attention_cycles: float = 80.0
    prefill_full_width: int = 3072
    decode_full_width: int = 1024
    runtime_base_bytes: int = 56 * MIB
    vocab_bytes_per_token: int = 231
    activation_floats_per_hidden: int = 8
    ubatch: int = 512
    exact_kv_sizes: bool = False
    decode_speed_factor: float = 1.0
    prefill_speed_factor: float = 1.0
    runtime_memory_factor: float = 1.0

    def eta_theoretical_for(self, platform: str) -> float:
        """η for a theoretical or profile bandwidth on ``platform`` (the class's fitted value, else the
        shipped ``eta_theoretical``)."""
        return self.eta_theoretical_by_platform.get(platform, self.eta_theoretical)


DEFAULT_PARAMS = EstimatorParams()


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
        decode_width_efficiency: share of ``decode_gflops`` a model this narrow reaches.
        bound: which of memory / compute sets the step time.
        platform: the CPU's platform class (``toolkit.core.platform_class``), which chose η for a
            theoretical bandwidth.
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
        prompt_tokens: prompt length the TTFT and the KV read depth assume.
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


# --- factors --------------------------------------------------------------------------------------


def grade(tokens_per_s: float) -> Grade:
    """A ≥ 70, B ≥ 30, C ≥ 15 tokens/s, else "<C" (below the C line)."""
    for line, letter in GRADE_LINES:
        if tokens_per_s >= line:
            return letter
    return BELOW_C


def grade_meaning(letter: str) -> str:
    """The grade in words, e.g. "C, 15+ tok/s: reading pace" or "below C's 15 tok/s"."""
    return GRADE_MEANINGS.get(letter, letter)


def kv_bytes_per_element(kv_cache_type: str, params: EstimatorParams = DEFAULT_PARAMS) -> float:
    table = KV_BYTES_PER_ELEMENT_EXACT if params.exact_kv_sizes else KV_BYTES_PER_ELEMENT
    if kv_cache_type not in table:
        raise UsageError(f"unknown KV cache type {kv_cache_type!r}", hint="choose one of: f16, q8_0, q4_0")
    return table[kv_cache_type]


def _layer_tokens(model: ModelSpec, context: int, parallel: int, ubatch: int) -> list[int]:
    """Tokens each layer keeps in its KV cache (all slots together).

    Global-attention layers keep ``context × parallel``. Gemma 3 keeps the full context only in every
    ``sliding_window_pattern``-th layer; the others keep ``parallel × window + ubatch`` (Ollama's
    ``GraphSize`` gemma3 case), never more than the full context.
    """
    full = context * parallel
    if not (model.sliding_window and model.sliding_window_pattern):
        return [full] * model.layers
    local = min(full, parallel * model.sliding_window + ubatch)
    pattern = model.sliding_window_pattern
    return [full if (i + 1) % pattern == 0 else local for i in range(model.layers)]


def kv_cache_bytes(
    model: ModelSpec,
    context: int,
    parallel: int = 1,
    kv_cache_type: str = "f16",
    params: EstimatorParams = DEFAULT_PARAMS,
) -> int:
    """KV cache size: Σ over layers of tokens × 2 (K and V) × kv_heads × head_dim × bytes per element."""
    if context <= 0 or parallel <= 0:
        raise UsageError("context and parallel must be positive")
    per_token_layer = 2 * model.kv_heads * model.head_dim * kv_bytes_per_element(kv_cache_type, params)
    tokens = _layer_tokens(model, context, parallel, params.ubatch)
    return int(sum(tokens) * per_token_layer)


#: Vocabulary assumed for a family ``VOCAB_SIZE_BY_FAMILY`` does not know (between Llama 3's 128k and
#: Qwen's 152k; memory only, so the error is a few tens of MiB).
DEFAULT_VOCAB_SIZE = 150_000


def runtime_overhead_bytes(model: ModelSpec, context: int, params: EstimatorParams = DEFAULT_PARAMS) -> int:
    """Resident memory besides the GGUF file and the KV cache: runtime, vocabulary tables, compute buffer.

    Measured on real llama.cpp (scripts/measure_memory.py, docs/memory-measured.txt): for both test
    models the resident size grows with the context exactly as the KV formula says, so what remains is
    fixed; it is 43 MiB (SmolLM2-135M) and 91 MiB (Gemma 3 270M) beside the weights and KV, a difference
    their vocabularies explain. ``context`` is kept for callers; with flash attention the compute buffer
    does not grow with it.
    """
    del context
    vocab = VOCAB_SIZE_BY_FAMILY.get(model.family, DEFAULT_VOCAB_SIZE)
    compute = 4 * params.ubatch * params.activation_floats_per_hidden * model.embedding_length
    runtime = params.runtime_base_bytes + params.vocab_bytes_per_token * vocab + compute
    return int(runtime * params.runtime_memory_factor)


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


def _kv_read_per_token(model: ModelSpec, depth: int, kv_type: str, params: EstimatorParams) -> int:
    """KV bytes one decode step of one stream reads at ``depth`` tokens of history."""
    return kv_cache_bytes(model, max(depth, 1), 1, kv_type, params) if depth > 0 else 0


def prefill_flops_per_token(model: ModelSpec, prompt_tokens: int) -> float:
    """2·N for the weights plus 2·L·(average context)·d_attn for attention (Kaplan et al. 2020, Table 1).

    The textbook figure, kept for explanations; ``estimate`` times the two parts separately
    (``prefill_matmul_flops_per_token`` and ``attention_seconds``) because on CPUs their rates differ."""
    attention = 2 * model.layers * (prompt_tokens / 2) * model.heads * model.head_dim
    return 2 * model.params + attention


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
    """Share of the prefill FLOP rate a model of this hidden size reaches (see ``prefill_full_width``)."""
    return min(1.0, model.embedding_length / params.prefill_full_width)


def decode_width_efficiency(model: ModelSpec, params: EstimatorParams = DEFAULT_PARAMS) -> float:
    """Share of the decode FLOP rate a model of this hidden size reaches (see ``decode_full_width``)."""
    return min(1.0, model.embedding_length / params.decode_full_width)


# --- the estimate ---------------------------------------------------------------------------------


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
) -> Estimate:
    """Predict memory and speed of ``variant`` of ``model`` on ``machine`` (see the module docstring)."""
    if context <= 0:
        raise UsageError(f"context must be positive, not {context}")
    if parallel <= 0:
        raise UsageError(f"parallel slots (users) must be positive, not {parallel}")
    if prompt_tokens < 0:
        raise UsageError(f"prompt length must not be negative, not {prompt_tokens}")
    weights = variant.size_bytes
    kv = kv_cache_bytes(model, context, parallel, kv_cache_type, params)
    overhead = runtime_overhead_bytes(model, context, params)

    bandwidth, eta, source = effective_bandwidth(machine, params)
    speed = params.decode_speed_factor  # 1.0 unless calibrated on this machine
    effective = bandwidth * eta * speed
    decode_rate, prefill_rate = flop_rates(machine, params)
    decode_rate *= speed
    depth = min(prompt_tokens + 128, context)  # KV history a step reads: the prompt plus part of the answer
    kv_read = _kv_read_per_token(model, depth, kv_cache_type, params)
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
    prefill_tps = params.prefill_speed_factor / prompt_s
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
        decode_width_efficiency=decode_width,
        bound="memory" if memory_s >= compute_s else "compute",
        platform=platform_class(machine.cpu),
    )
    return Estimate(
        model=model.name,
        tag=variant.tag,
        context=context,
        parallel=parallel,
        kv_cache_type=kv_cache_type,
        prompt_tokens=prompt_tokens,
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


__all__ = [
    "DECODE_FLOPS_PER_CYCLE",
    "DEFAULT_PARAMS",
    "GRADE_LINES",
    "KV_BYTES_PER_ELEMENT",
    "KV_BYTES_PER_ELEMENT_EXACT",
    "PREFILL_FLOPS_PER_CYCLE",
    "VOCAB_SIZE_BY_FAMILY",
    "Estimate",
    "EstimateFactors",
    "EstimatorParams",
    "attended_head_tokens",
    "attention_seconds",
    "compute_threads",
    "decode_width_efficiency",
    "effective_bandwidth",
    "estimate",
    "flop_rates",
    "grade",
    "kv_cache_bytes",
    "prefill_flops_per_token",
    "prefill_matmul_flops_per_token",
    "prefill_width_efficiency",
    "runtime_overhead_bytes",
]
