"""The calibration math: ratios, their median over recent runs, and factors that move every model."""

from __future__ import annotations

from dataclasses import replace

import pytest

from toolkit.adapters.resources import load_catalog, resolve_profile
from toolkit.core.estimate.calibration import (
    RECENT_RUNS,
    CalibrationRun,
    RunEvidence,
    apply,
    combine,
    consensus,
    distrust,
    ratio,
    run_from_pairs,
)
from toolkit.core.estimate.estimator import estimate
from toolkit.core.estimate.params import DEFAULT_PARAMS
from toolkit.core.machine.profile import machine_from_profile


def test_ratio_rejects_what_is_not_a_calibration() -> None:
    assert ratio(45.0, 50.0) == pytest.approx(0.9)
    assert ratio(None, 50.0) is None and ratio(45.0, None) is None
    assert ratio(float("nan"), 50.0) is None and ratio(45.0, 0.0) is None
    assert ratio(1.0, 50.0) is None  # 0.02: a fault, not a calibration
    assert run_from_pairs("m", "2026-01-01", {"decode": (None, 3.0)}) is None
    assert ratio(12.5, 50.0) == pytest.approx(0.25)  # a laptop sharing its cores: a calibration


def test_a_rejected_ratio_is_named_not_kept() -> None:
    run = run_from_pairs("m", "2026-01-01", {"decode": (50.0, 1.0), "prefill": (100.0, 80.0)})
    assert run is not None and run.usable
    assert run.decode is None and run.prefill == pytest.approx(0.8)
    assert run.rejected == (("decode", pytest.approx(0.02)),)
    assert "prefill ×0.80" in run.summary() and "left out decode ×0.02" in run.summary()
    assert run.to_dict()["decode"] is None and "rejected" not in run.to_dict()  # only kept ratios are stored
    only = run_from_pairs("m", "2026-01-01", {"decode": (50.0, 1000.0)})
    assert only is not None and not only.usable
    assert only.summary().startswith("calibration left out decode ×20")
    assert combine([only]) is None


def test_median_of_recent_runs_and_the_note() -> None:
    runs = [CalibrationRun("old", "2025-01-01", decode=3.9)] * 5
    runs += [
        CalibrationRun("a", "2026-11-28", decode=0.8, prefill=1.2),
        CalibrationRun("b", "2026-11-29", decode=0.9),
        CalibrationRun("a", "2026-11-29", decode=1.0, prefill=1.0),
    ]
    cal = combine(runs, recent=3)
    assert cal is not None
    assert (cal.decode, cal.prefill, cal.memory, cal.runs) == (0.9, 1.1, 1.0, 3)
    assert cal.models == ("a", "b")
    assert cal.note().startswith("calibrated on this machine from 3 runs on 2026-11-28 to 2026-11-29")
    assert combine([]) is None
    assert RECENT_RUNS >= 3


def test_one_models_calibration_moves_every_model_on_the_machine() -> None:
    catalog = load_catalog()
    machine = machine_from_profile(resolve_profile("laptop-16gb-ddr5"))
    cal = combine([CalibrationRun("smollm2:135m", "2026-11-29", decode=0.8, prefill=1.25)])
    params = apply(DEFAULT_PARAMS, cal)
    for tag in ("qwen2.5:3b-instruct-q4_K_M", "llama3.1:8b"):
        spec, variant = catalog.find(tag)
        plain = estimate(spec, variant, machine)
        calibrated = estimate(spec, variant, machine, params=params)
        assert calibrated.decode_tps == pytest.approx(plain.decode_tps * 0.8)
        assert calibrated.prefill_tps == pytest.approx(plain.prefill_tps * 1.25)
        assert calibrated.total_bytes == plain.total_bytes
    assert apply(DEFAULT_PARAMS, None) is DEFAULT_PARAMS


GOOD = RunEvidence(
    complete=True,
    decode_tps=100.0,
    decode_spread=0.1,
    one_stream_tps=95.0,
    itl_p50_s=0.01,
    itl_p95_s=0.02,
    busy_share=0.05,
)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        # the wizard's first run of issue 24: 23.3 tok/s per stream, 113.4 at one stream in the sweep
        ({"decode_tps": 23.3, "one_stream_tps": 113.4}, "contradicts itself"),
        ({"decode_spread": 0.9}, "spread 90%"),
        ({"busy_share": 0.55}, "busy with other work (55% of its CPU)"),
        ({"complete": False}, "did not finish cleanly"),
        ({"itl_p95_s": 0.5}, "stalled"),
    ],
)
def test_a_run_that_has_not_earned_trust_says_why(change: dict[str, object], reason: str) -> None:
    assert distrust(GOOD) is None
    said = distrust(replace(GOOD, **change))  # type: ignore[arg-type]
    assert said is not None and reason in said


def test_unknown_evidence_is_not_held_against_a_run() -> None:
    bare = RunEvidence(complete=True, decode_tps=50.0)
    assert distrust(bare) is None


def test_runs_that_disagree_do_not_calibrate_and_say_so() -> None:
    # issue 24: two runs 7.6x apart were combined by their median with no warning
    cal = combine(
        [CalibrationRun("a", "2026-12-01", decode=0.28), CalibrationRun("a", "2026-12-02", decode=2.12)]
    )
    assert cal is not None and cal.decode == 1.0 and not cal.decode_factor.settled
    assert "decode not calibrated: its runs disagree (×0.28 to ×2.12)" in cal.note()


def test_the_consensus_leaves_out_a_minority_and_shows_its_spread() -> None:
    values = [0.82, 0.9, 0.95, 2.4]
    factor = consensus(values)
    assert factor.settled and (factor.agreeing, factor.runs) == (3, 4)
    assert factor.value == pytest.approx(0.9) and (factor.low, factor.high) == (0.82, 0.95)
    assert factor.describe("decode") == "decode ×0.90 (3 of 4 runs, ×0.82–×0.95)"
    assert consensus([1.3]).describe("decode") == "decode ×1.30"
    assert not consensus([0.5, 1.0]).settled  # two runs 2x apart: no majority agrees
    assert consensus([]).value == 1.0 and not consensus([]).settled


def test_a_distrusted_run_is_not_usable_and_its_summary_says_why() -> None:
    run = replace(CalibrationRun("m", "2026-12-01", decode=0.9), distrusted="it contradicts itself: …")
    assert not run.usable
    assert run.summary() == (
        "calibration of this machine left alone: it contradicts itself: … (the run is kept in the history)"
    )
