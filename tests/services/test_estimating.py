"""What a benchmark does to this machine's calibration, over controlled measurements (issue 24): a run
that contradicts itself, spreads widely or ran on a busy machine is not stored and says why; a good run
is stored and moves recommend's parameters; reset returns to the plain estimate."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.services.bench_results import GOOD, MACHINE, result_of
from toolkit.adapters.bench.calibration import reset, runs
from toolkit.core.bench.config import BenchResult
from toolkit.core.estimate.params import DEFAULT_PARAMS
from toolkit.services.estimating import MachineParams, machine_params, record_benchmark


@pytest.mark.parametrize(
    ("result", "busy", "why"),
    [
        (result_of([23.3, 24.0], one_stream=113.4), 0.05, "it contradicts itself"),
        (result_of([40.0, 90.0, 80.0], one_stream=80.0), 0.05, "its decode repetitions spread"),
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


def test_what_each_kind_of_machine_is_told(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    assert record_benchmark(path, MACHINE, GOOD, busy=0.05) is not None
    # A profile (not this machine): the plain estimate, nothing to say.
    assert machine_params(path, MACHINE, this_machine=False) == MachineParams(DEFAULT_PARAMS, None, None)
    ignored = machine_params(path, MACHINE, this_machine=True, ignore=True)
    assert ignored.params == DEFAULT_PARAMS and ignored.note is not None
    assert ignored.note.startswith("Calibration ignored (--no-calibration); its speeds would be ")
    # A what-if of this machine (--ram 64): its calibration is named and left out.
    what_if = replace(MACHINE, memory=replace(MACHINE.memory, total_bytes=MACHINE.memory.total_bytes * 4))
    told = machine_params(path, what_if, this_machine=True, detected=MACHINE)
    assert told.params == DEFAULT_PARAMS and told.note is not None
    assert told.note.startswith("Plain estimate: this machine's calibration (") and "what-if" in told.note
    fresh = machine_params(tmp_path / "none.json", MACHINE, this_machine=True)
    assert fresh.note == "Not calibrated on this machine yet: a `gpuless bench` run measures it."


def test_a_damaged_calibration_is_not_used_and_said(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    path.write_text("{not json", encoding="utf-8")
    told = machine_params(path, MACHINE, this_machine=True)
    assert told.params == DEFAULT_PARAMS and told.calibration is None
    assert told.note is not None and told.note.startswith("Calibration not used: ")
    assert path.read_text(encoding="utf-8") == "{not json"  # not replaced
