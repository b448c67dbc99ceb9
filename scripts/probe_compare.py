"""Compare numpy-free bandwidth probes with the shipped one (numpy max-reduce) on this machine.

numpy is 2/3 of gpuless's install (``scripts/install_size.py``) and only the bandwidth probe
(``toolkit.adapters.machine.bandwidth``) uses it. A replacement must read within 5% of numpy's figure here, or
every prediction and pick would move. Candidates, each in N threads over the probe's own buffer sizes and
timed by the probe's own ``_trial`` loop:

* ``memchr``: libc ``memchr`` (through ctypes, which releases the GIL) for a byte the buffer lacks, so it
  reads the whole buffer with the C library's SIMD loop, like numpy's reduction;
* ``memcmp``: libc ``memcmp`` of a buffer's two equal halves (reads both, writes nothing).

(A copy, ``ctypes.memmove``, writes as much as it reads and measured 0.34× numpy's figure; ``bytes`` and
``memoryview`` methods hold the GIL, so one core reads at a time.) Rounds alternate the probes so that the
machine's load falls on each alike; the figures are medians over rounds, and the per-round ratio to numpy.

    python3 scripts/probe_compare.py [--rounds 21] [--seconds 0.2]
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import os
import statistics
from collections.abc import Callable
from typing import Any

import numpy as np

from toolkit.adapters.machine.bandwidth import (
    MAX_THREADS,
    _trial,
    available_memory_bytes,
    last_level_cache,
)
from toolkit.core.machine.probe_sizing import probe_buffer_bytes


class _Reader:
    """Stands in for a numpy array in ``_trial``: ``max()`` reads the buffer once, ``nbytes`` its size."""

    def __init__(self, read: Callable[[], object], nbytes: int) -> None:
        self.max = read
        self.nbytes = nbytes


def _libc() -> Any:
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.memchr.restype = ctypes.c_void_p
    libc.memchr.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
    libc.memcmp.restype = ctypes.c_int
    libc.memcmp.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
    return libc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--seconds", type=float, default=0.2, help="per probe per round")
    args = parser.parse_args()
    threads = max(1, min(MAX_THREADS, os.cpu_count() or 1))
    per = probe_buffer_bytes(last_level_cache(), threads, available_memory_bytes())
    libc = _libc()
    arrays = [np.ones(per // 8, dtype=np.float64) for _ in range(threads)]
    buffers = [bytearray(b"\x01") * per for _ in range(threads)]  # written: every page is real
    addresses = [ctypes.addressof((ctypes.c_char * per).from_buffer(b)) for b in buffers]
    half = per // 2
    probes: dict[str, list[Any]] = {
        "numpy": arrays,
        "memchr": [_Reader(lambda a=a: libc.memchr(a, 0, per), per) for a in addresses],
        "memcmp": [_Reader(lambda a=a: libc.memcmp(a, a + half, half), per) for a in addresses],
    }
    figures: dict[str, list[float]] = {name: [] for name in probes}
    for _ in range(args.rounds):
        for name, readers in probes.items():
            figures[name].append(_trial(readers, args.seconds))
    rounds = f"{args.rounds} alternating rounds of {args.seconds:g} s each"
    print(f"{threads} threads × {per // 2**20} MiB, {rounds}")
    base = statistics.median(figures["numpy"])
    for name, rates in figures.items():
        line = f"  {name:7} median {statistics.median(rates):6.2f} GB/s"
        if name != "numpy":
            ratios = [r / n for r, n in zip(rates, figures["numpy"], strict=True)]
            within = abs(statistics.median(rates) / base - 1) <= 0.05
            line += (
                f"  = {statistics.median(rates) / base:.3f}× numpy's median;"
                f" per-round ratio median {statistics.median(ratios):.3f}"
                f" (range {min(ratios):.2f}–{max(ratios):.2f}); within 5%: {'yes' if within else 'no'}"
            )
        print(line)


if __name__ == "__main__":
    main()
