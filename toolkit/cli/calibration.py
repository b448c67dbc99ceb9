"""``gpuless calibration show`` / ``reset``: what this machine's benchmarks taught the estimator, and how
to forget it.

``bench`` and the wizard's Benchmark step store a run as calibration only when it earns it
(``core.estimate.calibration.distrust``); ``recommend`` predicts with the result. These commands let the
user see the runs and the factors behind every prediction, and return to the plain estimate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from toolkit.cli.group import cli, current_settings
from toolkit.cli.output import emit_json, json_option

if TYPE_CHECKING:
    from toolkit.core.machine.hardware import Machine


@cli.group()
def calibration() -> None:
    """This machine's benchmark calibration (what `recommend` predicts with)."""


def _this_machine() -> Machine:
    from toolkit.services.machine import this_machine

    # The calibration is keyed by CPU model and RAM: no bandwidth probe, no engine needed.
    return this_machine(measure_bandwidth=False, docker=False, cache_dir=current_settings().cache_dir)


@calibration.command()
@json_option
def show(as_json: bool) -> None:
    """The stored runs and the factors they give."""
    from toolkit.services.estimating import calibration_runs

    path = current_settings().calibration_path
    machine = _this_machine()
    stored, combined = calibration_runs(path, machine)
    if as_json:
        emit_json(
            {
                "file": str(path),
                "runs": [run.to_dict() for run in stored],
                "calibration": combined.to_dict() if combined is not None else None,
            }
        )
        return
    if combined is None:
        click.echo("Not calibrated on this machine yet: a `gpuless bench` run measures it.")
        return
    click.echo(f"Speeds {combined.note()}.")
    click.echo(f"Runs ({path}):")
    for run in stored:
        ratios = ", ".join(
            f"{name} ×{value:.2f}"
            for name, value in (("decode", run.decode), ("prefill", run.prefill))
            if value is not None
        )
        click.echo(f"  {run.measured_at}  {run.model}  {ratios}")
    click.echo("`gpuless calibration reset` forgets them; `recommend --no-calibration` compares.")


@calibration.command()
@json_option
def reset(as_json: bool) -> None:
    """Forget this machine's runs: `recommend` returns to the plain estimate."""
    from toolkit.services.estimating import forget_calibration

    path = current_settings().calibration_path
    removed = forget_calibration(path, _this_machine())
    if as_json:
        emit_json({"file": str(path), "removed_runs": removed})
        return
    if removed:
        runs = f"{removed} calibration run{'s' if removed != 1 else ''}"
        click.echo(f"Forgot {runs}: predictions are the plain estimate again.")
    else:
        click.echo("Nothing to forget: this machine was not calibrated.")
