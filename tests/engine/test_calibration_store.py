"""The calibration store: runs recorded per machine, read back, a broken file read as none."""

from __future__ import annotations

import datetime
import json
from dataclasses import replace
from pathlib import Path

import pytest

from toolkit.adapters.bench.calibration import KEEP_RUNS, load, record_comparisons, runs
from toolkit.adapters.resources import resolve_profile
from toolkit.core.bench.compare import Comparison
from toolkit.core.machine.profile import machine_from_profile
from toolkit.errors import UsageError

MACHINE = machine_from_profile(resolve_profile("laptop-16gb-ddr5"))
ROWS = [
    Comparison("decode tok/s", "tok/s", 50.0, 40.0),
    Comparison("prefill tok/s", "tok/s", 100.0, 130.0),
    Comparison("TTFT (s)", "s", 1.0, 1.2),
]


def test_record_and_load(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    assert load(path, MACHINE) is None
    day = datetime.date(2026, 11, 29)
    run = record_comparisons(path, MACHINE, "smollm2:135m", ROWS, today=day)
    assert run is not None and run.decode == 0.8 and run.prefill == 1.3
    cal = load(path, MACHINE)
    assert cal is not None and cal.runs == 1 and cal.last_date == "2026-11-29"
    other = replace(MACHINE, cpu=replace(MACHINE.cpu, model="another CPU"))
    assert load(path, other) is None  # a calibration belongs to its hardware
    for _ in range(KEEP_RUNS + 5):
        record_comparisons(path, MACHINE, "m", ROWS, today=day)
    assert len(runs(path, MACHINE)) == KEEP_RUNS


def test_nothing_usable_and_broken_files(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    assert record_comparisons(path, MACHINE, "m", [Comparison("decode tok/s", "tok/s", None, 3.0)]) is None
    assert not path.exists()
    fault = record_comparisons(path, MACHINE, "m", [Comparison("decode tok/s", "tok/s", 50.0, 1.0)])
    assert fault is not None and not fault.usable and "left out decode ×0.02" in fault.summary()
    assert not path.exists()  # told, not stored
    # Damaged files are said (issue 20 item 10: refused, not read as empty and then replaced).
    for text in ("{", "[]", "NaN", json.dumps({"format": 2, "machines": {}})):
        path.write_text(text)
        with pytest.raises(UsageError, match="gpuless leaves it as it is"):
            load(path, MACHINE)
        assert path.read_text() == text
    path.write_text(json.dumps({"format": 1, "machines": {"x": 1}}))  # another machine's entry only
    assert load(path, MACHINE) is None
    key = f"{MACHINE.cpu.model.strip()}|{MACHINE.memory.total_bytes}"
    entries = [{"measured_at": "2026-11-29", "decode": float("nan")}, {"decode": 0.9}, "junk"]
    path.write_text(json.dumps({"format": 1, "machines": {key: entries}}))
    assert load(path, MACHINE) is None


def test_a_what_if_machine_names_the_calibration_it_leaves_out(tmp_path: Path) -> None:
    from toolkit.core.machine.profile import what_if
    from toolkit.services.estimating import machine_params

    path = tmp_path / "calibration.json"
    record_comparisons(path, MACHINE, "smollm2:135m", ROWS, today=datetime.date(2026, 11, 29))
    own = machine_params(path, MACHINE, this_machine=True)
    assert own.calibration is not None and own.note is not None and own.note.startswith("Speeds calibrated")
    bigger = what_if(MACHINE, ram_gb=32)
    chosen = machine_params(path, bigger, this_machine=True, detected=MACHINE)
    assert (
        chosen.calibration is None
        and chosen.params == machine_params(path, bigger, this_machine=False).params
    )
    assert chosen.note is not None and "left out" in chosen.note and "what-if" in chosen.note
    assert "Not calibrated" not in chosen.note and "decode ×0.80" in chosen.note
    # No calibration of the real machine: the usual sentence.
    fresh = machine_params(tmp_path / "none.json", bigger, this_machine=True, detected=MACHINE)
    assert fresh.note is not None and fresh.note.startswith("Not calibrated")
