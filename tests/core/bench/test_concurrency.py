"""The concurrency table: speed per level, users held per grade, the NUM_PARALLEL advice."""

from __future__ import annotations

import pytest

from toolkit.core.bench.concurrency import (
    ConcurrencyLevel,
    concurrency_level,
    recommend_num_parallel,
    users_per_grade,
)
from toolkit.core.bench.metrics import RequestTrace, ServerTimings


def _level(
    streams: int, per_stream: list[float], ttfts: list[float], wall: float, tokens: int = 100
) -> ConcurrencyLevel:
    traces = []
    for rate, ttft in zip(per_stream, ttfts, strict=True):
        span = (tokens - 1) / rate
        timings = ServerTimings(prompt_eval_count=10, eval_count=tokens)
        traces.append(RequestTrace(0.0, (ttft, ttft + span), ttft + span, timings))
    return concurrency_level(streams, traces, wall)


def test_concurrency_table_grades_and_num_parallel() -> None:
    one = _level(1, [120.0], [0.05], wall=0.9)
    two = _level(2, [80.0, 78.0], [0.1, 0.2], wall=1.35)
    four = _level(4, [40.0, 39.0, 41.0, 38.0], [0.2, 0.3, 0.5, 0.6], wall=2.7)
    eight = _level(8, [20.0] * 7 + [14.0], [1.0] * 8, wall=5.5)
    levels = [one, two, four, eight]
    assert two.aggregate_tps == pytest.approx(200 / 1.35)
    assert two.per_stream_tps is not None
    assert two.per_stream_tps.min == pytest.approx(78.0)
    # 70 tok/s: 2 streams (78 ≥ 70); 30: up to 4; 15: 4, because one of 8 streams fell to 14 tok/s.
    assert users_per_grade(levels) == {70.0: 2, 30.0: 4, 15.0: 4}
    # Aggregates: 111, 148, 148, 145 → 2 streams reach 90% of the best with the least memory.
    assert recommend_num_parallel(levels) == 2


def test_queued_users_are_not_held_when_ttft_explodes() -> None:
    queued = _level(4, [120.0] * 4, [0.1, 1.0, 12.0, 13.0], wall=4.0)
    assert users_per_grade([queued], ttft_limit_s=10.0)[70.0] == 0
    assert users_per_grade([queued], ttft_limit_s=20.0)[70.0] == 4
    assert recommend_num_parallel([]) == 1


def test_failed_requests_disqualify_a_level() -> None:
    timings = ServerTimings(prompt_eval_count=10, eval_count=50)
    level = concurrency_level(2, [RequestTrace(0.0, (0.1, 0.6), 0.6, timings)], 1.0, errors=1)
    assert level.errors == 1
    assert users_per_grade([level])[15.0] == 0
