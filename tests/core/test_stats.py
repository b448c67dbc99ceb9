"""Percentiles and spreads, the statistics every benchmark figure is summarised with."""

from __future__ import annotations

import pytest

from toolkit.core.stats import percentile, summarize


def test_percentile_interpolates_like_numpy() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 10.0]
    assert percentile(values, 50) == 3.0
    assert percentile(values, 95) == pytest.approx(8.8)  # numpy.percentile(values, 95)
    assert percentile([7.0], 95) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_summary_spread() -> None:
    summary = summarize([100.0, 110.0, None, 90.0])
    assert summary is not None
    assert summary.n == 3 and summary.median == 100.0
    assert summary.spread_pct == pytest.approx(20.0)
    assert summarize([None]) is None
