"""Turn what each OS says about its CPU into one ``CpuInfo``.

Linux publishes ``/proc/cpuinfo`` (x86 ``flags``, Arm ``Features``), macOS answers ``sysctl`` and Windows
has no text file at all, so the Windows probe (``adapters.machine.probes``) serialises what it learns to a
small JSON document (``WINDOWS_PROBE_FORMAT``) that ``parse_windows_probe`` reads. Keeping every parser
pure and text-in means each path is tested over fixture text on any machine.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from toolkit.core.machine.hardware import ARM_SIMD, X86_SIMD, CpuInfo

#: The Windows method, documented here because there is no file to read:
#:   1. PowerShell ``Get-CimInstance Win32_Processor | Select-Object Name, NumberOfCores,
#:      NumberOfLogicalProcessors | ConvertTo-Json -Compress`` gives the model and core counts
#:      (one object, or a list with one entry per socket);
#:   2. ``kernel32.IsProcessorFeaturePresent(PF_…)`` through ctypes gives the SIMD features Windows knows of;
#:   3. ``platform.machine()`` gives the architecture ("AMD64", "ARM64").
#: The probe writes ``{"arch": …, "processors": [<Win32_Processor objects>], "features": {"PF_…": bool}}``.
WINDOWS_PROBE_FORMAT = "gpuless-windows-cpu/1"

#: ``IsProcessorFeaturePresent`` constants (winnt.h) and the gpuless feature each one reports.
WINDOWS_PF_FEATURES: dict[str, tuple[int, str]] = {
    "PF_AVX_INSTRUCTIONS_AVAILABLE": (39, "avx"),
    "PF_AVX2_INSTRUCTIONS_AVAILABLE": (40, "avx2"),
    "PF_AVX512F_INSTRUCTIONS_AVAILABLE": (41, "avx512f"),
    "PF_ARM_NEON_INSTRUCTIONS_AVAILABLE": (19, "neon"),
    "PF_ARM_V8_INSTRUCTIONS_AVAILABLE": (29, "neon"),
    "PF_ARM_V82_DP_INSTRUCTIONS_AVAILABLE": (43, "dotprod"),
    "PF_ARM_SVE_INSTRUCTIONS_AVAILABLE": (46, "sve"),
    "PF_ARM_SVE_I8MM_INSTRUCTIONS_AVAILABLE": (57, "i8mm"),
    "PF_ARM_V82_I8MM_INSTRUCTIONS_AVAILABLE": (66, "i8mm"),
}

# /proc/cpuinfo x86 flag → gpuless feature. The three AMX flags all mean "has AMX".
_X86_FLAG_MAP = {
    "avx": "avx",
    "avx2": "avx2",
    "avx512f": "avx512f",
    "avx512_vnni": "avx512_vnni",
    "avx_vnni": "avx_vnni",
    "amx_tile": "amx",
    "amx_int8": "amx",
    "amx_bf16": "amx",
    "fma": "fma",
    "f16c": "f16c",
}

# /proc/cpuinfo aarch64 "Features" → gpuless feature.
_ARM_FEATURE_MAP = {"asimd": "neon", "neon": "neon", "sve": "sve", "asimddp": "dotprod", "i8mm": "i8mm"}

# macOS Intel machdep.cpu.features / leaf7_features words → gpuless feature.
_MAC_X86_WORD_MAP = {
    "AVX1.0": "avx",
    "AVX2": "avx2",
    "AVX512F": "avx512f",
    "AVX512VNNI": "avx512_vnni",
    "FMA": "fma",
    "F16C": "f16c",
}

# macOS hw.optional.* keys → gpuless feature (value 1 means present).
_MAC_OPTIONAL_MAP = {
    "hw.optional.neon": "neon",
    "hw.optional.AdvSIMD": "neon",
    "hw.optional.arm.AdvSIMD": "neon",
    "hw.optional.arm.FEAT_DotProd": "dotprod",
    "hw.optional.arm.FEAT_I8MM": "i8mm",
    "hw.optional.arm.FEAT_SVE": "sve",
    "hw.optional.avx1_0": "avx",
    "hw.optional.avx2_0": "avx2",
    "hw.optional.avx512f": "avx512f",
    "hw.optional.avx512vnni": "avx512_vnni",
    "hw.optional.fma": "fma",
    "hw.optional.f16c": "f16c",
}

# Arm "CPU implementer" / "CPU part" → core name, for the parts gpuless is likely to meet (boards, laptops,
# cloud). From the Arm / Qualcomm / Apple MIDR tables as the Linux kernel's cputype.h lists them.
_ARM_PARTS: dict[tuple[int, int], str] = {
    (0x41, 0xD03): "Cortex-A53",
    (0x41, 0xD04): "Cortex-A35",
    (0x41, 0xD05): "Cortex-A55",
    (0x41, 0xD07): "Cortex-A57",
    (0x41, 0xD08): "Cortex-A72",
    (0x41, 0xD09): "Cortex-A73",
    (0x41, 0xD0A): "Cortex-A75",
    (0x41, 0xD0B): "Cortex-A76",
    (0x41, 0xD0C): "Neoverse-N1",
    (0x41, 0xD0D): "Cortex-A77",
    (0x41, 0xD40): "Neoverse-V1",
    (0x41, 0xD41): "Cortex-A78",
    (0x41, 0xD44): "Cortex-X1",
    (0x41, 0xD46): "Cortex-A510",
    (0x41, 0xD47): "Cortex-A710",
    (0x41, 0xD48): "Cortex-X2",
    (0x41, 0xD49): "Neoverse-N2",
    (0x41, 0xD4F): "Neoverse-V2",
    (0x41, 0xD80): "Cortex-A520",
    (0x41, 0xD81): "Cortex-A720",
    (0x41, 0xD82): "Cortex-X4",
    (0x51, 0x001): "Qualcomm Oryon",
    (0x61, 0x022): "Apple M1 Icestorm",
    (0x61, 0x023): "Apple M1 Firestorm",
}

_ARCH_ALIASES = {
    "x86_64": "x86_64",
    "amd64": "x86_64",
    "x64": "x86_64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv8": "arm64",
    "armv8l": "arm64",
}


def normalise_arch(raw: str) -> str:
    """``x86_64``/``AMD64`` → ``x86_64``; ``aarch64``/``arm64`` → ``arm64``; anything else lower-cased."""
    key = raw.strip().lower()
    return _ARCH_ALIASES.get(key, key or "unknown")


def _sorted_simd(found: Iterable[str]) -> tuple[str, ...]:
    known = set(X86_SIMD + ARM_SIMD)
    return tuple(sorted(name for name in set(found) if name in known))


# --- Linux /proc/cpuinfo ------------------------------------------------------------------------


def _cpuinfo_blocks(text: str) -> tuple[list[dict[str, str]], dict[str, str]]:
    """Split /proc/cpuinfo into per-processor blocks, plus the trailing lines some Arm kernels add
    (``Hardware``, ``Model``, ``Revision``) that belong to no processor."""
    blocks: list[dict[str, str]] = []
    trailer: dict[str, str] = {}
    for chunk in re.split(r"\n\s*\n", text.strip()):
        fields: dict[str, str] = {}
        for line in chunk.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip()] = value.strip()
        if not fields:
            continue
        if "processor" in fields:
            blocks.append(fields)
        else:
            trailer.update(fields)
    return blocks, trailer


def parse_cpu_list(text: str) -> frozenset[int]:
    """Parse a kernel CPU list such as ``"0-11"`` or ``"0-3,8,10-11"`` (e.g. /sys/devices/cpu_core/cpus)."""
    cpus: set[int] = set()
    for part in text.strip().split(","):
        part = part.strip()
        if not part:
            continue
        low, dash, high = part.partition("-")
        if dash:
            cpus.update(range(int(low), int(high) + 1))
        else:
            cpus.add(int(low))
    return frozenset(cpus)


def _arm_model(blocks: list[dict[str, str]], trailer: dict[str, str]) -> str:
    names: list[str] = []
    for block in blocks:
        try:
            implementer = int(block.get("CPU implementer", ""), 16)
            part = int(block.get("CPU part", ""), 16)
        except ValueError:
            continue
        name = _ARM_PARTS.get((implementer, part), f"Arm part {implementer:#x}:{part:#x}")
        if name not in names:
            names.append(name)
    board = trailer.get("Model") or trailer.get("Hardware") or ""
    core_names = " + ".join(names)
    if board and core_names:
        return f"{board} ({core_names})"
    return board or core_names or blocks[0].get("model name", "") or "unknown Arm CPU"


def parse_proc_cpuinfo(text: str, arch: str, *, performance_cpus: str | None = None) -> CpuInfo:
    """Parse Linux ``/proc/cpuinfo``.

    Args:
        text: the file's content.
        arch: ``platform.machine()`` (normalised here).
        performance_cpus: the content of ``/sys/devices/cpu_core/cpus`` on a hybrid Intel CPU (the logical
            CPUs of the P-cores), if that file exists; P-cores are then counted as distinct cores among them.

    Physical cores are the distinct (physical id, core id) pairs; when a kernel (some VMs, most Arm) leaves
    those out, ``cpu cores`` × sockets, and failing that one core per logical CPU (Arm has no SMT).
    """
    norm_arch = normalise_arch(arch)
    blocks, trailer = _cpuinfo_blocks(text)
    if not blocks:
        raise ValueError("no 'processor' entries in /proc/cpuinfo text")
    logical = len(blocks)
    first = blocks[0]

    simd: set[str] = set()
    if norm_arch == "arm64" or "Features" in first:
        for word in first.get("Features", "").split():
            if word in _ARM_FEATURE_MAP:
                simd.add(_ARM_FEATURE_MAP[word])
    if "flags" in first:
        for word in first["flags"].split():
            if word in _X86_FLAG_MAP:
                simd.add(_X86_FLAG_MAP[word])

    cores = {(b["physical id"], b["core id"]) for b in blocks if "physical id" in b and "core id" in b}
    if cores and all("core id" in b for b in blocks):
        physical = len(cores)
    elif "cpu cores" in first:
        sockets = len({b.get("physical id", "0") for b in blocks})
        physical = int(first["cpu cores"]) * sockets
    else:
        physical = logical

    performance: int | None = None
    if performance_cpus and performance_cpus.strip():
        wanted = parse_cpu_list(performance_cpus)
        p_cores = {
            (b.get("physical id", "0"), b.get("core id", b["processor"]))
            for b in blocks
            if int(b["processor"]) in wanted
        }
        performance = len(p_cores) or None

    model = first.get("model name") or ""
    if norm_arch == "arm64" or not model:
        model = _arm_model(blocks, trailer) if "CPU implementer" in first else (model or "unknown CPU")
    return CpuInfo(
        model=model,
        arch=norm_arch,
        physical_cores=physical,
        logical_cores=logical,
        simd=_sorted_simd(simd),
        performance_cores=performance,
    )


# --- macOS sysctl -------------------------------------------------------------------------------


def parse_sysctl_text(text: str) -> dict[str, str]:
    """``sysctl`` prints ``name: value`` per line (``sysctl -a``, or ``sysctl name …``)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and " " not in key.strip():
            values[key.strip()] = value.strip()
    return values


