"""This machine's calibration: how far its benchmarks landed from the estimator, as factors.

A benchmark stores measured ÷ predicted for decode, prefill and (when measured) memory, but only a run
that earns it (``distrust``: self-consistent, steady, finished, on a machine not busy with other work);
another run is kept in the history and leaves the calibration alone, with the reason said. Later
estimates on the same machine multiply the estimator's *machine* terms (``apply``) by the consensus of
the recent ratios (``combine``: the median of the largest group of runs that agree within ``AGREE``,
when that group is a majority; runs that disagree more leave the quantity uncalibrated, and say so):
decode's bandwidth, FLOP rate, per-token overhead and attention time together, and prefill's FLOP rate
and attention time together; memory's runtime term. The factors belong to the machine,
not to a model, so one benchmark of a small model moves the predictions of every other model: a laptop
that reaches less of its bandwidth than assumed, or shares its cores with other work, does so for all.

Pure: the store (a JSON file next to the history) is ``toolkit.adapters.bench.calibration``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from toolkit.core.estimate.params import EstimatorParams
from toolkit.core.safe_text import terminal_safe

#: Ratios outside this range are not a calibration but a fault (a unit mix-up, a wrong model, a server
#: that is not the one measured): they are dropped, not clamped, so one bad run cannot swing every
#: prediction. The range is wide on purpose: a laptop on power saver or sharing its cores with other work
#: really is 3-5x slower than the estimator (this project's CI, one of two cores kept busy, measured decode
#: at 0.25x), and that is exactly what a calibration must carry.
RATIO_RANGE = (0.1, 10.0)
#: The calibration uses this many most recent runs: a machine changes (a new OS, a BIOS update, other
#: software), and the consensus of the last few follows it while ignoring one odd run.
RECENT_RUNS = 10
#: Runs agree when the largest of their ratios is at most this multiple of the smallest: the run-to-run
#: spread of a quiet laptop is ~10-20%, so ×1.5 is disagreement, not noise.
AGREE = 1.5
#: A run whose decode repetitions spread more than this (max − min over the median) was disturbed.
MAX_SPREAD = 0.5
#: The run's two readings of one stream's decode rate (the repetitions, and the sweep's one-stream level)
#: must agree within this factor: they measure the same thing a few seconds apart.
MAX_DISAGREEMENT = 1.5
#: Gaps between tokens whose 95th percentile is this multiple of the median show a stalling server.
STALL_FACTOR = 20.0
#: Share of all CPU time that other work used just before the run above which the machine was busy.
BUSY_SHARE = 0.4


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
        distrusted: why the whole run may not calibrate (``distrust``); it is then not stored.
    """

    model: str
    measured_at: str
    decode: float | None = None
    prefill: float | None = None
    memory: float | None = None
    rejected: tuple[tuple[str, float], ...] = ()
    distrusted: str | None = None

    @property
    def usable(self) -> bool:
        """Whether the run may be stored: trusted, with a ratio kept (rejections only calibrate nothing)."""
        kept = self.decode is not None or self.prefill is not None or self.memory is not None
        return kept and self.distrusted is None

    def summary(self) -> str:
        """ "calibration of this machine updated: measured ÷ predicted decode ×0.80, prefill ×1.30", and
        any ratio left out, with why; or why the run left the calibration alone."""
        if self.distrusted is not None:
            return (
                f"calibration of this machine left alone: {self.distrusted} (the run is kept in the history)"
            )
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
class RunEvidence:
    """What a benchmark shows about its own trustworthiness (read from its result by the services layer).

    Attributes:
        complete: the run finished with no failed request.
        decode_tps: the median decode rate of one stream over the repetitions; None if not measured.
        decode_spread: (max − min) ÷ median of those repetitions; None with fewer than two.
        one_stream_tps: the concurrency sweep's one-stream decode rate (a second reading), None if absent.
        itl_p50_s / itl_p95_s: the median and 95th-percentile gaps between streamed tokens.
        busy_share: the share of all CPU time other work used just before the run; None if unknown.
        gpu_share: the share of the model the server held in GPU memory (``/api/ps`` size_vram ÷ size:
            a native Ollama on a Mac or with a GPU); None if unknown. The estimate is the CPU's.
    """

    complete: bool
    decode_tps: float | None
    decode_spread: float | None = None
    one_stream_tps: float | None = None
    itl_p50_s: float | None = None
    itl_p95_s: float | None = None
    busy_share: float | None = None
    gpu_share: float | None = None


def distrust(evidence: RunEvidence) -> str | None:
    """Why a run must not calibrate this machine, or None when it may."""
    e = evidence
    if not e.complete:
        return "the run did not finish cleanly"
    if e.gpu_share:
        return (
            f"the server ran the model on a GPU ({e.gpu_share:.0%} of it in GPU memory): gpuless's "
            "estimate, and so its calibration, is for the CPU"
        )
    if e.busy_share is not None and e.busy_share > BUSY_SHARE:
        return f"the machine was busy with other work ({e.busy_share:.0%} of its CPU) as the run started"
    if e.decode_spread is not None and e.decode_spread > MAX_SPREAD:
        return f"its decode repetitions spread {e.decode_spread:.0%} (more than {MAX_SPREAD:.0%})"
    if e.decode_tps and e.one_stream_tps:
        low, high = sorted((e.decode_tps, e.one_stream_tps))
        if high / low > MAX_DISAGREEMENT:
            return (
                f"it contradicts itself: one stream decoded at {e.decode_tps:.1f} tok/s in the repetitions"
                f" and {e.one_stream_tps:.1f} tok/s in the sweep"
            )
    if e.itl_p50_s and e.itl_p95_s and e.itl_p95_s > STALL_FACTOR * e.itl_p50_s:
        return f"the server stalled: 1 gap between tokens in 20 took {e.itl_p95_s:.2f} s or more"
    return None


