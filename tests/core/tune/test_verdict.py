"""A tune's verdict: a winner must beat the spread and keep throughput; before/after figures."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.core.tune.trials import START, measured, trial
from toolkit.core.tune import verdict as tune_verdict
from toolkit.core.tune.knobs import Objective, Trial, TuneCandidate


def test_users_winner_must_beat_spread_and_keep_throughput() -> None:
    objective = Objective.for_users(4)
    start = trial(START, measured(p95=4.0, agg=50), measured(p95=3.6, agg=48))
    four = trial(replace(START, num_parallel=4), measured(p95=0.8, agg=60), measured(p95=0.7, agg=62))
    verdict = tune_verdict.decide([four], start, objective)
    assert verdict.winner is four
    assert verdict.gain > 3 and verdict.spread == pytest.approx(0.1 / 0.75)  # the largest of both
    # The same TTFT gain bought with half the throughput is no win.
    slow = trial(replace(START, num_parallel=4), measured(p95=0.8, agg=20))
    assert tune_verdict.decide([slow], start, objective).winner is None


def test_users_throughput_guard_weighs_the_aggregate_against_its_own_spread() -> None:
    objective = Objective.for_users(4)
    # The CI case: more slots on one thread leave the aggregate flat; noise put the candidate 12% under
    # the start, beyond one aggregate spread (10%) but not two. The 4x TTFT win stands.
    start = trial(
        START, measured(p95=3.0, agg=52), measured(p95=2.9, agg=47)
    )  # aggregate spread 5/49.5 = 10%
    four = trial(replace(START, num_parallel=4), measured(p95=0.8, agg=44), measured(p95=0.78, agg=43))
    verdict = tune_verdict.decide([four], start, objective)
    assert verdict.winner is four, verdict.reason
    assert tune_verdict.aggregate_spread([four, start]) == pytest.approx(5 / 49.5)
    # A steady aggregate (spread at the 5% floor) and a noisy TTFT (40%): a 20% drop is refused; the
    # TTFT's spread does not excuse it.
    start = trial(START, measured(p95=3.6, agg=50), measured(p95=2.4, agg=50))
    four = trial(replace(START, num_parallel=4), measured(p95=0.8, agg=40), measured(p95=0.8, agg=40))
    verdict = tune_verdict.decide([four], start, objective)
    assert verdict.winner is None
    assert verdict.spread == pytest.approx(0.4)
    assert "by 20%, more than twice its run-to-run spread (5%)" in verdict.reason


def test_once_the_top_are_measured_again_a_candidate_measured_once_cannot_win() -> None:
    # The demo's case: the top two's second runs pulled their averages back, and a third candidate with
    # one (lucky) run would have ranked first on it.
    objective = Objective.for_users(4)
    start = trial(START, measured(p95=2.4, agg=62), measured(p95=2.1, agg=60))
    f16 = trial(replace(START, num_parallel=4), measured(p95=0.56, agg=67), measured(p95=0.86, agg=48))
    q8 = trial(
        replace(START, num_parallel=4, kv_cache_type="q8_0"),
        measured(p95=0.65, agg=58),
        measured(p95=0.87, agg=48),
    )
    once = trial(replace(START, num_parallel=4, flash_attention=False), measured(p95=0.69, agg=56))
    verdict = tune_verdict.decide([f16, q8, once], start, objective)
    assert verdict.winner is f16
    # With no second run anywhere (a budget that left no time for one), the best single run competes.
    single = [trial(t.candidate.knobs, t.runs[0]) for t in (f16, q8)] + [once]
    assert tune_verdict.decide(single, start, objective).winner is single[0]


def test_no_winner_inside_the_spread() -> None:
    objective = Objective.for_users(1)
    start = trial(START, measured(decode=50), measured(decode=40))  # 22% spread
    close = trial(replace(START, num_thread=1), measured(decode=52), measured(decode=53))
    verdict = tune_verdict.decide([close], start, objective)
    assert verdict.winner is None and "spread" in verdict.reason
    assert verdict.spread == pytest.approx(10 / 45)


def test_failed_candidates_are_skipped_and_ttft_limit_ranks_by_throughput() -> None:
    objective = Objective.for_users(4, ttft_p95_limit_s=2.0)
    start = trial(START, measured(p95=4.0, agg=50), measured(p95=4.2, agg=50))
    broken = Trial(TuneCandidate(replace(START, num_parallel=4), "x"), error="failed to start")
    two = trial(replace(START, num_parallel=2), measured(p95=1.9, agg=55))
    four = trial(replace(START, num_parallel=4, kv_cache_type="q8_0"), measured(p95=1.0, agg=58))
    assert tune_verdict.top([broken, two, four], start, objective) == [four, two]
    verdict = tune_verdict.decide([broken, two, four], start, objective)
    assert verdict.winner is four and "meets the objective" in verdict.reason
    assert tune_verdict.decide([broken], start, objective).winner is None


def test_memory_cap_rules_out_a_measured_candidate() -> None:
    objective = Objective.for_users(1, mem_cap_bytes=1000)
    start = trial(START, measured(decode=50, mem=900), measured(decode=50, mem=900))
    fat = trial(replace(START, num_thread=1), measured(decode=90, mem=2000))
    assert tune_verdict.decide([fat], start, objective).winner is None


def test_before_after_ratios() -> None:
    pairs = tune_verdict.before_after(measured(p95=4.0, agg=50, mem=1024**2), measured(p95=1.0, agg=60))
    rows = {r.metric: r for r in pairs}
    assert rows["TTFT p95 s"].ratio == pytest.approx(0.25)
    assert rows["aggregate tok/s"].ratio == pytest.approx(1.2)
    assert rows["memory MiB"].after is None and rows["memory MiB"].ratio is None
