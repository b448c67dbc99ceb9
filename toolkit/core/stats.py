"""Order statistics shared by the benchmark and the tuner: percentiles and the summary of one metric.

Kept apart from the benchmark's metrics because they know nothing about requests or servers: a
percentile is the same arithmetic for TTFTs, decode rates and inter-token gaps. Pure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) with linear interpolation between ranks (numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile {q} outside 0..100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Summary:
    """Distribution of one metric over repetitions.

    Attributes:
        n: how many values.
        median / p5 / p95 / min / max: the usual order statistics (linear interpolation).
        spread_pct: ``(max − min) / median × 100``, how much the repetitions disagree.
    """

    n: int
    median: float
    p5: float
    p95: float
    min: float
    max: float
    spread_pct: float

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def summarize(values: Iterable[float | None]) -> Summary | None:
    """Summary of the values that are not None; None when there are none."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    median = percentile(present, 50)
    low, high = min(present), max(present)
    return Summary(
        n=len(present),
        median=median,
        p5=percentile(present, 5),
        p95=percentile(present, 95),
        min=low,
        max=high,
        spread_pct=(high - low) / median * 100.0 if median else 0.0,
    )
