"""The bench's OLLAMA_NUM_PARALLEL advice when the server's own slots cap the sweep (issue 10).

The issue's run: a server with NUM_PARALLEL=1 serves four streams one after another, the totals stay
flat and the sweep's rule advises 1 — the value it was given. With the server's slot count known, the
verdict says the sweep cannot show what more slots would give and points to `gpuless tune`.
"""

from __future__ import annotations

from tests.core.bench.levels import level
from toolkit.core.bench.concurrency import recommend_num_parallel, users_per_grade
from toolkit.core.bench.verdict import FIGURES_NOTE, Verdict, verdict

# Serial service: per-stream decode stays at the single-stream rate, TTFT grows with the queue.
SERIAL = [
    level(1, 60.0, [75.0], 0.3),
    level(2, 62.0, [75.0, 74.0], 1.2),
    level(4, 63.0, [75.0, 74.5, 74.0, 73.0], 3.83),
]


def read(server_slots: int | None) -> Verdict:
    users = users_per_grade(SERIAL, ttft_limit_s=10.0)
    advice = recommend_num_parallel(SERIAL, ttft_limit_s=10.0)
    return verdict((), SERIAL, users, advice, 10.0, server_slots)


def test_one_slot_under_four_streams_gives_no_advice_and_points_to_tune() -> None:
    v = read(1)
    assert v.slots_capped
    line = next(x for x in v.lines() if x.startswith("OLLAMA_NUM_PARALLEL"))
    assert line.startswith("OLLAMA_NUM_PARALLEL: no advice from this sweep: ")
    assert "OLLAMA_NUM_PARALLEL=1," in line and "cannot show what more slots would give" in line
    assert "`gpuless tune --users 4`" in line
    assert not any(x.startswith("OLLAMA_NUM_PARALLEL=1:") for x in v.lines())
    assert FIGURES_NOTE in v.lines()


def test_enough_slots_or_unknown_keeps_the_measured_advice() -> None:
    for slots in (4, 8, None):
        v = read(slots)
        assert not v.slots_capped
        assert any(
            x.startswith(f"OLLAMA_NUM_PARALLEL={v.num_parallel}: the fewest streams") for x in v.lines()
        )


def test_no_sweep_no_slot_line() -> None:
    v = verdict((), (), {}, None, 10.0, 1)
    assert not v.slots_capped
    assert not any("OLLAMA_NUM_PARALLEL" in x for x in v.lines())
