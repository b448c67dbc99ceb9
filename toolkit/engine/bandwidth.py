"""Measure memory read bandwidth in about a second, and cache the figure for a week.

Decode speed on a CPU is bounded by how fast the weights stream from RAM, so gpuless measures it instead
of guessing from the CPU name. Method: each of N threads (N = physical cores, at most 8) repeatedly takes
the maximum of its own 64 MiB float64 array with numpy. numpy's SIMD reduction releases the GIL and reads
memory faster than one core can process it on most machines, so N threads together drive several memory
channels, as llama.cpp's threads do; one Python thread doing memcpy would measure a single core instead.
The buffers are far larger than any laptop's last-level cache. The best of a few short trials is kept:
decode runs at the machine's best, and the first trial pays for page faults.

The result is cached in ``Settings().cache_dir / "bandwidth.json"`` keyed by CPU model and RAM size,
because the figure belongs to the hardware and the probe costs about a second of full CPU.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from toolkit.core.hardware import Bandwidth

#: At most this long for the whole probe (allocation included).
DEFAULT_BUDGET_S = 1.2
#: Each thread streams its own array of this size.
BUFFER_BYTES = 64 * 1024 * 1024
MAX_THREADS = 8
TRIALS = 3
CACHE_FILE = "bandwidth.json"
CACHE_FORMAT = 1
CACHE_MAX_AGE_S = 7 * 24 * 3600.0
#: Runnable tasks per CPU (1-minute load average) above which the machine counts as busy: other work then
#: competes for memory bandwidth, so the figure is reported but not cached.
BUSY_LOAD_PER_CPU = 0.5


def load_per_cpu() -> float | None:
    """The 1-minute load average divided by the CPU count; None where the OS has no load average."""
    try:
        return os.getloadavg()[0] / (os.cpu_count() or 1)
    except (AttributeError, OSError):
        return None


def measure_bandwidth(threads: int | None = None, budget_s: float = DEFAULT_BUDGET_S) -> Bandwidth:
    """Run the probe now (blocking for at most about ``budget_s`` seconds) and return the figure."""
    start = time.perf_counter()
    import numpy as np  # imported here: detection without the probe should not pay for numpy

    n_threads = max(1, min(MAX_THREADS, threads or os.cpu_count() or 1))
    elements = BUFFER_BYTES // 8
    arrays = [np.ones(elements, dtype=np.float64) for _ in range(n_threads)]  # touches every page now
    setup_s = time.perf_counter() - start
    trial_s = max(0.05, (budget_s - setup_s) / TRIALS * 0.9)

    best = 0.0
    trials_run = 0
    for _ in range(TRIALS):
        if time.perf_counter() - start + trial_s > budget_s:
            break
        best = max(best, _trial(arrays, trial_s))
        trials_run += 1
    elapsed = time.perf_counter() - start
    if best <= 0.0:
        raise RuntimeError("bandwidth probe ran no trial within its time budget")
    detail = (
        f"numpy max-reduce, {n_threads} thread{'s' if n_threads > 1 else ''} × {BUFFER_BYTES // 2**20} MiB, "
        f"best of {trials_run} in {elapsed:.2f} s"
    )
    return Bandwidth(gbps=round(best, 2), source="measured", detail=detail)


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
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
        return {}
    entries = data.get("entries")
    return entries if isinstance(entries, dict) else {}


def write_cache(path: Path, entries: dict[str, Any]) -> None:
    """Write the cache atomically: a temporary file in the same directory, then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=".bandwidth-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as tmp:
            json.dump({"format": CACHE_FORMAT, "entries": entries}, tmp, indent=2)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _valid_entry(entry: Any, now: float, max_age_s: float) -> Bandwidth | None:
    if not isinstance(entry, dict):
        return None
    gbps = entry.get("gbps")
    measured_at = entry.get("measured_at")
    if not isinstance(gbps, int | float) or not isinstance(measured_at, int | float):
        return None
    if not (math.isfinite(gbps) and math.isfinite(measured_at)) or gbps <= 0:
        return None  # json reads NaN and Infinity; a figure like that is no figure (issue 11 item 10)
    if not 0 <= now - measured_at <= max_age_s:
        return None
    detail = str(entry.get("detail", ""))
    age_s = now - measured_at
    age = f"{age_s / 60:.0f} min" if age_s < 3600 else f"{age_s / 3600:.0f} h"
    return Bandwidth(gbps=float(gbps), source="measured", detail=f"{detail}; cached {age} ago")


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
    """The cached figure for this hardware if it is fresh, else a new measurement (then cached).

    ``refresh=True`` always measures. A figure measured while the machine was busy (``load`` above
    ``BUSY_LOAD_PER_CPU``) is returned with a note but not cached, so a quiet moment can replace it. A cache
    that cannot be written is not an error. ``measure`` replaces the probe (tests pass a cheap one to check
    the cache logic).
    """
    path = cache_dir / CACHE_FILE
    key = cache_key(cpu_model, memory_total_bytes)
    entries = read_cache(path)
    if not refresh:
        hit = _valid_entry(entries.get(key), now(), max_age_s)
        if hit is not None:
            return hit
    busy_before = load()
    result = measure() if measure is not None else measure_bandwidth(threads=threads)
    if busy_before is not None and busy_before > BUSY_LOAD_PER_CPU:
        note = f"; machine busy (load {busy_before:.1f} per CPU): may read low, not cached"
        return replace(result, detail=result.detail + note)
    entries[key] = {"gbps": result.gbps, "detail": result.detail, "measured_at": now()}
    with contextlib.suppress(OSError):  # a read-only cache dir costs a re-measurement next time, no more
        write_cache(path, entries)
    return result
