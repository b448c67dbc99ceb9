"""Every tunable factor of the estimator in one frozen dataclass, with the evidence for each default.

Kept apart from the arithmetic (``toolkit.core.estimate.memory``, ``toolkit.core.estimate.speed``,
``core.estimate.estimator``) because the parameters have a life of their own: scripts/bench_estimator.py fits
some of them on published measurements, ``toolkit.core.estimate.calibration`` scales them by what a benchmark
measured on this machine, and every term takes them as an argument so a caller can try other values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from toolkit.core.machine.platform_class import (
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

#: Prefill η per platform class: the share of the ``PREFILL_FLOPS_PER_CYCLE`` rate (at the assumed clock)
#: the class's cores sustain in llama.cpp's batched matmul, fitted by scripts/bench_estimator.py on the fit
#: half of tests/data/published_cpu_speeds.toml (docs/estimator-fit.txt); classes not listed (Apple and Arm
#: boards, which have no prefill point in the fit half, and ``other``) get 1, the table's rate.
FITTED_PREFILL_ETA: dict[str, float] = {
    AMD_ZEN2_3: 0.91,
    AMD_ZEN4: 1.03,
    INTEL_12PLUS: 0.97,
    INTEL_PRE12: 0.65,
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
            class (``core.machine.platform_class``), fitted by scripts/bench_estimator.py on the fit half
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
            test machine at a 47-token prompt (measured 65.8 and 40.7;
            tests/core/estimate/test_estimator.py); the published fit's 1.66 ms is the same within its
            resolution.
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
            measurement suggested more (docs/bench-report-xeon.txt, 2 vCPUs at 3 GHz assumed): SmolLM2-135M's
            step grows 15.2 → 27.9 ms from ~175 to ~1,100 tokens of history (270 layer·heads: 0.045–0.06
            µs each, ≈300 cycles) and Gemma3-270M's 24.6 → 28.2 ms; why it differs (a 2-vCPU VM, models
            only 576–640 wide, the engine build) is not known. A machine that differs from the published
            laptops is corrected by its own benchmarks: ``core.estimate.calibration`` scales this term with
            the rest of the decode step by the measured ÷ predicted speed.
        prefill_attention_cycles: the same for each prompt token over the prompt's average depth (half its
            length). 38 is the fit on the fit half of tests/data/published_cpu_speeds.toml
            (scripts/bench_estimator.py: 37.8, rounded, fitted with the prefill η and width below). With the
            prefill η refitted the fit half's error hardly moves with it (0.233–0.243 from 10 to 80 cycles: it
            mostly shifts the level, which the η takes up); the evidence is the three published pairs of one
            machine and model at a 512- and a 4,096-token prompt, whose ratio depends on this term alone:
            published 0.60 / 0.79 / 0.83, 38 cycles give 0.62 / 0.84 / 0.81 and the earlier 80 give 0.46 /
            0.71 / 0.68 with the width term below (docs/estimator-fit.txt; held-out prefill error 0.103 at 38,
            0.155 at 80). 80 is the test machine's own slope: SmolLM2-135M's prefill falls from 163 tok/s at
            47 prompt tokens to 124 at 976 and Gemma3-270M's from 249 to 229, 0.011–0.016 µs per
            layer·head·token at 2 × 3 GHz. At 38 the shipped term predicts SmolLM2-135M's 976-token prefill
            there at ~163 tok/s (+31%; 141 with its own 80); as for decode, its benchmark calibration corrects
            that.
        prefill_eta_by_platform: prefill η per platform class (``core.machine.platform_class``): the share
            of the ``PREFILL_FLOPS_PER_CYCLE`` rate at the assumed clock (and of the clock prompt
            attention runs on) the class's cores sustain, i.e. their sustained all-core clock under a
            long vector load and their int8 dot-product throughput against the table's. Each value is the
            median published ÷ predicted prefill of the class's points in the fit half of
            tests/data/published_cpu_speeds.toml (scripts/bench_estimator.py, with the width and attention
            terms fitted with it): Zen 2/3 0.91, Zen 4/5 1.03, Intel 12th gen+ 0.97, older Intel 0.65
            (its fit-half points are 15–28 W Skylake-family, Tiger Lake and Haswell laptops and an N100
            mini PC; 0.65 is what ~2 GHz sustained instead of the assumed 3 GHz would give). Classes
            without a prefill point in the fit half (Apple, Arm boards) and ``other`` get 1, the table's
            rate: the held-out Cix CP8180 points are predicted at 2.3–2.5× their published prefill and the
            Apple M4 at 0.68× (the NEON rate comes from Apple chips at their own clocks, not from an Arm
            board's Cortex cores at the assumed 3 GHz). Held-out prefill error 0.103 with this table,
            0.465 with 1 for every class and 0.282 when the fit uses one value for all classes.
        prefill_full_width: hidden size from which llama.cpp's batched matmul reaches the
            ``PREFILL_FLOPS_PER_CYCLE`` rate; narrower models get ``(hidden / prefill_full_width) **
            prefill_width_exponent`` of it. Small matrices (576–640 wide) split into few blocks per thread
            and spend their time in quantising activations, barriers and non-matmul ops: SmolLM2-135M and
            Gemma3-270M prefill at 35–50 GFLOP/s of layer weights on the test machine, ~0.16–0.23 of the
            216 GFLOP/s an AVX-512 laptop's 8B model reaches. 2048 is where the published models stop
            losing: one machine prefilling a 2048- and a 4096-wide model (LocalScore: Llama 3.2 1B and 3.1
            8B) runs them 5.6–8.7× apart against 7.2× their matmul FLOPs, and the Cix CP8180 TinyLlama
            1.1B and Llama 3.2 3B 2.39× against 2.56×, so a 2048-wide model is not slower per FLOP than
            a wider one; the earlier straight line to 3072 predicted 4.4–4.5× and 1.66×
            (docs/estimator-fit.txt; held-out prefill error 0.246 with it). The fit on the fit half's one
            such pair takes the widest width that reproduces it best; the fit half's median error alone
            hardly tells 1536–2560 apart (0.234–0.243; held-out 0.106 at 2048, 0.208 at 2560). No
            published model is narrower, so below 2048 only the test machine's anchor speaks.
        prefill_width_exponent: the exponent of that power law, set so that the test machine's narrow
            models keep the efficiency their prefill measurements gave them (576 / 640 wide: 0.185 /
            0.213, where the earlier straight line had 0.188 / 0.208): ln(608 / 3072) / ln(608 / 2048)
            = 1.33.
        decode_full_width: the same for decode's matrix-vector products, from ``DECODE_FLOPS_PER_CYCLE``
            at this hidden size down to ``hidden / decode_full_width`` below it. A single stream of a
            tiny model is memory- or overhead-bound, so this shows when streams share a step: on the
            test machine SmolLM2-135M's aggregate went 73 → 82 → 78 tok/s of decode at 1 / 2 / 4 streams
            and Gemma3-270M's 41 → 53 → 54 (docs/bench-report-xeon.txt), i.e. each extra stream cost
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
            carries over from a benchmarked model to every other (``toolkit.core.estimate.calibration``).
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
    prefill_attention_cycles: float = 38.0
    prefill_eta_by_platform: Mapping[str, float] = field(default_factory=lambda: dict(FITTED_PREFILL_ETA))
    prefill_full_width: int = 2048
    prefill_width_exponent: float = 1.33
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

    def prefill_eta_for(self, platform: str) -> float:
        """Prefill η on ``platform`` (the class's fitted value, else 1: the SIMD table's rate)."""
        return self.prefill_eta_by_platform.get(platform, 1.0)


DEFAULT_PARAMS = EstimatorParams()


__all__ = ["DEFAULT_PARAMS", "FITTED_ETA_THEORETICAL", "FITTED_PREFILL_ETA", "EstimatorParams"]
