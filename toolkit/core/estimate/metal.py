"""Predict what native Ollama reaches on a Mac's GPU (Metal), beside the CPU-only Docker figure.

Docker Desktop on macOS runs Ollama in a Linux VM on the CPU only ("GPU acceleration is not available for
Docker Desktop in macOS", Ollama's docs/faq.mdx); Ollama installed natively runs llama.cpp's Metal backend
on the GPU, which reads the SoC's full unified-memory bandwidth. gpuless's ``up --runtime native`` starts
that Ollama, so on a Mac this module says how fast it would be.

The model, fitted by scripts/fit_metal.py on the fit half of tests/data/published_metal_speeds.toml
(docs/metal-fit.txt; cited llama-bench and Ollama figures, the held-out half kept apart):

    decode step = (weights + KV read at the depth) / (η · bandwidth) + per-step overhead
    prefill     = η_prefill · GPU FP32 FLOP rate / (2 · matmul weights per token)
    TTFT        = prompt tokens / prefill + one decode step

The chip's bandwidth is Apple's SoC figure (the #4167 table's), its FP32 rate the figure
huggingface.js lists per chip (packages/tasks/src/hardware.ts) at the chip's usual GPU core count.
Only Apple M-series chips named in ``APPLE_CHIPS`` are predicted; another Mac gets no figure.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from toolkit.core.catalog.model import ModelSpec, QuantVariant
from toolkit.core.estimate.memory import kv_read_per_token
from toolkit.core.estimate.params import DEFAULT_PARAMS
from toolkit.core.estimate.speed import prefill_matmul_flops_per_token
from toolkit.core.machine.hardware import Machine


@dataclass(frozen=True)
class AppleChip:
    """An Apple M-series chip's GPU side.

    Attributes:
        name: "Apple M2 Pro".
        bandwidth_gbps: unified-memory bandwidth, GB/s (Apple's figure, llama.cpp#4167's table).
        gpu_cores: the usual GPU core count (the binned parts have fewer).
        gpu_tflops: FP32 TFLOP/s at ``gpu_cores`` (huggingface.js hardware.ts).
    """

    name: str
    bandwidth_gbps: float
    gpu_cores: int
    gpu_tflops: float


def _chips(*rows: tuple[str, float, int, float]) -> dict[str, AppleChip]:
    return {name: AppleChip(name, bw, cores, tf) for name, bw, cores, tf in rows}


#: Bandwidth: llama.cpp#4167's table (M1 68, M2/M3 100, M4 120, M3 Pro 150, M1/M2 Pro 200, M4 Pro 273,
#: Max 400, M4 Max 546, Ultra 800); M5 153 (Apple's M5 announcement). TFLOP/s: huggingface.js
#: packages/tasks/src/hardware.ts. The M3 Max row is the 40-core part (the 30-core one has 300 GB/s).
APPLE_CHIPS: dict[str, AppleChip] = _chips(
    ("Apple M1", 68.25, 8, 2.6),
    ("Apple M1 Pro", 200.0, 16, 5.2),
    ("Apple M1 Max", 400.0, 32, 10.4),
    ("Apple M1 Ultra", 800.0, 64, 21.0),
    ("Apple M2", 100.0, 10, 3.6),
    ("Apple M2 Pro", 200.0, 19, 6.8),
    ("Apple M2 Max", 400.0, 38, 13.49),
    ("Apple M2 Ultra", 800.0, 76, 27.2),
    ("Apple M3", 100.0, 10, 4.1),
    ("Apple M3 Pro", 150.0, 18, 7.4),
    ("Apple M3 Max", 400.0, 40, 14.2),
    ("Apple M3 Ultra", 800.0, 80, 28.4),
    ("Apple M4", 120.0, 10, 4.6),
    ("Apple M4 Pro", 273.0, 20, 9.2),
    ("Apple M4 Max", 546.0, 40, 18.4),
    ("Apple M5", 153.0, 10, 5.7),
)

#: Share of the chip's bandwidth a Metal decode step streams weights and KV at. Fitted with the per-step
#: overhead below on the fit half of tests/data/published_metal_speeds.toml (scripts/fit_metal.py,
#: docs/metal-fit.txt): held-out median |predicted/published − 1| 0.082 for decode.
METAL_DECODE_ETA = 0.97
#: Fixed cost of one Metal decode step (kernel dispatch, synchronisation, sampling), seconds, fitted with
#: η. It is what keeps an 800 GB/s Ultra at ~90 tok/s on a 3.6 GiB model instead of the ~200 its
#: bandwidth allows; it also caps every model at 147 tok/s, and the one published 1B point (TinyLlama on
#: an M5, 150 tok/s) is predicted at 90: small models on the GPU are the estimate's weak side.
METAL_STEP_OVERHEAD_S = 0.0068
#: Share of the GPU's FP32 FLOP rate llama.cpp's Metal prefill reaches on quantised weights: the median
#: published ÷ predicted at 1 on the fit half's prefill points; held-out error 0.070.
METAL_PREFILL_ETA = 0.685

_CHIP_NAME = re.compile(r"\bM(\d+)(?:\s+(Pro|Max|Ultra))?\b", re.IGNORECASE)


def apple_chip(cpu_model: str) -> AppleChip | None:
    """The chip ``cpu_model`` names ("Apple M2 Pro", "apple m3"), None when it is not a known M-series."""
    if "apple" not in cpu_model.lower():
        return None
    found = _CHIP_NAME.search(cpu_model)
    if found is None:
        return None
    tier = f" {found.group(2).capitalize()}" if found.group(2) else ""
    return APPLE_CHIPS.get(f"Apple M{found.group(1)}{tier}")


def mac_chip(machine: Machine) -> AppleChip | None:
    """The Apple Silicon chip of a Mac (macOS on arm64), None on any other machine."""
    if machine.os != "darwin" or machine.cpu.arch != "arm64":
        return None
    return apple_chip(machine.cpu.model)


@dataclass(frozen=True)
class MetalEstimate:
    """Predicted native-Ollama (Metal GPU) speed of one model on one Mac, single stream.

    Attributes:
        chip, bandwidth_gbps, gpu_cores: the chip it is for.
        decode_tps: tokens/s of one stream at ``depth`` tokens of history.
        prefill_tps: prompt tokens per second.
        ttft_s: time to first token of a ``prompt_tokens`` prompt.
        depth, prompt_tokens: what the figures assume.
    """

    chip: str
    bandwidth_gbps: float
    gpu_cores: int
    decode_tps: float
    prefill_tps: float
    ttft_s: float
    depth: int
    prompt_tokens: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def metal_estimate(
    model: ModelSpec,
    variant: QuantVariant,
    chip: AppleChip,
    *,
    depth: int,
    prompt_tokens: int = 512,
    kv_cache_type: str = "f16",
    gpu_cores: int | None = None,
) -> MetalEstimate:
    """Predict native Ollama's decode at ``depth`` tokens of history, prefill and TTFT on ``chip``
    (``gpu_cores``: a binned part's count, else the chip's usual one)."""
    cores = gpu_cores if gpu_cores is not None else chip.gpu_cores
    kv = kv_read_per_token(model, depth, kv_cache_type, DEFAULT_PARAMS)
    step = (variant.size_bytes + kv) / (METAL_DECODE_ETA * chip.bandwidth_gbps * 1e9) + METAL_STEP_OVERHEAD_S
    flops = chip.gpu_tflops * 1e12 * cores / chip.gpu_cores
    prefill = METAL_PREFILL_ETA * flops / prefill_matmul_flops_per_token(model)
    return MetalEstimate(
        chip=chip.name,
        bandwidth_gbps=chip.bandwidth_gbps,
        gpu_cores=cores,
        decode_tps=1 / step,
        prefill_tps=prefill,
        ttft_s=prompt_tokens / prefill + step,
        depth=depth,
        prompt_tokens=prompt_tokens,
    )


__all__ = [
    "APPLE_CHIPS",
    "METAL_DECODE_ETA",
    "METAL_PREFILL_ETA",
    "METAL_STEP_OVERHEAD_S",
    "AppleChip",
    "MetalEstimate",
    "apple_chip",
    "mac_chip",
    "metal_estimate",
]
