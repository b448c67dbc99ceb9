"""The estimator's parameters for a machine: this machine's benchmark calibration applied, once.

``gpuless recommend``, the wizard's Model step and the plan behind ``compose``/``up`` all predict
with the parameters ``machine_params`` returns, so the speed one of them shows is the speed the
others show. A hardware profile (a what-if machine) is never calibrated: benchmarks of this machine
say nothing about another one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from toolkit.core.benchcompare import Comparison
from toolkit.core.calibration import Calibration, CalibrationRun
from toolkit.core.calibration import apply as calibrated
from toolkit.core.estimator_params import DEFAULT_PARAMS, EstimatorParams
from toolkit.core.hardware import Machine
from toolkit.errors import UsageError


@dataclass(frozen=True)
class MachineParams:
    """The parameters to predict with, and what to tell the user about them.

    Attributes:
        params: the estimator parameters (calibrated when a calibration applies).
        calibration: this machine's calibration, None when there is none or it was not used.
        note: one sentence saying which was used ("calibrated on this machine from 3 runs on …"), None
            for a what-if machine.
    """

    params: EstimatorParams
    calibration: Calibration | None
    note: str | None


def machine_params(
    calibration_path: Path, machine: Machine, *, this_machine: bool, ignore: bool = False
) -> MachineParams:
    """This machine's calibrated parameters (``ignore``: the plain estimate, to compare)."""
    if not this_machine:
        return MachineParams(DEFAULT_PARAMS, None, None)  # a profile: its benchmarks are not ours
    from toolkit.adapters.calibration import load

    try:
        calibration = load(calibration_path, machine)
    except UsageError as error:  # damaged, or newer: not used, not replaced, and said
        return MachineParams(DEFAULT_PARAMS, None, f"Calibration not used: {error.message}. {error.hint}")
    if calibration is None:
        return MachineParams(
            DEFAULT_PARAMS, None, "Not calibrated on this machine yet: a `gpuless bench` run measures it."
        )
    if ignore:
        note = f"Calibration ignored (--no-calibration); its speeds would be {calibration.note()}."
        return MachineParams(DEFAULT_PARAMS, None, note)
    return MachineParams(
        calibrated(DEFAULT_PARAMS, calibration), calibration, f"Speeds {calibration.note()}."
    )


def record_benchmark(
    calibration_path: Path, machine: Machine, model: str, comparisons: Sequence[Comparison]
) -> CalibrationRun | None:
    """Store one benchmark's measured ÷ predicted as this machine's calibration (``gpuless bench`` and
    the wizard's Benchmark step both do, so a later ``recommend`` uses it). Returns the run to tell the
    user about (stored, or with every ratio rejected; ``record_comparisons``), or None."""
    from toolkit.adapters.calibration import record_comparisons

    return record_comparisons(calibration_path, machine, model, comparisons)
