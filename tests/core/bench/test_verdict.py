"""The benchmark's grade, users held and NUM_PARALLEL advice agree, each with its reason; the ETA."""

from __future__ import annotations

from tests.core.bench.levels import level
from toolkit.core.bench.concurrency import ConcurrencyLevel, recommend_num_parallel, users_per_grade
from toolkit.core.bench.verdict import FIGURES_NOTE, verdict


def read(levels: list[ConcurrencyLevel], slo: float = 10.0):  # type: ignore[no-untyped-def]
    users = users_per_grade(levels, ttft_limit_s=slo)
    return verdict((), levels, users, recommend_num_parallel(levels, ttft_limit_s=slo), slo)


def test_issue_13_case_grade_users_and_parallel_agree() -> None:
    # The issue's run: 1 stream at ~100 tok/s, total flat as streams grow; 4 users held at C.
    levels = [
        level(1, 90.6, [102.4], 0.2),
        level(2, 92.0, [48.0, 47.0], 0.4),
        level(4, 93.0, [24.0, 23.5, 23.0, 22.8], 0.9),
    ]
    v = read(levels)
    assert v.grade == "A"  # the A line (70) held at 1 stream, so the grade is A, never a lower letter
    assert v.users == {15.0: 4, 30.0: 2, 70.0: 1}
    assert v.num_parallel == 1
    lines = v.lines()
    assert lines[0].startswith("grade A, 70+ tok/s: instant: at 1 stream the slowest stream decoded 102.4")
    assert "1 at ≥ 70 tok/s" in lines[1] and "4 at ≥ 15 tok/s" in lines[1]
    assert lines[2].startswith("OLLAMA_NUM_PARALLEL=1: the fewest streams within 10% of the best aggregate")
    assert "1 stream 90.6, 2 streams 92.0, 4 streams 93.0" in lines[2]
    assert "the 4 users held were measured with the server's current slots" in lines[2]
    assert lines[3] == FIGURES_NOTE


def test_grade_is_the_best_line_a_level_held() -> None:
    # 1 stream decodes at 40 tok/s: B, and no level holds A, so "users at ≥ 70" is 0, consistently.
    v = read([level(1, 35.0, [40.0], 0.3), level(2, 60.0, [31.0, 30.5], 0.5)])
    assert v.grade == "B"
    assert v.users[70.0] == 0 and v.users[30.0] == 2
    assert v.num_parallel == 2  # 2 streams gave 60 vs 35 total: the extra slot pays
    assert "users held beyond" not in v.lines()[2] and "current slots" not in v.lines()[2]


def test_slow_first_token_is_below_c_with_its_reason() -> None:
    v = read([level(1, 80.0, [90.0], 12.0)], slo=10.0)
    assert v.grade == "<C"
    assert "TTFT p95 12.00 s (limit 10 s)" in v.grade_reason
    assert v.num_parallel == 1 and "no level held the C line" in v.num_parallel_reason


def test_nothing_measured() -> None:
    v = verdict((), (), {}, None, 10.0)
    assert v.grade is None and v.lines() == ["grade — (nothing measured): no request finished"]
