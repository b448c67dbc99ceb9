"""This machine's calibration: how far its benchmarks landed from the estimator, as factors.

Every benchmark stores measured ÷ predicted for decode, prefill and (when measured) memory. Later
estimates on the same machine multiply the estimator's *machine* terms by the median of the recent
ratios (``apply``): decode's bandwidth, FLOP rate, per-token overhead and attention time together, and
prefill's FLOP rate and attention time together; memory's runtime term. The factors belong to the machine,
not to a model, so one benchmark of a small model moves the predictions of every other model: a laptop
that reaches less of its bandwidth than assumed, or shares its cores with other work, does so for all.

Pure: the store (a JSON file next to the history) is ``toolkit.adapters.calibration``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from toolkit.core.estimator_params import EstimatorParams
from toolkit.core.safe_text import terminal_safe

#: Ratios outside this range are not a calibration but a fault (a unit mix-up, a wrong model, a server
#: that is not the one measured): they are dropped, not clamped, so one bad run cannot swing every
#: prediction. The range is wide on purpose: a laptop on power saver or sharing its cores with other work
#: really is 3-5x slower than the estimator (this project's CI, one of two cores kept busy, measured decode
#: at 0.25x), and that is exactly what a calibration must carry.
RATIO_RANGE = (0.1, 10.0)
#: The calibration uses this many most recent runs: a machine changes (a new OS, a BIOS update, other
#: software), and the median of the last few follows it while ignoring one odd run.
RECENT_RUNS = 10


@dataclass(frozen=True)
class CalibrationRun:
    """One benchmark's measured ÷ predicted.

    Attributes:
        model: the model benchmarked (for display: the factors apply to every model).
        measured_at: the date of the run, ISO "YYYY-MM-DD".
        decode: measured ÷ predicted decode tok/s (one stream, chat prompt), None if not measured.
        prefill: measured ÷ predicted prefill tok/s (~1k-token prompt), None if not measured.
        memory: measured ÷ predicted runtime memory besides weights and KV, None if not measured.
        rejected: the ratios this run measured but left out for being outside ``RATIO_RANGE``, as
            (quantity, ratio) pairs, so the user is told; not stored (only the kept ratios are).
    """

    model: str
    measured_at: str
    decode: float | None = None
    prefill: float | None = None
    memory: float | None = None
    rejected: tuple[tuple[str, float], ...] = ()

    @property
    def usable(self) -> bool:
        """Whether the run kept any ratio (a run of rejections only calibrates nothing)."""
        return self.decode is not None or self.prefill is not None or self.memory is not None

    def summary(self) -> str:
        """ "calibration of this machine updated: measured ÷ predicted decode ×0.80, prefill ×1.30", and
        any ratio left out, with why."""
        ratios = ", ".join(
            f"{name} ×{value:.2f}"
            for name, value in (("decode", self.decode), ("prefill", self.prefill))
            if value is not None
        )
        line = f"calibration of this machine updated: measured ÷ predicted {ratios}" if ratios else ""
        if self.rejected:
            low, high = RATIO_RANGE
            left_out = ", ".join(f"{name} ×{value:.3g}" for name, value in self.rejected)
            why = (
                f"calibration left out {left_out}: outside ×{low:g}–×{high:g}, which points to a fault "
                "(another model served, a server shared with other clients) rather than this machine"
            )
            line = f"{line}; {why}" if line else why
        return line

    def to_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "measured_at": self.measured_at,
            "decode": self.decode,
            "prefill": self.prefill,
            "memory": self.memory,
        }


@dataclass(frozen=True)
class Calibration:
    """The factors a machine's recent benchmarks give (1.0 where a quantity was never measured).

    Attributes:
        decode: multiplies every decode time term's speed (median of the runs' decode ratios).
        prefill: multiplies prefill speed.
        memory: multiplies the runtime memory term.
        runs: how many runs the factors come from.
        first_date / last_date: the oldest and newest of those runs, ISO dates.
        models: the models benchmarked, newest first, without repeats.
    """

    decode: float
    prefill: float
    memory: float
    runs: int
    first_date: str
    last_date: str
    models: tuple[str, ...]

    def note(self) -> str:
        """ "calibrated on this machine from 3 runs on 2026-11-29 (decode ×0.88, prefill ×1.02)"."""
        when = self.last_date
        if self.first_date != self.last_date:
            when = f"{self.first_date} to {self.last_date}"
        runs = f"{self.runs} run{'s' if self.runs != 1 else ''}"
        # The names come from a server (through calibration.json): stored as they were, shown safe.
        models = terminal_safe(", ".join(self.models), one_line=True)
        return (
            f"calibrated on this machine from {runs} on {when} "
            f"(decode ×{self.decode:.2f}, prefill ×{self.prefill:.2f}; benchmarked: {models})"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "decode": self.decode,
            "prefill": self.prefill,
            "memory": self.memory,
            "runs": self.runs,
            "first_date": self.first_date,
            "last_date": self.last_date,
            "models": list(self.models),
            "note": self.note(),
        }


def _raw_ratio(measured: float | None, predicted: float | None) -> float | None:
    """measured ÷ predicted when both are finite and positive, whatever the ratio; else None."""
    if measured is None or predicted is None:
        return None
    if not (math.isfinite(measured) and math.isfinite(predicted)) or measured <= 0 or predicted <= 0:
        return None
    return measured / predicted


def _in_range(value: float | None) -> bool:
    low, high = RATIO_RANGE
    return value is not None and low <= value <= high


def ratio(measured: float | None, predicted: float | None) -> float | None:
    """measured ÷ predicted when both are usable and the ratio is within ``RATIO_RANGE``, else None."""
    value = _raw_ratio(measured, predicted)
    return value if _in_range(value) else None


def run_from_pairs(
    model: str, measured_at: str, pairs: Mapping[str, tuple[float | None, float | None]]
) -> CalibrationRun | None:
    """A run from (predicted, measured) pairs keyed "decode" / "prefill" / "memory"; None when no pair
    gives a ratio at all. A finite positive ratio outside ``RATIO_RANGE`` is named in ``rejected``, so a
    run may carry nothing but rejections (``usable`` is then False: it tells the user, and is not stored)."""
    raw = {name: _raw_ratio(measured, predicted) for name, (predicted, measured) in pairs.items()}
    kept = {name: value for name, value in raw.items() if _in_range(value)}
    rejected = tuple((name, value) for name, value in raw.items() if value is not None and name not in kept)
    run = CalibrationRun(
        model=model,
        measured_at=measured_at,
        decode=kept.get("decode"),
        prefill=kept.get("prefill"),
        memory=kept.get("memory"),
        rejected=rejected,
    )
    return run if run.usable or run.rejected else None


def combine(runs: Iterable[CalibrationRun], recent: int = RECENT_RUNS) -> Calibration | None:
    """The calibration of the ``recent`` newest runs (oldest first in ``runs``); None without any."""
    kept = [r for r in runs if r.usable]
    kept = kept[-recent:]
    if not kept:
        return None

    def median(values: list[float | None]) -> float:
        usable = [v for v in values if v is not None]
        return statistics.median(usable) if usable else 1.0

    models: list[str] = []
    for run in reversed(kept):
        if run.model not in models:
            models.append(run.model)
    dates = sorted(r.measured_at for r in kept)
    return Calibration(
        decode=median([r.decode for r in kept]),
        prefill=median([r.prefill for r in kept]),
        memory=median([r.memory for r in kept]),
        runs=len(kept),
        first_date=dates[0],
        last_date=dates[-1],
        models=tuple(models),
    )


def apply(params: EstimatorParams, calibration: Calibration | None) -> EstimatorParams:
    """``params`` with this machine's factors (unchanged without a calibration)."""
    if calibration is None:
        return params
    return replace(
        params,
        decode_speed_factor=params.decode_speed_factor * calibration.decode,
        prefill_speed_factor=params.prefill_speed_factor * calibration.prefill,
        runtime_memory_factor=params.runtime_memory_factor * calibration.memory,
    )


__all__ = [
    "RATIO_RANGE",
    "RECENT_RUNS",
    "Calibration",
    "CalibrationRun",
    "apply",
    "combine",
    "ratio",
    "run_from_pairs",
]