def _int_or_none(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.split()[0])
    except (ValueError, IndexError):
        return None


def parse_sysctl(text: str) -> CpuInfo:
    """Parse macOS ``sysctl`` output (Apple Silicon or Intel).

    Apple Silicon reports features as ``hw.optional.arm.FEAT_*`` / ``hw.optional.neon`` = 1 and its P-cores
    as ``hw.perflevel0.physicalcpu``. Intel Macs list words in ``machdep.cpu.features`` (``AVX1.0``,
    ``FMA``, ``F16C``) and ``machdep.cpu.leaf7_features`` (``AVX2``, ``AVX512F``, ``AVX512VNNI``).
    A Python running under Rosetta still sees ``hw.optional.arm64: 1``, so the arch is the hardware's.
    """
    values = parse_sysctl_text(text)
    brand = values.get("machdep.cpu.brand_string", "")
    is_arm = values.get("hw.optional.arm64") == "1" or brand.startswith("Apple")
    machine = values.get("hw.machine", "")
    arch = "arm64" if is_arm else normalise_arch(machine or "x86_64")

    simd: set[str] = set()
    for key, feature in _MAC_OPTIONAL_MAP.items():
        if values.get(key) == "1":
            simd.add(feature)
    words = (
        values.get("machdep.cpu.features", "") + " " + values.get("machdep.cpu.leaf7_features", "")
    ).split()
    for word in words:
        if word in _MAC_X86_WORD_MAP:
            simd.add(_MAC_X86_WORD_MAP[word])
    # An Intel Mac never reports Arm features and vice versa; keep the set to the arch's own names.
    simd &= set(ARM_SIMD if arch == "arm64" else X86_SIMD)

    logical = _int_or_none(values.get("hw.logicalcpu")) or _int_or_none(values.get("hw.ncpu")) or 1
    physical = _int_or_none(values.get("hw.physicalcpu")) or logical
    levels = _int_or_none(values.get("hw.nperflevels")) or (2 if "hw.perflevel1.physicalcpu" in values else 1)
    performance = _int_or_none(values.get("hw.perflevel0.physicalcpu")) if levels > 1 else None
    return CpuInfo(
        model=brand or "unknown Mac CPU",
        arch=arch,
        physical_cores=physical,
        logical_cores=logical,
        simd=_sorted_simd(simd),
        performance_cores=performance,
    )


