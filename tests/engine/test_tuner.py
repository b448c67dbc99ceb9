"""The tuner's loop against the real test server (llama.cpp): a candidate that fails to start is reported
and skipped, the budget is honoured, and Ctrl-C restores the configuration that ran before.

The restart is a callback here (``CallbackTarget``) that records what it was asked to run and refuses
q8_0, so these tests check the loop's promises on real streaming measurements; restarting a container
with each candidate is covered by the Docker test of ``gpuless tune``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import pytest

from tests.ollama_server.fixtures import ServerHandle
from toolkit.adapters.tune_target import CallbackTarget
from toolkit.adapters.tuner import Tuner, TuneSettings
from toolkit.core.tune import Budget, Candidate, Knobs, Objective
from toolkit.errors import GpulessError

pytestmark = pytest.mark.engine
START = Knobs(num_parallel=1, num_thread=None, flash_attention=True, kv_cache_type="f16", context_length=4096)


def _target(
    handle: ServerHandle, applied: list[Knobs], interrupt_on: Knobs | None = None, restart_s: float = 0.0
) -> CallbackTarget:
    def restart(knobs: Knobs) -> None:
        applied.append(knobs)
        time.sleep(restart_s)  # what a real restart costs, so the budget has something to cut
        if knobs == interrupt_on:
            raise KeyboardInterrupt
        if knobs.kv_cache_type == "q8_0":
            raise GpulessError("the server refused OLLAMA_KV_CACHE_TYPE=q8_0")

    return CallbackTarget(handle.url, "smollm2:135m", restart)


def test_failed_candidate_skipped_budget_honoured(
    ollama_server_factory: Callable[..., ServerHandle],
) -> None:
    handle = ollama_server_factory()
    applied: list[Knobs] = []
    q8 = Candidate(replace(START, kv_cache_type="q8_0"), "KV q8_0")
    # Twelve candidates with a 3 s restart each cannot all fit in 18 s, however fast the machine.
    many = [Candidate(replace(START, num_thread=n), f"{n} threads") for n in range(1, 13)]
    budget = Budget(18)
    t0 = time.monotonic()
    target = _target(handle, applied, restart_s=3.0)
    # Answers of 16 tokens: the start must be measured well inside the budget even on a busy machine.
    settings = TuneSettings(num_predict=16)
    result = Tuner(target, Objective.for_users(1), START, [q8, *many], (), budget, settings=settings).run()
    # + one restart (3 s here) back to the start or to the winner, and the winner's final measurement
    assert time.monotonic() - t0 <= budget.total_s + 15
    assert result.start.ok and len(result.start.runs) == 2, result.start.error
    assert result.trials[0].error is not None and "refused" in result.trials[0].error
    # Thirteen candidates of ≥ 3 s each plus a reserve of two do not fit in 18 s with the start.
    assert result.skipped_for_budget > 0
    assert result.verdict is not None
    if result.verdict.winner is None:
        assert applied[-1] == START  # nothing won: the start runs again
    else:
        assert applied[-1] == result.verdict.winner.candidate.knobs
    payload = result.to_dict()
    assert payload["candidates"][0]["error"] and payload["reason"]


def test_ctrl_c_restores_the_start(ollama_server_factory: Callable[..., ServerHandle]) -> None:
    handle = ollama_server_factory()
    applied: list[Knobs] = []
    first, second = replace(START, num_thread=1), replace(START, num_thread=2)
    tuner = Tuner(
        _target(handle, applied, interrupt_on=second),
        Objective.for_users(1),
        START,
        [Candidate(first, "1 thread"), Candidate(second, "2 threads")],
        (),
        Budget(600),  # room for both candidates however busy the machine: the interrupt must come
    )
    with pytest.raises(KeyboardInterrupt):
        tuner.run()
    assert applied == [first, second, START]
