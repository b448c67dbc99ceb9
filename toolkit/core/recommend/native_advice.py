"""Sentences that say what a predicted speed means and when a GPU outside Docker would be faster.

``gpuless recommend``, the wizard and ``compose``/``up`` share them so the three say the same thing:

- ``speed_basis``: which speed a tok/s, TTFT and answer-time figure is (decode after N tokens of context,
  a prompt of P tokens, an answer of A tokens), so a figure can be compared with a published one that
  measures something else (llama-bench's tg128 at ~64 tokens, LocalScore's average over long contexts).
- ``native_reason``: on a Mac, native Ollama (Metal) beside Docker's CPU-only figure.
- ``native_pick_reason``: on a Mac, the model native Ollama serves best when it is not Docker's pick (the
  GPU's speed and the Mac's own memory, not the VM's, let a larger model reach the target).
- ``integrated_gpu``: the integrated GPU of a Windows or Linux laptop (its CPU name, else what the OS lists),
  which Ollama in gpuless's container never uses.
"""

from __future__ import annotations

import re

from toolkit.core.estimate.metal import MetalEstimate
from toolkit.core.machine.gpu import integrated_of
from toolkit.core.machine.hardware import Machine
from toolkit.core.recommend.candidate import Candidate
from toolkit.core.units import format_memory

#: The command that starts the Ollama installed on this machine (the Ollama app on a Mac) instead of the
#: container.
NATIVE_COMMAND = "gpuless up --runtime native"


def speed_basis(*, decode_depth: int, prompt_tokens: int, answer_tokens: int, default_depth: bool) -> str:
    """One sentence: what tok/s, TTFT and answer time mean in the table above it."""
    if default_depth:
        depth = (
            f"one user's decode after {decode_depth:,} tokens of context (a {prompt_tokens}-token prompt "
            f"and the first {decode_depth - prompt_tokens} of the answer)"
        )
    else:
        depth = f"one user's decode after {decode_depth:,} tokens of context (--ctx-depth)"
    return (
        f"Speeds: tok/s is {depth}; TTFT is a {prompt_tokens}-token prompt's first token; the answer "
        f"time is {answer_tokens} tokens after it. llama-bench's tg128 decodes at ~64 tokens (faster); "
        "LocalScore averages over up to ~4.4k (slower): use --ctx-depth to compare."
    )


def native_reason(tag: str, docker_tps: float, metal: MetalEstimate) -> str:
    """The Mac sentence: native Ollama on the Metal GPU, with Docker's CPU-only figure beside it."""
    return (
        f"This Mac's GPU ({metal.chip}, {metal.bandwidth_gbps:g} GB/s, {metal.gpu_cores} GPU cores assumed) "
        f"is the fast path: native Ollama (Metal, `{NATIVE_COMMAND}`) is predicted to run {tag} at "
        f"~{metal.decode_tps:.0f} tok/s (prefill ~{metal.prefill_tps:.0f} tok/s, TTFT {metal.ttft_s:.1f} s); "
        f"in Docker, CPU only, {docker_tps:.1f} tok/s."
    )


def native_pick_reason(native: Candidate) -> str:
    """The Mac sentence for native Ollama's own pick, when it differs from Docker's."""
    memory = format_memory(native.total_bytes)
    return (
        f"Natively the pick would be {native.tag} (score {native.use_case_score}/10):"
        f" ~{native.decode_tps:.0f} tok/s on the Metal GPU, {memory} of the Mac's own memory (no Docker"
        f" VM); `{NATIVE_COMMAND}` serves it when no --model is given."
    )


_IGPU_PATTERNS = (
    re.compile(r"\b(Radeon\s+\w*\s*\d{3,4}M?)\b(?:\s+Graphics)?", re.IGNORECASE),
    re.compile(r"\b(Radeon(?:\(TM\))?\s+Graphics)\b", re.IGNORECASE),
    re.compile(r"\bCore(?:\(TM\))?\s+Ultra\b", re.IGNORECASE),
    re.compile(r"\bSnapdragon\b", re.IGNORECASE),
)
_IGPU_NAMES = ("{0}", "{0}", "Intel Arc graphics", "Adreno graphics")


def integrated_gpu(machine: Machine) -> str | None:
    """The integrated GPU of a Windows or Linux machine, None when none is known: the one its CPU name
    names (AMD Radeon APUs, Intel Core Ultra's Arc graphics, Snapdragon's Adreno), else the one the OS
    lists (``machine.gpus``, ``toolkit.core.machine.gpu``: most Intel laptop chips have an iGPU their
    name does not tell). A profile lists no GPUs: only its CPU name can tell."""
    if machine.os not in ("linux", "windows"):
        return None
    for pattern, name in zip(_IGPU_PATTERNS, _IGPU_NAMES, strict=True):
        found = pattern.search(machine.cpu.model)
        if found:
            return name.format(found.group(1) if found.groups() else "")
    listed = integrated_of(machine.gpus)
    return listed.name if listed is not None else None


def igpu_reason(gpu: str) -> str:
    """The iGPU sentence: what gpuless predicts and what a native Ollama might do instead."""
    return (
        f"This CPU has an integrated GPU ({gpu}). gpuless's figures are CPU-only and its container gets no "
        "GPU; a natively installed Ollama may use the iGPU when OLLAMA_IGPU_ENABLE=1 is set (Vulkan or "
        "ROCm), which is sometimes faster than the CPU and sometimes not: benchmark both."
    )


__all__ = ["NATIVE_COMMAND", "igpu_reason", "integrated_gpu", "native_reason", "speed_basis"]
