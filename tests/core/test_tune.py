"""The tuning rules over fixtures: objectives, candidates from the estimator, pruning, budget, winner."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.core.test_estimate import machine
from toolkit.adapters.resources import load_catalog
from toolkit.core.tune import knobs as tune
from toolkit.core.tune import verdict as tune_verdict
from toolkit.core.tune.knobs import Knobs, Measurement, Objective, Trial, TuneBudget, TuneCandidate
from toolkit.errors import UsageError

START = Knobs(num_parallel=1, num_thread=2, flash_attention=True, kv_cache_type="f16", context_length=4096)


def _memory(knobs: Knobs) -> int:
    # 500 MiB of weights + 100 MiB of KV per slot per 4k of context (halved by q8_0).
    kv = 100 * 1024**2 * knobs.num_parallel * knobs.context_length // 4096
    return 500 * 1024**2 + (kv // 2 if knobs.kv_cache_type == "q8_0" else kv)


def _m(decode: float = 50.0, agg: float = 50.0, p95: float = 1.0, mem: int | None = None) -> Measurement:
    return Measurement(
        streams=1, requests=4, decode_tps=decode, aggregate_tps=agg, ttft_p50_s=p95 / 2, ttft_p95_s=p95,
        memory_bytes=mem, seconds=5.0,
    )  # fmt: skip


def _trial(knobs: Knobs, *runs: Measurement) -> Trial:
    return Trial(TuneCandidate(knobs, "test"), runs)


def test_objective_rules() -> None:
    assert Objective.for_users(1).kind == "single"
    assert Objective.for_users(4).kind == "users"
    assert Objective.for_users(1, ttft_p95_limit_s=2).kind == "users"
    with pytest.raises(UsageError):
        Objective("users", 0)
    with pytest.raises(UsageError):
        Objective.for_users(4, ttft_p95_limit_s=0)
    with pytest.raises(UsageError):
        TuneBudget(0)


def test_users_candidates_most_slots_first_and_never_more_than_users() -> None:
    cands, pruned = tune.generate_candidates(
        START, Objective.for_users(4), physical_cores=2, logical_cores=2, memory_of=_memory
    )
    assert cands[0].knobs == replace(START, num_parallel=4)
    assert {c.knobs.num_parallel for c in cands} == {1, 2, 4}
    assert START not in {c.knobs for c in cands}
    assert all(c.knobs.kv_cache_type == "f16" or c.knobs.flash_attention for c in cands)
    assert {c.knobs.num_thread for c in cands} == {1, 2}
    assert not pruned


def test_slots_ollama_forces_down_are_not_tried() -> None:
    # Issue 19: Ollama runs embedding models and some architectures with one slot whatever
    # OLLAMA_NUM_PARALLEL says (server/sched.go:497-509); the runner's -np shows it, and more slots
    # than that cannot win.
    start = replace(START, num_parallel=4)
    cands, pruned = tune.generate_candidates(
        start, Objective.for_users(4), physical_cores=2, logical_cores=2, memory_of=_memory, slot_cap=1
    )
    assert cands and all(c.knobs.num_parallel == 1 for c in cands)
    forced = [p for p in pruned if p.knobs.num_parallel > 1]
    assert forced and all("1 slot(s) whatever OLLAMA_NUM_PARALLEL says" in p.reason for p in forced)
    free, _ = tune.generate_candidates(
        start, Objective.for_users(4), physical_cores=2, logical_cores=2, memory_of=_memory
    )
    assert any(c.knobs.num_parallel > 1 for c in free)


def test_single_user_never_tries_more_slots() -> None:
    cands, _ = tune.generate_candidates(
        START, Objective.for_users(1), physical_cores=4, logical_cores=8, memory_of=_memory
    )
    assert {c.knobs.num_parallel for c in cands} == {1}
    assert {c.knobs.num_thread for c in cands} == {2, 3, 4, 8}  # the start's, and around the cores


def test_memory_cap_prunes_or_halves_the_context() -> None:
    cap = _memory(replace(START, num_parallel=2))  # 4 slots at 4k do not fit, 4 slots at 2k do
    cands, pruned = tune.generate_candidates(
        START, Objective.for_users(4, mem_cap_bytes=cap), physical_cores=2, logical_cores=2, memory_of=_memory
    )
    assert any(p.knobs.num_parallel == 4 and p.reason.startswith("cannot fit") for p in pruned)
    halved = [c for c in cands if c.knobs.num_parallel == 4 and c.knobs.kv_cache_type == "f16"]
    assert halved and halved[0].knobs.context_length == 2048
    assert all((c.estimated_bytes or 0) <= cap for c in cands)


def test_estimator_memory_grows_with_slots_and_shrinks_with_q8() -> None:
    model, variant = load_catalog().find("smollm2:135m")
    memory_of = tune.memory_estimator(model, variant, machine())
    one, four = memory_of(START), memory_of(replace(START, num_parallel=4))
    q8 = memory_of(replace(START, num_parallel=4, kv_cache_type="q8_0"))
    assert one is not None and four is not None and q8 is not None
    assert one < q8 < four
    assert tune.memory_estimator(None, None, machine())(START) is None


def test_budget_keeps_time_to_finish() -> None:
    budget = TuneBudget(180)
    assert budget.may_try_another(elapsed_s=110, per_candidate_s=20)  # 110 + 20·3 = 170
    assert not budget.may_try_another(elapsed_s=130, per_candidate_s=20)  # 130 + 60 > 180
    assert budget.may_remeasure(elapsed_s=140, per_candidate_s=20)
    assert not budget.may_remeasure(elapsed_s=150, per_candidate_s=20)


def test_users_winner_must_beat_spread_and_keep_throughput() -> None:
    objective = Objective.for_users(4)
    start = _trial(START, _m(p95=4.0, agg=50), _m(p95=3.6, agg=48))
    four = _trial(replace(START, num_parallel=4), _m(p95=0.8, agg=60), _m(p95=0.7, agg=62))
    verdict = tune_verdict.decide([four], start, objective)
    assert verdict.winner is four
    assert verdict.gain > 3 and verdict.spread == pytest.approx(0.1 / 0.75)  # the largest of both
    # The same TTFT gain bought with half the throughput is no win.
    slow = _trial(replace(START, num_parallel=4), _m(p95=0.8, agg=20))
    assert tune_verdict.decide([slow], start, objective).winner is None


def test_users_throughput_guard_weighs_the_aggregate_against_its_own_spread() -> None:
    objective = Objective.for_users(4)
    # The CI case: more slots on one thread leave the aggregate flat; noise put the candidate 12% under
    # the start, beyond one aggregate spread (10%) but not two. The 4x TTFT win stands.
    start = _trial(START, _m(p95=3.0, agg=52), _m(p95=2.9, agg=47))  # aggregate spread 5/49.5 = 10%
    four = _trial(replace(START, num_parallel=4), _m(p95=0.8, agg=44), _m(p95=0.78, agg=43))
    verdict = tune_verdict.decide([four], start, objective)
    assert verdict.winner is four, verdict.reason
    assert tune_verdict.aggregate_spread([four, start]) == pytest.approx(5 / 49.5)
    # A steady aggregate (spread at the 5% floor) and a noisy TTFT (40%): a 20% drop is refused; the
    # TTFT's spread does not excuse it.
    start = _trial(START, _m(p95=3.6, agg=50), _m(p95=2.4, agg=50))
    four = _trial(replace(START, num_parallel=4), _m(p95=0.8, agg=40), _m(p95=0.8, agg=40))
    verdict = tune_verdict.decide([four], start, objective)
    assert verdict.winner is None
    assert verdict.spread == pytest.approx(0.4)
    assert "by 20%, more than twice its run-to-run spread (5%)" in verdict.reason


def test_once_the_top_are_measured_again_a_candidate_measured_once_cannot_win() -> None:
    # The demo's case: the top two's second runs pulled their averages back, and a third candidate with
    # one (lucky) run would have ranked first on it.
    objective = Objective.for_users(4)
    start = _trial(START, _m(p95=2.4, agg=62), _m(p95=2.1, agg=60))
    f16 = _trial(replace(START, num_parallel=4), _m(p95=0.56, agg=67), _m(p95=0.86, agg=48))
    q8 = _trial(
        replace(START, num_parallel=4, kv_cache_type="q8_0"), _m(p95=0.65, agg=58), _m(p95=0.87, agg=48)
    )
    once = _trial(replace(START, num_parallel=4, flash_attention=False), _m(p95=0.69, agg=56))
    verdict = tune_verdict.decide([f16, q8, once], start, objective)
    assert verdict.winner is f16
    # With no second run anywhere (a budget that left no time for one), the best single run competes.
    single = [_trial(t.candidate.knobs, t.runs[0]) for t in (f16, q8)] + [once]
    assert tune_verdict.decide(single, start, objective).winner is single[0]


def test_no_winner_inside_the_spread() -> None:
    objective = Objective.for_users(1)
    start = _trial(START, _m(decode=50), _m(decode=40))  # 22% spread
    close = _trial(replace(START, num_thread=1), _m(decode=52), _m(decode=53))
    verdict = tune_verdict.decide([close], start, objective)
    assert verdict.winner is None and "spread" in verdict.reason
    assert verdict.spread == pytest.approx(10 / 45)


def test_failed_candidates_are_skipped_and_ttft_limit_ranks_by_throughput() -> None:
    objective = Objective.for_users(4, ttft_p95_limit_s=2.0)
    start = _trial(START, _m(p95=4.0, agg=50), _m(p95=4.2, agg=50))
    broken = Trial(TuneCandidate(replace(START, num_parallel=4), "x"), error="failed to start")
    two = _trial(replace(START, num_parallel=2), _m(p95=1.9, agg=55))
    four = _trial(replace(START, num_parallel=4, kv_cache_type="q8_0"), _m(p95=1.0, agg=58))
    assert tune_verdict.top([broken, two, four], start, objective) == [four, two]
    verdict = tune_verdict.decide([broken, two, four], start, objective)
    assert verdict.winner is four and "meets the objective" in verdict.reason
    assert tune_verdict.decide([broken], start, objective).winner is None


def test_memory_cap_rules_out_a_measured_candidate() -> None:
    objective = Objective.for_users(1, mem_cap_bytes=1000)
    start = _trial(START, _m(decode=50, mem=900), _m(decode=50, mem=900))
    fat = _trial(replace(START, num_thread=1), _m(decode=90, mem=2000))
    assert tune_verdict.decide([fat], start, objective).winner is None


def test_before_after_ratios() -> None:
    pairs = tune_verdict.before_after(_m(p95=4.0, agg=50, mem=1024**2), _m(p95=1.0, agg=60))
    rows = {r.metric: r for r in pairs}
    assert rows["TTFT p95 s"].ratio == pytest.approx(0.25)
    assert rows["aggregate tok/s"].ratio == pytest.approx(1.2)
    assert rows["memory MiB"].after is None and rows["memory MiB"].ratio is None
