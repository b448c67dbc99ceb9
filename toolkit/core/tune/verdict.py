"""Who won a tune, and by how much: the winner rule and the before → after ratios.

The best candidate (its measurements averaged) must beat the starting configuration by more than the
run-to-run spread measured on the configurations measured twice; otherwise the start is kept, and the
verdict says so. For N users (ranked by TTFT p95) the winner must also keep the aggregate tok/s: a drop
counts only beyond twice the aggregate's own run-to-run spread (``AGGREGATE_DROP_SPREADS``). Once the
top candidates have been measured a second time, only those compete: a candidate measured once would
win on its one lucky run against candidates whose second run pulled their average back (the winner's
curse). Pure logic over the tuner's measurements (``toolkit.core.tune.knobs``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from statistics import fmean

from toolkit.core.tune.knobs import MIN_SPREAD, Measurement, Objective, Trial


def _feasible(m: Measurement, objective: Objective) -> bool:
    cap = objective.mem_cap_bytes
    if cap is not None and m.memory_bytes is not None and m.memory_bytes > cap:
        return False
    if objective.kind == "users" and objective.ttft_p95_limit_s is not None:
        return m.ttft_p95_s <= objective.ttft_p95_limit_s
    return True


def gain(candidate: Measurement, start: Measurement, objective: Objective) -> float:
    """The candidate's relative gain over the start in the objective's figure (0.25 = 25% better)."""
    if objective.kind == "single":
        return candidate.decode_tps / start.decode_tps - 1 if start.decode_tps > 0 else 0.0
    both_ok = _feasible(candidate, objective) and _feasible(start, objective)
    if objective.ttft_p95_limit_s is not None and both_ok:
        return candidate.aggregate_tps / start.aggregate_tps - 1 if start.aggregate_tps > 0 else 0.0
    return start.ttft_p95_s / candidate.ttft_p95_s - 1 if candidate.ttft_p95_s > 0 else 0.0


def _rank_key(m: Measurement, start: Measurement, objective: Objective) -> tuple[bool, float]:
    return (_feasible(m, objective), gain(m, start, objective))


#: How many aggregate spreads a users-objective winner's aggregate tok/s may fall below the start's
#: before it is refused. The difference of two configurations' means carries the noise of both, and a
#: two-run spread is a rough measure of it: at one spread, a candidate whose true aggregate equals the
#: start's (more slots on one thread: measured 1.1× here) was refused about one tune in ten on noise
#: alone (simulated at the ~9% run-to-run noise measured on a 2-core laptop), throwing away a 4× TTFT
#: win; at two, about one in fifty, while a halved aggregate is still refused.
AGGREGATE_DROP_SPREADS = 2.0


def _spread(trials: Sequence[Trial], figure: Callable[[Measurement], float]) -> float:
    """The largest (max − min) ÷ mean of ``figure`` over every trial measured more than once, at least
    ``MIN_SPREAD``."""
    spreads = [MIN_SPREAD]
    for trial in trials:
        if len(trial.runs) < 2:
            continue
        values = [figure(r) for r in trial.runs]
        mean = fmean(values)
        if mean > 0:
            spreads.append((max(values) - min(values)) / mean)
    return max(spreads)


def _objective_figure(objective: Objective) -> Callable[[Measurement], float]:
    if objective.kind == "single":
        return lambda m: m.decode_tps
    if objective.ttft_p95_limit_s is not None:
        return lambda m: m.aggregate_tps
    return lambda m: m.ttft_p95_s


def relative_spread(trials: Sequence[Trial], objective: Objective) -> float:
    """The run-to-run spread of the objective's figure: the largest (max − min) ÷ mean over every
    configuration measured more than once, at least ``MIN_SPREAD``."""
    return _spread(trials, _objective_figure(objective))


def aggregate_spread(trials: Sequence[Trial]) -> float:
    """The run-to-run spread of aggregate tok/s, as ``relative_spread`` computes it."""
    return _spread(trials, lambda m: m.aggregate_tps)


def top(trials: Sequence[Trial], start: Trial, objective: Objective, count: int = 2) -> list[Trial]:
    """The best ``count`` measured candidates (the start excluded)."""
    base = start.mean()
    ok = [t for t in trials if t.ok and t is not start]
    return sorted(ok, key=lambda t: _rank_key(t.mean(), base, objective), reverse=True)[:count]


@dataclass(frozen=True)
class TuneVerdict:
    """Who won and why.

    Attributes:
        winner: the trial to apply; None = keep the start.
        reason: one sentence for the user.
        gain: the winner's (or best candidate's) relative gain in the objective's figure.
        spread: the run-to-run spread the gain had to beat.
    """

    winner: Trial | None
    reason: str
    gain: float
    spread: float


def decide(trials: Sequence[Trial], start: Trial, objective: Objective) -> TuneVerdict:
    """The winner rule (see the module docstring). ``trials`` may include ``start``."""
    spread = relative_spread([*trials, start], objective)
    if not start.ok:
        return TuneVerdict(
            None, "the starting configuration could not be measured; nothing changed", 0.0, spread
        )
    base = start.mean()
    confirmed = [t for t in trials if t is not start and t.ok and len(t.runs) >= 2]
    best = top(confirmed or list(trials), start, objective, 1)
    if not best:
        return TuneVerdict(
            None, "no candidate could be measured; keeping the configuration that runs", 0.0, spread
        )
    m = best[0].mean()
    g = gain(m, base, objective)
    label = best[0].candidate.knobs.label()
    if not _feasible(m, objective):
        return TuneVerdict(
            None, f"no candidate met the objective (best: {label}); keeping what runs", g, spread
        )
    if _feasible(m, objective) and not _feasible(base, objective):
        return TuneVerdict(best[0], f"{label} meets the objective and the start does not", g, spread)
    if objective.kind == "users":
        agg_spread = aggregate_spread([*trials, start])
        if m.aggregate_tps < base.aggregate_tps * (1 - AGGREGATE_DROP_SPREADS * agg_spread):
            drop = 1 - m.aggregate_tps / base.aggregate_tps
            return TuneVerdict(
                None,
                f"the best candidate ({label}) lowers aggregate tok/s by {drop:.0%}, more than twice its"
                f" run-to-run spread ({agg_spread:.0%}); keeping what runs",
                g,
                spread,
            )
    if g <= spread:
        return TuneVerdict(
            None,
            f"no candidate beat the start by more than the run-to-run spread ({spread:.0%});"
            f" best: {label}, {g:+.0%}; keeping the configuration that runs",
            g,
            spread,
        )
    return TuneVerdict(best[0], f"{label} beats the start by {g:+.0%} (spread {spread:.0%})", g, spread)


@dataclass(frozen=True)
class TuneComparison:
    """One row of the before → after table: a figure, its values and after ÷ before."""

    metric: str
    before: float | None
    after: float | None
    ratio: float | None = field(default=None)


def before_after(before: Measurement, after: Measurement) -> tuple[TuneComparison, ...]:
    """Decode tok/s, aggregate tok/s, TTFT p50/p95 and memory, before and after, with ratios."""

    def row(metric: str, a: float | None, b: float | None) -> TuneComparison:
        return TuneComparison(metric, a, b, b / a if a and b is not None else None)

    mem_a = before.memory_bytes / 1024**2 if before.memory_bytes is not None else None
    mem_b = after.memory_bytes / 1024**2 if after.memory_bytes is not None else None
    return (
        row("decode tok/s per stream", before.decode_tps, after.decode_tps),
        row("aggregate tok/s", before.aggregate_tps, after.aggregate_tps),
        row("TTFT p50 s", before.ttft_p50_s, after.ttft_p50_s),
        row("TTFT p95 s", before.ttft_p95_s, after.ttft_p95_s),
        row("memory MiB", mem_a, mem_b),
    )
