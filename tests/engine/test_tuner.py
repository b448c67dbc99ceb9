"""The tuner's loop against the real test server (llama.cpp): a candidate that fails to start is reported
and skipped, the budget is honoured, and Ctrl-C restores the configuration that ran before.

The restart is a callback here (``CallbackTarget``) that records what it was asked to run and refuses
q8_0, so these tests check the loop's promises on real streaming measurements; restarting a container
with each candidate is covered by the Docker test of ``gpuless tune``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from tests.ollama_server.fixtures import ServerHandle
from toolkit.adapters.tune.target import CallbackTarget
from toolkit.adapters.tune.tuner import Tuner, TuneSettings
from toolkit.core.tune.knobs import Knobs, Objective, TuneBudget, TuneCandidate
from toolkit.errors import GpulessError

pytestmark = pytest.mark.engine
START = Knobs(num_parallel=1, num_thread=None, flash_attention=True, kv_cache_type="f16", context_length=4096)


class Clock:
    """The tuner's clock, moved on only by what the tuner is told a step took: every restart costs
    ``restart_s`` and every measurement ``measure_s``, whatever this machine's speed. The tuner's budget
    decisions are then the same on any machine, while the measurements still stream from llama.cpp."""

    def __init__(self, restart_s: float = 0.0, measure_s: float = 0.0) -> None:
        self.now = 0.0
        self.restart_s = restart_s
        self.measure_s = measure_s

    def __call__(self) -> float:
        return self.now

    def measured(self) -> None:  # the target's memory reading, taken once after each measurement
        self.now += self.measure_s
        return None


def _target(
    handle: ServerHandle, applied: list[Knobs], clock: Clock, interrupt_on: Knobs | None = None
) -> CallbackTarget:
    def restart(knobs: Knobs) -> None:
        applied.append(knobs)
        clock.now += clock.restart_s
        if knobs == interrupt_on:
            raise KeyboardInterrupt
        if knobs.kv_cache_type == "q8_0":
            raise GpulessError("the server refused OLLAMA_KV_CACHE_TYPE=q8_0")

    return CallbackTarget(handle.url, "smollm2:135m", restart, memory=clock.measured)


def test_failed_candidate_skipped_budget_honoured(
    ollama_server_factory: Callable[..., ServerHandle],
) -> None:
    handle = ollama_server_factory()
    applied: list[Knobs] = []
    q8 = TuneCandidate(replace(START, kv_cache_type="q8_0"), "KV q8_0")
    many = [TuneCandidate(replace(START, num_thread=n), f"{n} threads") for n in range(1, 13)]
    # A restart costs 30 s and a measurement 20 s on the tuner's clock. The budget is in those seconds,
    # and what is left of it is also the real time each measurement may take: at least 80 s here, room
    # for a 16-token answer on any machine. The start (2 measurements: 40 s) guesses 20 s a candidate;
    # q8_0 fails at its restart (70 s, now 30 s a candidate); 1 thread is measured (120 s, 50 s a
    # candidate); a third would end past 180 s with the reserve of two (120 + 3 × 50), so 11 are left.
    clock = Clock(restart_s=30, measure_s=20)
    budget = TuneBudget(180)
    # No configuration answers within 1 ms (a prompt's prefill alone takes longer on any CPU), so nothing
    # wins on any machine and the start is put back.
    objective = Objective.for_users(1, ttft_p95_limit_s=0.001)
    settings = TuneSettings(num_predict=16)
    tuner = Tuner(
        _target(handle, applied, clock),
        objective,
        START,
        [q8, *many],
        (),
        budget,
        settings=settings,
        clock=clock,
    )
    result = tuner.run()
    assert result.start.ok and len(result.start.runs) == 2
    assert [t.candidate for t in result.trials] == [q8, many[0]]
    assert result.trials[0].error is not None and "refused" in result.trials[0].error
    assert result.trials[1].ok and len(result.trials[1].runs) == 1  # no time left to re-measure it
    assert result.skipped_for_budget == 11
    assert result.verdict is not None and result.verdict.winner is None
    assert "no candidate met the objective" in result.verdict.reason
    assert applied == [q8.knobs, many[0].knobs, START]  # nothing won: the start runs again
    assert result.seconds == 150 <= budget.total_s  # 120 s, then the restart back to the start
    payload = result.to_dict()
    assert payload["candidates"][0]["error"] and payload["reason"]


def test_ctrl_c_restores_the_start(ollama_server_factory: Callable[..., ServerHandle]) -> None:
    handle = ollama_server_factory()
    applied: list[Knobs] = []
    first, second = replace(START, num_thread=1), replace(START, num_thread=2)
    # The tuner's clock stands still: the budget never runs out however slow this machine, so the second
    # candidate is always tried and the interrupt always comes.
    clock = Clock()
    tuner = Tuner(
        _target(handle, applied, clock, interrupt_on=second),
        Objective.for_users(1),
        START,
        [TuneCandidate(first, "1 thread"), TuneCandidate(second, "2 threads")],
        (),
        TuneBudget(600),
        clock=clock,
    )
    with pytest.raises(KeyboardInterrupt):
        tuner.run()
    assert applied == [first, second, START]
