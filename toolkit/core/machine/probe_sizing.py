"""Size the bandwidth probe's buffers from the machine's caches; decide when a new figure replaces the old.

The probe (``adapters.machine.bandwidth``) must stream from RAM, not from cache: a server's 32–256 MiB L3
held most of the old fixed 64 MiB buffers, and the figure read 12.8, 22.5 and 53.0 GB/s within one hour on
the test machine (issue 12). So the buffers together are at least ``LLC_MULTIPLE`` × the last-level cache
the OS reports. The figure also swings with load; a re-measurement replaces the stored one only when it
differs by more than the passes' spread, so two runs on an idle machine pick the same model.

Pure functions over values the engine reads (sysfs text, sysctl numbers); no I/O here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MIB = 1024**2

#: The probe's buffers together are at least this many times the last-level cache, so at most a quarter
#: of what one pass reads can come from cache (LRU-like caches keep far less of a cyclic stream).
LLC_MULTIPLE = 4
#: Last-level cache assumed when the OS reports none (Windows, containers hiding sysfs, Apple Silicon's
#: unreported system-level cache): larger than any laptop L3 (Apple M-series SLC 8–48 MiB, Intel ≤ 36 MiB,
#: AMD mobile ≤ 32 MiB), so the fallback errs toward memory.
FALLBACK_LLC_BYTES = 64 * MIB
#: Each thread's buffer is at least this large (numpy's reduction needs long runs to reach full speed).
MIN_BUFFER_BYTES = 64 * MIB
#: Never allocate more than this share of the memory available now, nor more than ``MAX_TOTAL_BYTES``:
#: the probe must not push a small laptop into swap (which would measure the disk).
MAX_AVAILABLE_SHARE = 0.25
MAX_TOTAL_BYTES = 2 * 1024 * MIB
#: Smallest spread the stability rule uses, relative: passes on an idle laptop agree within a few percent,
#: but a spread of ±0.5% from one lucky run must not let the next ordinary run replace the figure.
MIN_STABLE_SPREAD = 0.05

_SIZE = re.compile(r"^\s*([0-9]+)\s*([KMG]?)(?:i?B)?\s*$", re.IGNORECASE)
_UNIT = {"": 1, "K": 1024, "M": MIB, "G": 1024 * MIB}


@dataclass(frozen=True)
class CacheInfo:
    """One cache as the OS reports it (Linux: a ``/sys/devices/system/cpu/cpuN/cache/indexM`` directory).

    Attributes:
        level: 1, 2, 3 (4 on a few chips with an eDRAM L4).
        kind: "Data", "Instruction" or "Unified".
        size_bytes: capacity of this one instance.
        shared_cpus: the CPUs sharing this instance ("0-7"); equal strings mean the same instance, so
            several CCDs' or sockets' L3s are counted once each.
    """

    level: int
    kind: str
    size_bytes: int
    shared_cpus: str = ""


def parse_cache_size(text: str) -> int | None:
    """Bytes from a sysfs cache size ("32768K", "8M", "512") or a plain byte count; None if unreadable."""
    match = _SIZE.match(text)
    if not match:
        return None
    value = int(match.group(1)) * _UNIT[match.group(2).upper()]
    return value if value > 0 else None


def last_level_cache_bytes(caches: Iterable[CacheInfo]) -> int | None:
    """Total bytes of the highest data-holding cache level: each distinct instance counted once."""
    holding = [c for c in caches if c.kind.lower() != "instruction" and c.size_bytes > 0]
    if not holding:
        return None
    top = max(c.level for c in holding)
    instances = {(c.shared_cpus or f"#{i}"): c.size_bytes for i, c in enumerate(holding) if c.level == top}
    return sum(instances.values())


def probe_buffer_bytes(llc_bytes: int | None, threads: int, available_bytes: int | None = None) -> int:
    """Bytes of each thread's buffer: together ≥ ``LLC_MULTIPLE`` × the last-level cache (the fallback
    when unknown), each ≥ ``MIN_BUFFER_BYTES``, rounded up to a MiB; capped by the memory available.

    The cap wins over the multiple: a machine with a huge cache and little free memory gets a figure
    partly from cache rather than a swap storm."""
    threads = max(1, threads)
    llc = llc_bytes if llc_bytes and llc_bytes > 0 else FALLBACK_LLC_BYTES
    per_thread = max(MIN_BUFFER_BYTES, math.ceil(LLC_MULTIPLE * llc / threads))
    cap = MAX_TOTAL_BYTES
    if available_bytes is not None and available_bytes > 0:
        cap = min(cap, int(available_bytes * MAX_AVAILABLE_SHARE))
    per_thread = min(per_thread, max(MIB, cap // threads))
    return math.ceil(per_thread / MIB) * MIB


def median(values: Sequence[float]) -> float:
    """The middle value (mean of the two middle ones for an even count)."""
    if not values:
        raise ValueError("median of no values")
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def relative_spread(values: Sequence[float]) -> float:
    """Half the range of the passes relative to their median: 0.03 reads "±3%"."""
    if not values:
        raise ValueError("spread of no values")
    middle = median(values)
    return (max(values) - min(values)) / 2 / middle if middle > 0 else 0.0


def keeps_previous(previous_gbps: float, previous_spread: float, new_gbps: float, new_spread: float) -> bool:
    """Whether a stored figure stands against a new measurement of the same hardware.

    It stands when the two differ by no more than the larger spread of the two measurements (at least
    ``MIN_STABLE_SPREAD``): within the noise, the machine has not changed, and keeping the figure keeps
    the predictions and the pick where they were."""
    if previous_gbps <= 0:
        return False
    tolerance = max(previous_spread, new_spread, MIN_STABLE_SPREAD)
    return abs(new_gbps - previous_gbps) / previous_gbps <= tolerance
