"""The estimator's parameters for a machine: this machine's benchmark calibration applied, once.

``gpuless recommend``, the wizard's Model step and the plan behind ``compose``/``up`` all predict
with the parameters ``machine_params`` returns, so the speed one of them shows is the speed the
others show. A hardware profile (a what-if machine) is never calibrated: benchmarks of this machine
say nothing about another one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from toolkit.core.bench.config import BenchResult
from toolkit.core.estimate.calibration import Calibration, CalibrationRun, RunEvidence, distrust
from toolkit.core.estimate.calibration import apply as calibrated
from toolkit.core.estimate.params import DEFAULT_PARAMS, EstimatorParams
from toolkit.core.machine.hardware import Machine
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
    calibration_path: Path,
    machine: Machine,
    *,
    this_machine: bool,
    ignore: bool = False,
    detected: Machine | None = None,
) -> MachineParams:
    """This machine's calibrated parameters (``ignore``: the plain estimate, to compare).

    ``detected``: the machine as detected, when ``machine`` is a what-if of it (``--ram``, ``--cores``):
    a calibration of the real machine is then named and left out, not silently missing."""
    if not this_machine:
        return MachineParams(DEFAULT_PARAMS, None, None)  # a profile: its benchmarks are not ours
    from toolkit.adapters.bench.calibration import load, machine_key

    try:
        calibration = load(calibration_path, machine)
        own = load(calibration_path, detected) if detected is not None else None
    except UsageError as error:  # damaged, or newer: not used, not replaced, and said
        return MachineParams(DEFAULT_PARAMS, None, f"Calibration not used: {error.message}. {error.hint}")
    if (
        calibration is None
        and own is not None
        and detected is not None
        and machine_key(detected) != machine_key(machine)
    ):
        note = (
            f"Plain estimate: this machine's calibration ({own.note()}) is left out, because the"
            " figures are for a what-if machine it was not measured on."
        )
        return MachineParams(DEFAULT_PARAMS, None, note)
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


def calibration_evidence(
    result: BenchResult, busy: float | None, gpu_share: float | None = None
) -> RunEvidence:
    """What ``result`` shows about its own trustworthiness (``core.estimate.calibration.distrust`` judges it);
    ``gpu_share``: how much of the model the server held in GPU memory."""
    chat = next((shape for shape in result.shapes if shape.shape == "chat"), None)
    decode = chat.client_decode_tps if chat is not None else None
    one = next((level for level in result.concurrency if level.streams == 1), None)
    failed = any(level.errors for level in result.concurrency)
    return RunEvidence(
        complete=result.status == "complete" and not failed,
        decode_tps=decode.median if decode is not None else None,
        decode_spread=decode.spread_pct / 100 if decode is not None and decode.n >= 2 else None,
        one_stream_tps=one.per_stream_tps.median if one is not None and one.per_stream_tps else None,
        itl_p50_s=chat.itl_p50_s if chat is not None else None,
        itl_p95_s=chat.itl_p95_s if chat is not None else None,
        busy_share=busy,
        gpu_share=gpu_share,
    )


def record_benchmark(
    calibration_path: Path, machine: Machine, result: BenchResult, *, busy: float | None
) -> CalibrationRun | None:
    """Store one benchmark's measured ÷ predicted as this machine's calibration (``gpuless bench`` and
    the wizard's Benchmark step both do, so a later ``recommend`` uses it) when the run earns it
    (``core.estimate.calibration.distrust``; ``busy``: the share of CPU other work used as it started; the
    server's ``/api/ps`` says whether it ran the model on a GPU). Returns the run to tell the user about
    (stored, distrusted, or with every ratio rejected; ``record_comparisons``), or None."""
    from toolkit.adapters.bench.calibration import record_comparisons
    from toolkit.adapters.ollama import admin as ollama_admin
    from toolkit.core.machine.gpu import gpu_share

    on_gpu = gpu_share(ollama_admin.loaded_models(result.url), result.model)  # None when it cannot say
    reason = distrust(calibration_evidence(result, busy, on_gpu))
    return record_comparisons(calibration_path, machine, result.model, result.comparisons, distrusted=reason)


def calibration_runs(
    calibration_path: Path, machine: Machine
) -> tuple[list[CalibrationRun], Calibration | None]:
    """This machine's stored runs (oldest first) and the calibration they combine into (None: no usable
    run), as ``gpuless calibration show`` lists them."""
    from toolkit.adapters.bench.calibration import load, runs

    return runs(calibration_path, machine), load(calibration_path, machine)


def forget_calibration(calibration_path: Path, machine: Machine) -> int:
    """Forget this machine's runs (``gpuless calibration reset``); returns how many there were."""
    from toolkit.adapters.bench.calibration import reset

    return reset(calibration_path, machine)
