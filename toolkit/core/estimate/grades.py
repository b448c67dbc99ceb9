"""The speed grades: which letter a tokens/s figure earns, and what the letter means in words.

One table for every screen and sentence that names a grade (the estimate, the pick's reasons, the
benchmark verdict, the wizard's speed targets), so the lines cannot drift apart.
"""

from __future__ import annotations

from typing import Literal

Grade = Literal["A", "B", "C", "<C"]

#: Speed lines (tokens/s per user) and their grades, the project's three: 70 feels instant (A), 30 is
#: faster than anyone reads (B), 15 is comfortable reading (C). Below the C line there is no fourth letter:
#: the grade reads "<C" ("below C, under 15 tok/s"), a plain reference, not a failing mark, because a
#: pick can sit under 15 tok/s and still meet the user's own target (10 tok/s by default).
GRADE_LINES: tuple[tuple[float, Grade], ...] = ((70.0, "A"), (30.0, "B"), (15.0, "C"))
BELOW_C: Grade = "<C"
GRADE_MEANINGS: dict[str, str] = {
    "A": "A, 70+ tok/s: instant",
    "B": "B, 30+ tok/s: faster than you read",
    "C": "C, 15+ tok/s: reading pace",
    BELOW_C: "below C's 15 tok/s",
}


#: The grades in one line of 80 columns, for a table's key ("<C" is said beside it).
GRADE_KEY = "grade A ≥70 tok/s instant · B ≥30 faster than reading · C ≥15 reading pace"


def grade(tokens_per_s: float) -> Grade:
    """A ≥ 70, B ≥ 30, C ≥ 15 tokens/s, else "<C" (below the C line)."""
    for line, letter in GRADE_LINES:
        if tokens_per_s >= line:
            return letter
    return BELOW_C


def grade_meaning(letter: str) -> str:
    """The grade in words, e.g. "C, 15+ tok/s: reading pace" or "below C's 15 tok/s"."""
    return GRADE_MEANINGS.get(letter, letter)


def grade_line(letter: str) -> float:
    """The tokens/s a grade starts at: ``grade_line("C") == 15.0``."""
    for line, named in GRADE_LINES:
        if named == letter:
            return line
    raise ValueError(f"{letter!r} has no line")


__all__ = [
    "BELOW_C",
    "GRADE_KEY",
    "GRADE_LINES",
    "GRADE_MEANINGS",
    "Grade",
    "grade",
    "grade_line",
    "grade_meaning",
]
