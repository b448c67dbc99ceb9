"""The tuning rules over fixtures: objectives, candidates from the estimator, pruning, budget, winner."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.builders import machine
from tests.core.tune.trials import START, memory
from toolkit.adapters.resources import load_catalog
from toolkit.core.tune import knobs as tune
from toolkit.core.tune.knobs import Objective, TuneBudget
from toolkit.errors import UsageError


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
        START, Objective.for_users(4), physical_cores=2, logical_cores=2, memory_of=memory
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
        start, Objective.for_users(4), physical_cores=2, logical_cores=2, memory_of=memory, slot_cap=1
    )
    assert cands and all(c.knobs.num_parallel == 1 for c in cands)
    forced = [p for p in pruned if p.knobs.num_parallel > 1]
    assert forced and all("1 slot(s) whatever OLLAMA_NUM_PARALLEL says" in p.reason for p in forced)
    free, _ = tune.generate_candidates(
        start, Objective.for_users(4), physical_cores=2, logical_cores=2, memory_of=memory
    )
    assert any(c.knobs.num_parallel > 1 for c in free)


def test_single_user_never_tries_more_slots() -> None:
    cands, _ = tune.generate_candidates(
        START, Objective.for_users(1), physical_cores=4, logical_cores=8, memory_of=memory
    )
    assert {c.knobs.num_parallel for c in cands} == {1}
    assert {c.knobs.num_thread for c in cands} == {2, 3, 4, 8}  # the start's, and around the cores


def test_memory_cap_prunes_or_halves_the_context() -> None:
    cap = memory(replace(START, num_parallel=2))  # 4 slots at 4k do not fit, 4 slots at 2k do
    cands, pruned = tune.generate_candidates(
        START, Objective.for_users(4, mem_cap_bytes=cap), physical_cores=2, logical_cores=2, memory_of=memory
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
