"""Assign a CPU to the platform class the estimator's fitted terms are kept by.

Laptop platforms reach very different shares of their theoretical memory bandwidth (an older Intel
laptop ~0.58, an Alder Lake one ~0.9; scripts/bench_estimator.py, docs/estimator-fit.txt) and of the SIMD
table's prefill rate (older Intel ~0.65, the other fitted classes 0.91–1.03), so the estimator keeps
some terms per class (``EstimatorParams.eta_theoretical_by_platform``, ``prefill_eta_by_platform``). The
classes are those of the published data set tests/data/published_cpu_speeds.toml, and this function is
what assigns its points to them (tests/core/machine/test_platform_class.py checks every point's label).

The CPU's marketing name decides where it is specific enough (vendor, "Core Ultra", "12th Gen", Apple
"M1"); otherwise the SIMD set does: among AMD CPUs only Zen 4 and newer have AVX-512, and among Intel
client CPUs AVX-VNNI without AVX-512 means Alder Lake or newer. Server parts (Xeon, EPYC), virtual CPUs and
unknown names are ``OTHER``: no published laptop point describes them, so they keep the shipped terms.
"""

from __future__ import annotations

import re
from typing import Literal

from toolkit.core.machine.hardware import CpuInfo

PlatformClass = Literal[
    "apple", "amd_zen4", "amd_zen2_3", "intel_12plus", "intel_pre12", "arm_board", "other"
]

APPLE: PlatformClass = "apple"
AMD_ZEN4: PlatformClass = "amd_zen4"
AMD_ZEN2_3: PlatformClass = "amd_zen2_3"
INTEL_12PLUS: PlatformClass = "intel_12plus"
INTEL_PRE12: PlatformClass = "intel_pre12"
ARM_BOARD: PlatformClass = "arm_board"
OTHER: PlatformClass = "other"

#: What each class covers, for explanations.
PLATFORM_CLASS_MEANINGS: dict[str, str] = {
    APPLE: "Apple M-series",
    AMD_ZEN4: "AMD Zen 4/5 laptop (AVX-512)",
    AMD_ZEN2_3: "AMD Zen 3 or older laptop (no AVX-512)",
    INTEL_12PLUS: "Intel 12th gen or newer, Core Ultra",
    INTEL_PRE12: "Intel 6th–11th gen, Atom-class N-series",
    ARM_BOARD: "Arm SoC board or laptop",
    OTHER: "server, virtual or unknown CPU",
}

_SERVER = re.compile(r"\b(xeon|epyc|opteron|threadripper)\b", re.IGNORECASE)
_APPLE = re.compile(r"\bapple\b|^m[1-9]\b", re.IGNORECASE)
_INTEL_GEN = re.compile(r"\b([0-9]{1,2})th gen\b", re.IGNORECASE)
_INTEL_CORE_NUMBER = re.compile(r"\bi[3579]-([0-9]{4,5})", re.IGNORECASE)
_INTEL_ATOM_CLASS = re.compile(r"\b(atom|celeron|pentium|n[0-9]{2,3})\b", re.IGNORECASE)


def _intel_generation(model: str) -> int | None:
    """The Core generation a name states ("12th Gen …", "i7-8550U" → 8, "i5-1135G7" → 11)."""
    match = _INTEL_GEN.search(model)
    if match:
        return int(match.group(1))
    match = _INTEL_CORE_NUMBER.search(model)
    if match:
        digits = match.group(1)
        return int(digits[:2]) if len(digits) == 5 or digits.startswith("1") else int(digits[0])
    return None


def platform_class(cpu: CpuInfo) -> PlatformClass:
    """The platform class of ``cpu`` (see the module docstring for the rules)."""
    model = cpu.model
    if _SERVER.search(model):
        return OTHER
    if cpu.arch in ("arm64", "aarch64"):
        return APPLE if _APPLE.search(model) else ARM_BOARD
    if cpu.arch != "x86_64":
        return OTHER
    if re.search(r"\b(amd|ryzen)\b", model, re.IGNORECASE):
        return AMD_ZEN4 if cpu.has("avx512f") else AMD_ZEN2_3
    if not re.search(r"\bintel\b|\bcore\b", model, re.IGNORECASE):
        return OTHER
    if re.search(r"\bcore\b.*\bultra\b", model, re.IGNORECASE):
        return INTEL_12PLUS
    generation = _intel_generation(model)
    if generation is not None:
        return INTEL_12PLUS if generation >= 12 else INTEL_PRE12
    if _INTEL_ATOM_CLASS.search(model):
        return INTEL_PRE12
    return INTEL_12PLUS if cpu.has("avx_vnni") and not cpu.has("avx512f") else INTEL_PRE12


__all__ = [
    "AMD_ZEN2_3",
    "AMD_ZEN4",
    "APPLE",
    "ARM_BOARD",
    "INTEL_12PLUS",
    "INTEL_PRE12",
    "OTHER",
    "PLATFORM_CLASS_MEANINGS",
    "PlatformClass",
    "platform_class",
]
