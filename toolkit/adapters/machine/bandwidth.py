"""Measure memory read bandwidth in about a second, and keep a machine's figure stable.

Decode speed on a CPU is bounded by how fast the weights stream from RAM, so gpuless measures it instead
of guessing from the CPU name. Method: each of N threads (N = physical cores, at most 8) repeatedly takes
the maximum of its own float64 array with numpy. numpy's SIMD reduction releases the GIL and reads
memory faster than one core can process it on most machines, so N threads together drive several memory
channels, as llama.cpp's threads do; one Python thread doing memcpy would measure a single core instead.
The arrays together are at least 4× the last-level cache the OS reports (``core.machine.probe_sizing``),
so the probe reads memory, not cache. It runs ``PASSES`` timed passes and reports their median and
spread: the median resists one disturbed pass, and the spread says how far to trust the figure.

The result is cached in ``Settings().cache_dir / "bandwidth.json"`` keyed by CPU model and RAM size,
because the figure belongs to the hardware and the probe costs about a second of full CPU. A new
measurement replaces the stored figure only when it differs by more than the spread (see
``probe_sizing.keeps_previous``), so predictions and picks do not follow the probe's noise.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from toolkit.adapters.json_file import read_section, write_section
from toolkit.core.machine.hardware import Bandwidth
from toolkit.core.machine.probe_sizing import (
    CacheInfo,
    keeps_previous,
    last_level_cache_bytes,
    median,
    parse_cache_size,
    probe_buffer_bytes,
    relative_spread,
)

#: At most this long for the whole probe (allocation included); the issue allows about 1.5 s.
DEFAULT_BUDGET_S = 1.3
MAX_THREADS = 8
#: Timed passes; the figure is their median.
PASSES = 5
CACHE_FILE = "bandwidth.json"
CACHE_FORMAT = 1
CACHE_MAX_AGE_S = 7 * 24 * 3600.0
#: Runnable tasks per CPU (1-minute load average) above which the machine counts as busy: other work then
#: competes for memory bandwidth, so the figure may read low and is kept only as a stopgap.
BUSY_LOAD_PER_CPU = 0.5
#: How long a figure measured on a busy machine is reused while the machine stays busy. Measuring again
#: on every command would cost each one over a second (the probe) on exactly the machine that has none
#: to spare, and read low again; the first command on an idle machine replaces it with a clean figure.
BUSY_CACHE_MAX_AGE_S = 3600.0
SYSFS_CPU = Path("/sys/devices/system/cpu")


def load_per_cpu() -> float | None:
    """The 1-minute load average divided by the CPU count; None where the OS has no load average."""
    try:
        return os.getloadavg()[0] / (os.cpu_count() or 1)
    except (AttributeError, OSError):
        return None


def read_sysfs_caches(root: Path = SYSFS_CPU) -> list[CacheInfo]:
    """Every CPU's caches from Linux sysfs (``cpuN/cache/indexM/{level,type,size,shared_cpu_list}``);
    empty where sysfs is absent or hidden."""
    caches: list[CacheInfo] = []
    try:
        index_dirs = sorted(root.glob("cpu[0-9]*/cache/index[0-9]*"))
    except OSError:
        return []
    for index in index_dirs:
        try:
            level = int((index / "level").read_text().strip())
            kind = (index / "type").read_text().strip()
            size = parse_cache_size((index / "size").read_text())
            shared = (
                (index / "shared_cpu_list").read_text().strip()
                if (index / "shared_cpu_list").exists()
                else ""
            )
        except (OSError, ValueError):
            continue
        if size:
            caches.append(
                CacheInfo(level=level, kind=kind, size_bytes=size, shared_cpus=shared or str(index))
            )
    return caches


def read_macos_caches() -> list[CacheInfo]:
    """``sysctl hw.l3cachesize`` and ``hw.l2cachesize`` (Apple Silicon reports no L3; its system-level
    cache is not reported at all, which ``probe_buffer_bytes``'s floor covers)."""
    caches: list[CacheInfo] = []
    for level, name in ((3, "hw.l3cachesize"), (2, "hw.l2cachesize")):
        try:
            out = subprocess.run(
                ["sysctl", "-n", name], capture_output=True, text=True, timeout=2, check=False
            ).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        size = parse_cache_size(out.strip()) if out.strip() else None
        if size:
            caches.append(CacheInfo(level=level, kind="Unified", size_bytes=size, shared_cpus=name))
    return caches


def last_level_cache() -> int | None:
    """This machine's last-level cache in bytes, all instances together; None if the OS does not say."""
    system = platform.system()
    caches = read_macos_caches() if system == "Darwin" else read_sysfs_caches() if system == "Linux" else []
    return last_level_cache_bytes(caches)


def available_memory_bytes() -> int | None:
    """Free physical memory now (POSIX sysconf), None where the OS does not report it."""
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def measure_bandwidth(
    threads: int | None = None,
    budget_s: float = DEFAULT_BUDGET_S,
    *,
    llc_bytes: int | None = None,
    buffer_bytes: int | None = None,
) -> Bandwidth:
    """Run the probe now (blocking for at most about ``budget_s`` seconds) and return the figure.

    ``llc_bytes`` defaults to what the OS reports; ``buffer_bytes`` (per thread) overrides the sizing."""
    start = time.perf_counter()
    import numpy as np  # imported here: detection without the probe should not pay for numpy

    n_threads = max(1, min(MAX_THREADS, threads or os.cpu_count() or 1))
    llc = llc_bytes if llc_bytes is not None else last_level_cache()
    per_thread = buffer_bytes or probe_buffer_bytes(llc, n_threads, available_memory_bytes())
    arrays = [np.ones(per_thread // 8, dtype=np.float64) for _ in range(n_threads)]  # touches every page now
    setup_s = time.perf_counter() - start
    pass_s = max(0.04, (budget_s - setup_s) / PASSES * 0.9)

    rates: list[float] = []
    for _ in range(PASSES):
        if rates and time.perf_counter() - start + pass_s > budget_s:
            break
        rate = _trial(arrays, pass_s)
        if rate > 0:
            rates.append(rate)
    elapsed = time.perf_counter() - start
    if not rates:
        raise RuntimeError("bandwidth probe ran no pass within its time budget")
    figure, spread = median(rates), relative_spread(rates)
    if llc:
        multiple = per_thread * n_threads / llc
        cache_note = f"{multiple:.0f}× the {llc / 2**20:.0f} MiB last-level cache"
    else:
        cache_note = "last-level cache not reported"
    detail = (
        f"numpy max-reduce, {n_threads} thread{'s' if n_threads > 1 else ''} × {per_thread // 2**20} MiB "
        f"({cache_note}), median of {len(rates)} passes, spread ±{spread * 100:.0f}%, {elapsed:.2f} s"
    )
    return Bandwidth(gbps=round(figure, 2), source="measured", detail=detail, spread=round(spread, 4))


def _trial(arrays: list[Any], seconds: float) -> float:
    """Read-bandwidth in GB/s with every thread streaming its own array for about ``seconds``."""
    passes = [0] * len(arrays)
    barrier = threading.Barrier(len(arrays) + 1)

    def worker(index: int) -> None:
        array = arrays[index]
        barrier.wait()
        deadline = time.perf_counter() + seconds
        count = 0
        while time.perf_counter() < deadline:
            array.max()
            count += 1
        passes[index] = count

    workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(len(arrays))]
    for thread in workers:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - began
    total_bytes = sum(count * array.nbytes for count, array in zip(passes, arrays, strict=True))
    return total_bytes / elapsed / 1e9 if elapsed > 0 else 0.0


# --- cache --------------------------------------------------------------------------------------


def cache_key(cpu_model: str, memory_total_bytes: int) -> str:
    """The hardware the figure belongs to."""
    return f"{cpu_model.strip()}|{memory_total_bytes}"


def read_cache(path: Path) -> dict[str, Any]:
    """The cache's entries; an absent, unreadable or malformed file reads as empty."""
    return read_section(path, CACHE_FORMAT, "entries")


def write_cache(path: Path, entries: dict[str, Any]) -> None:
    """Write the cache atomically (``json_file.write_section``)."""
    write_section(path, CACHE_FORMAT, "entries", entries)


def _entry_figure(entry: Any) -> tuple[float, float, float, str] | None:
    """(gbps, spread, measured_at, detail) of a well-formed entry, whatever its age; else None."""
    if not isinstance(entry, dict):
        return None
    gbps = entry.get("gbps")
    measured_at = entry.get("measured_at")
    spread = entry.get("spread", 0.0)
    if not isinstance(gbps, int | float) or not isinstance(measured_at, int | float):
        return None
    if not isinstance(spread, int | float) or not math.isfinite(spread) or spread < 0:
        spread = 0.0
    if not (math.isfinite(gbps) and math.isfinite(measured_at)) or gbps <= 0:
        return None  # json reads NaN and Infinity; a figure like that is no figure (issue 11 item 10)
    return float(gbps), float(spread), float(measured_at), str(entry.get("detail", ""))


def _age(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds < 3600 else f"{seconds / 3600:.0f} h"


def _valid_entry(entry: Any, now: float, max_age_s: float) -> Bandwidth | None:
    figure = _entry_figure(entry)
    if figure is None:
        return None
    gbps, spread, measured_at, detail = figure
    if not 0 <= now - measured_at <= max_age_s:
        return None
    return Bandwidth(
        gbps=gbps, source="measured", detail=f"{detail}; cached {_age(now - measured_at)} ago", spread=spread
    )


def cached_bandwidth(
    cpu_model: str,
    memory_total_bytes: int,
    *,
    cache_dir: Path,
    refresh: bool = False,
    threads: int | None = None,
    max_age_s: float = CACHE_MAX_AGE_S,
    measure: Callable[[], Bandwidth] | None = None,
    now: Callable[[], float] = time.time,
    load: Callable[[], float | None] = load_per_cpu,
) -> Bandwidth:
    """The cached figure for this hardware if it is fresh, else a new measurement.

    ``refresh=True`` always measures. A new measurement replaces a stored figure of the same hardware
    (fresh or stale) only when the two differ by more than their spread (``keeps_previous``); otherwise the
    stored figure is returned and its date renewed, so runs on an unchanged machine keep one figure. A
    figure measured while the machine was busy (``load`` above ``BUSY_LOAD_PER_CPU``) never replaces a
    clean one: the stored figure is returned if there is one. Without one, the busy figure is returned with
    a note and stored as a stopgap (``busy_load``), reused only while the machine stays busy and for at
    most ``BUSY_CACHE_MAX_AGE_S``; the next run on an idle machine measures again. A cache that cannot be
    written is not an error. ``measure`` replaces the probe (tests pass a cheap one to check the cache
    logic).
    """
    path = cache_dir / CACHE_FILE
    key = cache_key(cpu_model, memory_total_bytes)
    entries = read_cache(path)
    entry = entries.get(key)
    stopgap = isinstance(entry, dict) and entry.get("busy_load") is not None
    busy_before = load()
    busy = busy_before is not None and busy_before > BUSY_LOAD_PER_CPU
    if not refresh and (busy or not stopgap):
        hit = _valid_entry(entry, now(), BUSY_CACHE_MAX_AGE_S if stopgap else max_age_s)
        if hit is not None:
            return hit
    previous = None if stopgap else _entry_figure(entry)
    result = measure() if measure is not None else measure_bandwidth(threads=threads)
    stamp = now()
    if busy:
        note = f"machine busy (load {busy_before:.1f} per CPU)"
        if previous is not None:
            gbps, spread, measured_at, detail = previous
            return Bandwidth(
                gbps=gbps,
                source="measured",
                detail=f"{detail}; measured {_age(stamp - measured_at)} ago, kept: "
                f"{note} read {result.gbps:g} GB/s",
                spread=spread,
            )
        shown = replace(result, detail=f"{result.detail}; {note}: may read low")
        entries[key] = {
            "gbps": shown.gbps,
            "spread": shown.spread,
            "detail": shown.detail,
            "measured_at": stamp,
            "busy_load": busy_before,
        }
    elif previous is not None and keeps_previous(previous[0], previous[1], result.gbps, result.spread):
        gbps, spread, _, detail = previous
        entries[key] = {"gbps": gbps, "spread": spread, "detail": detail, "measured_at": stamp}
        shown = Bandwidth(
            gbps=gbps,
            source="measured",
            detail=f"{detail}; confirmed now ({result.gbps:g} GB/s, within the spread)",
            spread=spread,
        )
    else:
        entries[key] = {
            "gbps": result.gbps,
            "spread": result.spread,
            "detail": result.detail,
            "measured_at": stamp,
        }
        shown = result
    with contextlib.suppress(OSError):  # a read-only cache dir costs a re-measurement next time, no more
        write_cache(path, entries)
    return shown