# --- Windows ------------------------------------------------------------------------------------


def parse_windows_probe(text: str) -> CpuInfo:
    """Parse the JSON document the Windows probe writes (see ``WINDOWS_PROBE_FORMAT``).

    ``IsProcessorFeaturePresent`` has no flag for FMA, F16C or AVX-VNNI. Every CPU that reports AVX2 also has
    FMA3 and F16C (Intel since Haswell, AMD since Excavator), so those two are inferred from AVX2; AVX-VNNI
    is left out because it cannot be inferred. Raises ``ValueError`` on a malformed document.
    """
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("Windows probe JSON must be an object")
    arch = normalise_arch(str(data.get("arch", "")))
    processors: Any = data.get("processors") or []
    if isinstance(processors, dict):  # ConvertTo-Json emits a bare object for a single socket
        processors = [processors]
    if not isinstance(processors, list) or not processors:
        raise ValueError("Windows probe JSON has no 'processors'")
    name = str(processors[0].get("Name") or "").strip() or "unknown CPU"
    physical = sum(int(p.get("NumberOfCores") or 0) for p in processors)
    logical = sum(int(p.get("NumberOfLogicalProcessors") or 0) for p in processors)
    logical = logical or physical or 1
    physical = physical or logical

    features: Mapping[str, Any] = data.get("features") or {}
    simd = {WINDOWS_PF_FEATURES[k][1] for k, v in features.items() if v and k in WINDOWS_PF_FEATURES}
    if "avx2" in simd:
        simd |= {"fma", "f16c"}
    simd &= set(ARM_SIMD if arch == "arm64" else X86_SIMD)
    return CpuInfo(
        model=re.sub(r"\s+", " ", name),
        arch=arch,
        physical_cores=physical,
        logical_cores=logical,
        simd=_sorted_simd(simd),
        performance_cores=None,
    )
