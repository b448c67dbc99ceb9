"""Every tunable factor of the estimator in one frozen dataclass, with the evidence for each default.

Kept apart from the arithmetic (``toolkit.core.memory_terms``, ``toolkit.core.speed_terms``,
``toolkit.core.estimate``) because the parameters have a life of their own: scripts/bench_estimator.py fits
some of them on published measurements, ``toolkit.core.calibration`` scales them by what a benchmark
measured on this machine, and every term takes them as an argument so a caller can try other values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from toolkit.core.platform_class import (
    AMD_ZEN2_3,
    AMD_ZEN4,
    ARM_BOARD,
    INTEL_12PLUS,
    INTEL_PRE12,
)
from toolkit.core.units import MIB

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
            Arm boards 0.36, Intel 12th gen+ 0.90, older Intel 0.58, fitted together with the 52 decode
            attention cycles of ``decode_attention_cycles``; with both, the held-out decode error is 0.073
            (0.206 with this table and the earlier 300 cycles, 0.192 with one η of 0.6 and 300 cycles).
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
            With the attention term, 1.6 ms puts SmolLM2-135M at 78 and Gemma3-270M at 35 tok/s on the
            test machine at a 47-token prompt (measured 65.8 and 40.7; tests/core/test_estimate.py); the
            published fit's 1.66 ms is the same within its resolution.
        default_clock_ghz: sustained all-core clock assumed when neither the profile nor the CPU name
            gives one (laptop CPUs under load settle around 2.5–3.5 GHz).
        decode_attention_cycles: core-cycles of llama.cpp's CPU attention per (layer × query head × context
            token) in one decode step, divided over ``threads × clock``. 52 is the fit on the fit half of
            tests/data/published_cpu_speeds.toml (scripts/bench_estimator.py: 52.2, rounded; laptops and
            boards running llama.cpp / Ollama / LocalScore at 64–1,800 tokens of history): the held-out
            decode error falls from 0.206 at the earlier 300 cycles to 0.073, and on held-out points with
            more than 300 tokens of history from 0.27 to 0.07 (docs/estimator-fit.txt); at 300 the
            predictions of the long-history points were 0.3–0.7× the published speeds (Apple M4 0.33×,
            now 0.57×, the rest of its gap being its unfitted η). This machine's own small-model
            measurement suggested more (docs/bench-report.txt, 2 vCPUs at 3 GHz assumed): SmolLM2-135M's
            step grows 15.2 → 27.9 ms from ~175 to ~1,100 tokens of history (270 layer·heads: 0.045–0.06
            µs each, ≈300 cycles) and Gemma3-270M's 24.6 → 28.2 ms; why it differs (a 2-vCPU VM, models
            only 576–640 wide, the engine build) is not known. A machine that differs from the published
            laptops is corrected by its own benchmarks: ``toolkit.core.calibration`` scales this term with
            the rest of the decode step by the measured ÷ predicted speed.
        prefill_attention_cycles: the same for each prompt token over the prompt's average depth (half its
            length). Batched, the per-op cost is shared: SmolLM2-135M's prefill falls from 163 tok/s at 47
            prompt tokens to 124 at 976 and Gemma3-270M's from 249 to 229, slopes of 0.011–0.016 µs at
            2 × 3 GHz → 80 cycles. Kept although the published fit prefers 16.4 (held-out prefill error
            0.340 with it, 0.382 at 80; docs/estimator-fit.txt): the three published pairs of one machine
            and model at a 512- and a 4,096-token prompt, the only points whose ratio depends on this
            term alone, fall to 0.60 / 0.79 / 0.83, which 80 cycles gives as 0.54 / 0.71 / 0.68 and 16.4
            as 0.84 / 0.92 / 0.91. A lower value mostly raises prefill at 512-token prompts, where attention
            is ~10% of the time, i.e. it moves the level, not the slope. The fit's factor 1.04 is not
            shipped either: with it the held-out prefill error rises (0.340 → 0.354).
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
    decode_attention_cycles: float = 52.0
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


__all__ = ["DEFAULT_PARAMS", "FITTED_ETA_THEORETICAL", "EstimatorParams"]
