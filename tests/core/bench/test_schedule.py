"""The benchmark's schedule: how many requests a quick and a thorough run make, the ETA, the progress line."""

from __future__ import annotations

from toolkit.core.bench.config import BenchConfig
from toolkit.core.bench.schedule import QUICK, THOROUGH, eta_s, planned_requests, progress_prefix


def test_quick_plan_is_small_and_thorough_is_the_full_sweep() -> None:
    assert planned_requests(QUICK.reps, QUICK.shapes, QUICK.concurrency) == 11
    assert planned_requests(THOROUGH.reps, THOROUGH.shapes, THOROUGH.concurrency) == 17
    assert QUICK.num_predict * 11 < THOROUGH.num_predict * 17 / 4
    # the quick document's prefill (~250 tokens) is a quarter of the thorough one's (~1k)
    assert QUICK.document_words * 4 <= THOROUGH.document_words
    assert QUICK.max_seconds <= 15
    assert planned_requests(5, ("chat",), (1, 2, 4), max_requests=6) == 6


def test_eta() -> None:
    assert eta_s(13, 0, 2.0, None, 15.0) is None
    # the first request took 3 s (it held the load); the next four 1 s each: 8 left at 1 s
    assert eta_s(13, 5, 7.0, 3.0, 60.0) == 8.0
    # never beyond what the time bound allows (plus one request that may start just before it)
    assert eta_s(13, 5, 14.0, 2.0, 15.0) == 1.0 + 3.0
    assert eta_s(13, 13, 10.0, 1.0, 15.0) == 0.0
    assert progress_prefix(13, 5, 7.04, 8.0) == "[5/13 · 7.0 s · about 8 s left]"
    assert progress_prefix(13, 0, 1.0, None) == "[0/13 · 1.0 s · estimating time left]"


def test_the_first_request_alone_sets_the_pace_and_counts_are_bounded() -> None:
    # One request done: its own time is the only pace there is (3 s each for the 12 still to come).
    assert eta_s(13, 1, 3.0, 3.0, 900.0) == 36.0
    # A clock reading before the first finish (a pace below zero) never gives a negative ETA.
    assert eta_s(13, 5, 2.0, 3.0, 900.0) == 0.0
    # More done than planned (a retried level): nothing left.
    assert eta_s(4, 6, 10.0, 1.0, 900.0) == 0.0
    # Rounds repeat the sweep; max_requests caps whatever the plan adds up to.
    assert planned_requests(2, ("chat", "document"), (1, 2, 4), rounds=3) == 4 + 21
    assert planned_requests(2, ("chat",), ()) == 2


def test_a_plan_is_a_benchmark_config() -> None:
    config = BenchConfig(model="m", url="http://127.0.0.1:1", **QUICK.as_config())
    assert (config.reps, config.num_predict, config.concurrency) == (2, 32, (1, 2, 4))
    assert config.max_seconds == QUICK.max_seconds and config.document_words == 200
    assert BenchConfig(model="m", url="u", **THOROUGH.as_config()).max_requests == 200
