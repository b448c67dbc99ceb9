"""What a benchmark does to this machine's calibration, over controlled measurements (issue 24): a run
that contradicts itself, spreads widely or ran on a busy machine is not stored and says why; a good run
is stored and moves recommend's parameters; reset returns to the plain estimate."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from toolkit.adapters.bench.calibration import reset, runs
from toolkit.adapters.resources import resolve_profile
from toolkit.core.bench.compare import Comparison
from toolkit.core.bench.concurrency import ConcurrencyLevel
from toolkit.core.bench.config import BenchResult
from toolkit.core.bench.metrics import ShapeResult
from toolkit.core.estimate.params import DEFAULT_PARAMS
from toolkit.core.machine.profile import machine_from_profile
from toolkit.core.stats import summarize
from toolkit.services.estimating import machine_params, record_benchmark

MACHINE = machine_from_profile(resolve_profile("laptop-16gb-ddr5"))


def _result(reps: list[float], one_stream: float, *, status: str = "complete") -> BenchResult:
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


GOOD = _result([80.0, 82.0, 78.0], one_stream=79.0)


@pytest.mark.parametrize(
    ("result", "busy", "why"),
    [
        (_result([23.3, 24.0], one_stream=113.4), 0.05, "it contradicts itself"),
        (_result([40.0, 90.0, 80.0], one_stream=80.0), 0.05, "its decode repetitions spread"),
        (GOOD, 0.6, "the machine was busy with other work (60% of its CPU)"),
        (replace(GOOD, status="incomplete"), 0.05, "the run did not finish cleanly"),
    ],
)
def test_an_untrusted_run_leaves_the_calibration_alone(
    tmp_path: Path, result: BenchResult, busy: float, why: str
) -> None:
    path = tmp_path / "calibration.json"
    told = record_benchmark(path, MACHINE, result, busy=busy)
    assert told is not None and not told.usable
    assert told.summary().startswith("calibration of this machine left alone: ") and why in told.summary()
    assert runs(path, MACHINE) == [] and not path.exists()
    assert machine_params(path, MACHINE, this_machine=True).params == DEFAULT_PARAMS


def test_a_good_run_is_stored_moves_the_estimate_and_reset_forgets_it(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    told = record_benchmark(path, MACHINE, GOOD, busy=0.05)
    assert told is not None and told.usable and told.decode == pytest.approx(0.8)
    assert told.summary().startswith("calibration of this machine updated: measured ÷ predicted decode ×0.80")
    chosen = machine_params(path, MACHINE, this_machine=True)
    assert chosen.params.decode_speed_factor == pytest.approx(DEFAULT_PARAMS.decode_speed_factor * 0.8)
    assert chosen.note is not None and "decode ×0.80" in chosen.note
    assert reset(path, MACHINE) == 1
    assert machine_params(path, MACHINE, this_machine=True).params == DEFAULT_PARAMS
    assert reset(path, MACHINE) == 0
