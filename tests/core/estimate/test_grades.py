"""The speed grades: the letter a tok/s figure earns, what it means in words, and where each line starts."""

from __future__ import annotations

import pytest

from toolkit.core.estimate import grades


@pytest.mark.parametrize(
    ("tps", "letter"),
    [(70, "A"), (69.99, "B"), (30, "B"), (29.9, "C"), (15, "C"), (14.99, "<C"), (0.5, "<C")],
)
def test_grade_boundaries(tps: float, letter: str) -> None:
    """The project's grades are A/B/C at 70/30/15 tok/s; below C there is no failing letter."""
    assert grades.grade(tps) == letter
    assert grades.grade_meaning(letter)
    assert "D" not in grades.grade_meaning(letter)


def test_each_grade_starts_at_its_line_and_reads_in_words() -> None:
    assert [grades.grade_line(letter) for letter in ("A", "B", "C")] == [70.0, 30.0, 15.0]
    for line, letter in grades.GRADE_LINES:
        assert grades.grade(line) == letter  # a line belongs to its own grade
    with pytest.raises(ValueError, match="'<C' has no line"):
        grades.grade_line(grades.BELOW_C)
    assert grades.grade_meaning("C") == "C, 15+ tok/s: reading pace"
    assert grades.grade_meaning("<C") == "below C's 15 tok/s"
    assert grades.grade_meaning("?") == "?"  # an unknown letter is shown as it is, not dropped
    assert len(grades.GRADE_KEY) <= 80
