"""The ``tune`` subcommand: find, apply and prove the best settings for the container of compose.yaml.

The rules live in ``toolkit.core.tune``, the restarts and measurements in ``toolkit.engine.tuner``; this
module wires them to the compose file: the winner is written back through the safe write (diff shown, a
backup kept), the container recreated and verified, and the tune stored in the history.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import click

from toolkit.cli import cli, emit_json, json_option
from toolkit.cli_options import check_size
from toolkit.core.tune import Budget, Knobs, Objective, generate_candidates, memory_estimator
from toolkit.core.units import parse_size
from toolkit.errors import GpulessError, UsageError
from toolkit.settings import Settings

DEFAULT_BUDGET_S = 180.0


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


@cli.command()
@click.option("--file", "-f", "compose_path", type=click.Path(path_type=Path), default=Path("compose.yaml"),
              show_default=True, help="The gpuless compose file whose container to tune.")  # fmt: skip
@click.option("--users", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Simultaneous users to tune for (1 = one user as fast as possible).")  # fmt: skip
@click.option("--ttft-p95", "ttft_p95", type=click.FloatRange(min=0, min_open=True),
              help="With --users: the TTFT p95 (s) every user must get; the most tok/s wins.")  # fmt: skip
@click.option("--mem-cap", callback=check_size, help="Never use more memory than this, e.g. 2g.")
@click.option("--budget", type=click.FloatRange(min=10), default=DEFAULT_BUDGET_S, show_default=True,
              help="Seconds the whole tune may take.")  # fmt: skip
@json_option
def tune(
    compose_path: Path,
    users: int,
    ttft_p95: float | None,
    mem_cap: str | None,
    budget: float,
    as_json: bool,
) -> None:
    """Try settings on the running container, keep the fastest for your objective, and prove it."""
    from toolkit.engine.compose_file import read_compose_file
    from toolkit.engine.docker_runner import DockerRunner
    from toolkit.engine.probes import detect_machine
    from toolkit.engine.resources import load_catalog
    from toolkit.engine.tuner import ComposeTarget, Tuner

    if not compose_path.exists():
        raise UsageError(
            f"{compose_path} does not exist", "Write one with `gpuless compose`, start it with `up`."
        )
    spec = read_compose_file(compose_path).spec
    runner = DockerRunner()
    attrs = runner.find(spec.container_name)
    if attrs is None or not (attrs.get("State") or {}).get("Running"):
        raise UsageError(
            f"the container {spec.container_name} of {compose_path} is not running",
            "Start it with `gpuless up` first; tune measures the server you run.",
        )
    objective = Objective.for_users(users, ttft_p95, parse_size(mem_cap) if mem_cap else None)
    machine = detect_machine(docker=False)
    try:
        memory_of = memory_estimator(*load_catalog().find(spec.model), machine)
    except GpulessError:  # a model the catalog does not know: no estimate, no memory pruning
        memory_of = memory_estimator(None, None, machine)
    start = Knobs.of(spec)
    candidates, pruned = generate_candidates(
        start,
        objective,
        physical_cores=machine.cpu.physical_cores,
        logical_cores=machine.cpu.logical_cores,
        memory_of=memory_of,
    )
    target = ComposeTarget(runner, spec, memory_of, mem_cap_bytes=objective.mem_cap_bytes)
    say = (
        (lambda text: click.echo(f"  {text}", err=True))
        if as_json
        else (lambda text: click.echo(f"  {text}"))
    )
    if not as_json:
        click.echo(f"Tuning {spec.container_name} ({spec.served_model}) for {objective.describe()};")
        click.echo(f"  {len(candidates)} candidate(s), {len(pruned)} pruned, budget {budget:.0f} s")
    tuner = Tuner(target, objective, start, candidates, pruned, Budget(budget), progress=say)
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        result = tuner.run()
    except KeyboardInterrupt as stop:
        name = str(stop) or "Ctrl-C"
        click.echo(f"gpuless: tune interrupted ({name}); the configuration that ran before is running again",
                   err=True)  # fmt: skip
        sys.exit(130)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    payload = result.to_dict()
    winner = result.verdict.winner if result.verdict else None
    if winner is not None:
        payload.update(_apply_winner(compose_path, target, winner.candidate.knobs, runner, as_json))
    _store_history(spec.served_model, spec.url, payload)
    if as_json:
        emit_json(payload)
        return
    _print(result, payload)


def _apply_winner(path: Path, target: Any, knobs: Knobs, runner: Any, as_json: bool) -> dict[str, Any]:
    from toolkit.core.compose_yaml import render_compose_yaml
    from toolkit.engine.compose_file import write_compose

    spec = target.spec_for(knobs)
    written = write_compose(path, render_compose_yaml(spec), force=True)
    if not as_json and written.diff:
        click.echo(written.diff.rstrip("\n"))
    report = runner.verify(spec.container_name)
    return {
        "compose_file": str(path),
        "backup": str(written.backup) if written.backup else None,
        "verify": report.to_dict(),
    }


def _store_history(model: str, url: str, payload: dict[str, Any]) -> None:
    from toolkit.engine.history import History

    try:
        with History(Settings().history_path) as store:
            run_id = store.start_run(
                model=model, api="tune", url=url, settings={"objective": payload["objective"]}
            )
            status = "interrupted" if payload["interrupted"] else "complete"
            summary = {"reason": payload["reason"], "before_after": payload["before_after"]}
            store.finish_run(run_id, status=status, summary=summary)  # type: ignore[arg-type]
    except GpulessError as error:
        click.echo(f"gpuless: warning: the tune was not stored in the history: {error.message}", err=True)


def _print(result: Any, payload: dict[str, Any]) -> None:
    click.echo(f"Result: {payload['reason']} ({payload['seconds']:.0f} s).")
    rows = result.table()
    if rows:
        click.echo(f"  {'':26}{'before':>10}{'after':>10}{'after/before':>14}")
        for row in rows:
            ratio = "-" if row.ratio is None else f"{row.ratio:.2f}x"
            click.echo(f"  {row.metric:26}{_fmt(row.before):>10}{_fmt(row.after):>10}{ratio:>14}")
    if payload.get("backup"):
        click.echo(
            f"Wrote {payload['compose_file']} (previous kept as {payload['backup']}); container recreated."
        )
        counts = payload["verify"]["counts"]
        click.echo(
            "verify: " + ", ".join(f"{n} {status}" for status, n in counts.items() if n)
            + " (`gpuless verify` shows each setting)"
        )  # fmt: skip
    elif rows == ():
        click.echo("Nothing changed: the configuration that was running keeps running.")