@dataclass(frozen=True)
class Factor:
    """One quantity's calibration over the recent runs.

    Attributes:
        value: the factor applied (1.0 when the runs give none, or disagree).
        runs: how many recent runs measured the quantity.
        agreeing: how many of them form the consensus the value is the median of (0 when none).
        low / high: the smallest and largest ratio of the agreeing runs (of all runs when they disagree).
    """

    value: float = 1.0
    runs: int = 0
    agreeing: int = 0
    low: float | None = None
    high: float | None = None

    @property
    def settled(self) -> bool:
        """A majority of the runs agree (a single run is its own majority)."""
        return self.runs > 0 and self.agreeing * 2 > self.runs

    def describe(self, name: str) -> str:
        """ "decode ×0.88 (3 of 3 runs, ×0.80–×0.95)", or why the quantity is left uncalibrated."""
        if not self.settled:
            return f"{name} not calibrated: its runs disagree (×{self.low:.2f} to ×{self.high:.2f})"
        if self.agreeing == 1:
            return f"{name} ×{self.value:.2f}"
        spread = f"×{self.low:.2f}–×{self.high:.2f}"
        return f"{name} ×{self.value:.2f} ({self.agreeing} of {self.runs} runs, {spread})"

    def to_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__} | {"settled": self.settled}


def consensus(values: Sequence[float]) -> Factor:
    """The median of the largest group of ``values`` whose largest is at most ``AGREE`` × its smallest;
    ``Factor.settled`` says whether that group is a majority (the value is 1.0 when it is not)."""
    ordered = sorted(values)
    if not ordered:
        return Factor()
    best: list[float] = []
    start = 0
    for end, value in enumerate(ordered):
        while value > ordered[start] * AGREE:
            start += 1
        if end + 1 - start > len(best):
            best = ordered[start : end + 1]
    factor = Factor(statistics.median(best), len(ordered), len(best), best[0], best[-1])
    if factor.settled:
        return factor
    return Factor(1.0, len(ordered), 0, ordered[0], ordered[-1])


@dataclass(frozen=True)
class Calibration:
    """The factors a machine's recent benchmarks give (1.0 where a quantity was never measured, or its
    runs disagree).

    Attributes:
        decode_factor / prefill_factor / memory_factor: each quantity's consensus (``Factor``).
        runs: how many runs the factors come from.
        first_date / last_date: the oldest and newest of those runs, ISO dates.
        models: the models benchmarked, newest first, without repeats.
    """

    decode_factor: Factor
    prefill_factor: Factor
    memory_factor: Factor
    runs: int
    first_date: str
    last_date: str
    models: tuple[str, ...]

    @property
    def decode(self) -> float:
        """Multiplies every decode time term's speed."""
        return self.decode_factor.value

    @property
    def prefill(self) -> float:
        """Multiplies prefill speed."""
        return self.prefill_factor.value

    @property
    def memory(self) -> float:
        """Multiplies the runtime memory term."""
        return self.memory_factor.value

    def note(self) -> str:
        """ "calibrated on this machine from 3 runs on 2026-11-29 (decode ×0.88 (3 of 3 runs, ×0.80–×0.95),
        prefill ×1.02; benchmarked: …)"."""
        when = self.last_date
        if self.first_date != self.last_date:
            when = f"{self.first_date} to {self.last_date}"
        runs = f"{self.runs} run{'s' if self.runs != 1 else ''}"
        factors = [self.decode_factor.describe("decode")]
        if self.prefill_factor.runs:
            factors.append(self.prefill_factor.describe("prefill"))
        # The names come from a server (through calibration.json): stored as they were, shown safe.
        models = terminal_safe(", ".join(self.models), one_line=True)
        return (
            f"calibrated on this machine from {runs} on {when} ({', '.join(factors)}; benchmarked: {models})"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "decode": self.decode,
            "prefill": self.prefill,
            "memory": self.memory,
            "factors": {
                "decode": self.decode_factor.to_dict(),
                "prefill": self.prefill_factor.to_dict(),
                "memory": self.memory_factor.to_dict(),
            },
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

    def factor(values: list[float | None]) -> Factor:
        return consensus([v for v in values if v is not None])

    models: list[str] = []
    for run in reversed(kept):
        if run.model not in models:
            models.append(run.model)
    dates = sorted(r.measured_at for r in kept)
    return Calibration(
        decode_factor=factor([r.decode for r in kept]),
        prefill_factor=factor([r.prefill for r in kept]),
        memory_factor=factor([r.memory for r in kept]),
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
    "AGREE",
    "RATIO_RANGE",
    "RECENT_RUNS",
    "Calibration",
    "CalibrationRun",
    "Factor",
    "RunEvidence",
    "apply",
    "combine",
    "consensus",
    "distrust",
    "ratio",
    "run_from_pairs",
]
