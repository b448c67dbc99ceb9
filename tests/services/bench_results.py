"""Benchmark results over controlled measurements, for the tests of what a benchmark does to the
calibration (a good run: 0.8 of the predicted decode speed, steady)."""

from __future__ import annotations

from toolkit.adapters.resources import resolve_profile
from toolkit.core.bench.compare import Comparison
from toolkit.core.bench.concurrency import ConcurrencyLevel
from toolkit.core.bench.config import BenchResult
from toolkit.core.bench.metrics import ShapeResult
from toolkit.core.machine.profile import machine_from_profile
from toolkit.core.stats import summarize

MACHINE = machine_from_profile(resolve_profile("laptop-16gb-ddr5"))


def result_of(reps: list[float], one_stream: float, *, status: str = "complete") -> BenchResult:
    """A run whose chat decode repetitions are ``reps`` and whose one-stream level ran at ``one_stream``."""
    decode = summarize(reps)
    chat = ShapeResult(
        "chat", len(reps), summarize([0.2] * len(reps)), decode, decode, summarize([500.0] * len(reps)),
        None, None, 0.01, 0.02, 32.0, 40.0,
    )  # fmt: skip
    level = ConcurrencyLevel(1, 2, 0, 1.0, 64, one_stream * 0.9, summarize([one_stream] * 2), 0.2, 0.3)
    comparisons = (
        Comparison("decode tok/s", "tok/s", 100.0, decode.median if decode else None),
        Comparison("prefill tok/s", "tok/s", 500.0, 450.0),
    )
    return BenchResult(
        run_id=1, status=status, model="smollm2:135m", api="ollama", url="http://127.0.0.1:1",  # type: ignore[arg-type]
        shapes=(chat,), concurrency=(level,), comparisons=comparisons,
    )  # fmt: skip


GOOD = result_of([80.0, 82.0, 78.0], one_stream=79.0)
