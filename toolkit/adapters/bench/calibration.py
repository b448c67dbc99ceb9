"""Store this machine's calibration runs next to the history, and read them back.

A benchmark (``gpuless bench``, the wizard's Benchmark step) records measured ÷ predicted for decode and
prefill here; ``recommend`` reads the machine's calibration from it (``core.estimate.calibration``). One
JSON file, ``calibration.json`` in the data directory beside ``history.sqlite3``, keyed by the hardware
(CPU model and RAM, as the bandwidth cache) so a copied home directory does not calibrate another machine.
Written atomically. A damaged file, or one a newer gpuless wrote, is an error (UsageError) that says so,
and it is never replaced: it holds measurements that cannot be taken again.
"""

from __future__ import annotations

import contextlib
import datetime
import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from toolkit.adapters.json_file import read_section, write_section
from toolkit.adapters.machine.bandwidth import cache_key
from toolkit.core.bench.compare import Comparison
from toolkit.core.estimate.calibration import Calibration, CalibrationRun, combine, run_from_pairs
from toolkit.core.machine.hardware import Machine
from toolkit.errors import UsageError

CALIBRATION_FILE = "calibration.json"
FORMAT = 1
#: Runs kept per machine (the calibration uses the newest ``core.calibration.RECENT_RUNS``).
KEEP_RUNS = 50


def machine_key(machine: Machine) -> str:
    """The hardware a calibration belongs to."""
    return cache_key(machine.cpu.model, machine.memory.total_bytes)


def _read(path: Path) -> dict[str, Any]:
    return read_section(path, FORMAT, "machines", strict=True)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def runs(path: Path, machine: Machine) -> list[CalibrationRun]:
    """This machine's stored runs, oldest first; malformed entries are skipped."""
    entries = _read(path).get(machine_key(machine))
    out: list[CalibrationRun] = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("measured_at"), str):
            continue
        # A stored ratio is "measured" over a prediction of 1: the same range check as when it was made.
        pairs = {name: (1.0, _number(entry.get(name))) for name in ("decode", "prefill", "memory")}
        run = run_from_pairs(str(entry.get("model", "?")), entry["measured_at"], pairs)
        if run is not None and run.usable:
            out.append(run)
    return out


def load(path: Path, machine: Machine) -> Calibration | None:
    """This machine's calibration, None when it has no usable runs."""
    return combine(runs(path, machine))


def record(path: Path, machine: Machine, run: CalibrationRun) -> None:
    """Append ``run`` to this machine's runs (the newest ``KEEP_RUNS`` are kept); atomic."""
    machines = _read(path)
    key = machine_key(machine)
    existing = machines.get(key)
    entries = existing if isinstance(existing, list) else []
    machines[key] = [*entries, run.to_dict()][-KEEP_RUNS:]
    write_section(path, FORMAT, "machines", machines)


def reset(path: Path, machine: Machine) -> int:
    """Forget this machine's runs (``gpuless calibration reset``); returns how many there were."""
    machines = _read(path)
    entries = machines.pop(machine_key(machine), None)
    if not isinstance(entries, list) or not entries:
        return 0
    write_section(path, FORMAT, "machines", machines)
    return len(entries)


def record_comparisons(
    path: Path,
    machine: Machine,
    model: str,
    comparisons: Sequence[Comparison],
    today: datetime.date | None = None,
    distrusted: str | None = None,
) -> CalibrationRun | None:
    """Record a benchmark from its predicted-vs-measured rows (``bench.compare.Comparison``: ``metric``,
    ``predicted``, ``measured``). Returns the run to tell the user about: the one stored, or one whose
    every ratio was rejected or that is ``distrusted`` (not stored; its summary says why). None when the rows
    give no ratio at all or the file cannot be written (a calibration is a bonus, never a reason for a
    benchmark to fail)."""
    by_metric = {c.metric: (c.predicted, c.measured) for c in comparisons}
    pairs = {
        "decode": by_metric.get("decode tok/s", (None, None)),
        "prefill": by_metric.get("prefill tok/s", (None, None)),
    }
    date = (today or datetime.date.today()).isoformat()
    run = run_from_pairs(model, date, pairs)
    if run is not None and distrusted is not None:
        run = replace(run, distrusted=distrusted)
    if run is None or not run.usable:
        return run
    with contextlib.suppress(OSError, UsageError):  # a damaged file is left alone (recommend says so)
        record(path, machine, run)
        return run
    return None


__all__ = [
    "CALIBRATION_FILE",
    "KEEP_RUNS",
    "load",
    "machine_key",
    "record",
    "record_comparisons",
    "reset",
    "runs",
]
