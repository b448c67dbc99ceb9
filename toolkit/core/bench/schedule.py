"""How long a benchmark will take: the quick and thorough plans, and the ETA shown while one runs.

``gpuless bench`` and the wizard's Benchmark step both run ``QUICK`` by default (a small model
finishes in well under 20 s on a 2-core laptop) and ``THOROUGH`` with ``--thorough``. The ETA is a
pure function of counts and elapsed seconds the caller measured (core has no clock).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class BenchPlan:
    """The size of a run (the fields of ``BenchConfig`` that decide how long it takes).

    Attributes:
        reps: measured repetitions per shape (the warm-up is extra).
        num_predict: tokens generated per request.
        shapes: prompt shapes measured, "chat" (~45 tokens in) and/or "document" (a long prompt).
        document_words: length of the document shape's text (830 words are ~1k tokens); its prefill
            is most of a document request's time on a CPU.
        concurrency: stream counts of the sweep.
        max_requests: hard bound on requests sent.
        max_seconds: no request starts after this many seconds.
    """

    reps: int
    num_predict: int
    shapes: tuple[str, ...]
    document_words: int
    concurrency: tuple[int, ...]
    max_requests: int
    max_seconds: float

    def as_config(self) -> dict[str, Any]:
        """The plan as ``BenchConfig`` keyword arguments."""
        return asdict(self)


#: The default: every figure the result shows (decode, prefill, TTFT, users at 1/2/4 streams), with
#: few repetitions, short answers and a ~250-token document: 2 × 2 shape requests + 7 sweep requests
#: of 32 tokens. A ~1k-token document alone takes ~8 s to prefill on 2 busy cores (measured with
#: smollm2:135m, docs/bench-report-xeon.txt), which no 20 s run can afford three times.
QUICK = BenchPlan(
    reps=2,
    num_predict=32,
    shapes=("chat", "document"),
    document_words=200,
    concurrency=(1, 2, 4),
    max_requests=40,
    max_seconds=15.0,
)

#: ``--thorough``: the full sweep (more repetitions, longer answers; minutes on a laptop).
THOROUGH = BenchPlan(
    reps=5,
    num_predict=128,
    shapes=("chat", "document"),
    document_words=830,
    concurrency=(1, 2, 4),
    max_requests=200,
    max_seconds=900.0,
)


def duration_words(max_seconds: float) -> str:
    """How long a run takes, said as the bound it is: requests stop starting at ``max_seconds`` and the
    last ones then finish (a 15 s quick run took 16.7 s in the wizard), plus the model's load when it is
    not in memory yet. Not "about 15 s"."""
    return (
        f"no new request after {max_seconds:g} s; the last ones finish after that, "
        "and a model not yet in memory loads first"
    )


def planned_requests(
    reps: int, shapes: Sequence[str], concurrency: Sequence[int], rounds: int = 1, max_requests: int = 10**9
) -> int:
    """Measured requests a run will send if no bound cuts it short (the warm-up is not counted)."""
    return min(reps * len(shapes) + rounds * sum(concurrency), max_requests)


def eta_s(
    planned: int, done: int, elapsed_s: float, first_done_s: float | None, max_seconds: float
) -> float | None:
    """Seconds left, about: the requests still to come at the pace of those finished since the first.

    The first request's time is left out of the pace (it holds the model load). A concurrency level's
    streams share the machine, so each request of a level costs about as much as one alone. Never more
    than what ``max_seconds`` still allows. None before there is a pace to go by.
    """
    if done <= 0 or first_done_s is None:
        return None
    remaining = max(planned - done, 0)
    pace = (elapsed_s - first_done_s) / (done - 1) if done > 1 else first_done_s
    left = remaining * max(pace, 0.0)
    # A request may still start just before the bound and must then finish.
    return min(left, max(max_seconds - elapsed_s, 0.0) + max(pace, 0.0))


def progress_prefix(planned: int, done: int, elapsed_s: float, eta: float | None) -> str:
    """The counter before each live line, e.g. "[4/13 · 3.2 s · about 6 s left]"."""
    left = "estimating time left" if eta is None else f"about {eta:.0f} s left"
    return f"[{done}/{planned} · {elapsed_s:.1f} s · {left}]"
