"""Predicted against measured: the error of each figure and the aggregate a prediction implies."""

from __future__ import annotations

import pytest

from toolkit.core.bench.compare import compare, predicted_aggregate_tps, predicted_vs_measured


def test_predicted_vs_measured_error_percent() -> None:
    rows = predicted_vs_measured(decode_tps=(100.0, 120.0), prefill_tps=(None, 900.0), ttft_s=(0.5, 0.4))
    decode, prefill, ttft = rows
    assert decode.error_pct == pytest.approx(-16.6667, abs=1e-3)
    assert prefill.error_pct is None
    assert ttft.error_pct == pytest.approx(25.0)
    assert compare("x", "s", 1.0, 0.0).error_pct is None


def test_predicted_aggregate_counts_the_prefill_the_measurement_contains() -> None:
    # One stream, 48 tokens at 51.4 tok/s after a 0.4 s TTFT: 48 / 1.334 s, not 51.4.
    assert predicted_aggregate_tps(1, 48, 51.4, 0.4) == pytest.approx(48 / (0.4 + 48 / 51.4))
    # Two streams share the prefill of both prompts, then decode side by side.
    assert predicted_aggregate_tps(2, 48, 40.0, 0.8) == pytest.approx(96 / (0.8 + 1.2))
    # Long answers approach streams × per-stream speed.
    assert predicted_aggregate_tps(4, 100_000, 10.0, 2.0) == pytest.approx(40.0, rel=1e-3)
    assert predicted_aggregate_tps(1, 48, None, 0.4) is None
    assert predicted_aggregate_tps(1, 48, 50.0, None) == pytest.approx(50.0)
