"""The ``tune`` subcommand: find, apply and prove the best settings for the server that runs here.

The rules live in ``core.tune.knobs``, the restarts and measurements in ``toolkit.adapters.tune.tuner``; this
module wires them to the server through ``toolkit.services.tuning`` (the container of compose.yaml, or
the native ``ollama serve`` that ``gpuless up --runtime native`` started): the winner is written back
through the safe write (diff shown, a backup kept), the server (already running it) verified. The
server's project lock is held for the whole tune (no ``up``, ``down``, bench or second tune restarts it
meanwhile), and the tune is stored in the history however it ends.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

import click

from toolkit.adapters import interrupts
from toolkit.cli.group import cli
from toolkit.cli.options import SIZE
from toolkit.cli.output import emit_json, json_option
from toolkit.core.tune.knobs import Objective
from toolkit.core.units import format_fixed
from toolkit.errors import ContainerError, GpulessError
from toolkit.settings import Settings

DEFAULT_BUDGET_S = 180.0


@cli.command()
@click.option("--file", "-f", "compose_path", type=click.Path(path_type=Path), default=Path("compose.yaml"),
              show_default=True, help="The gpuless compose file whose container to tune.")  # fmt: skip
@click.option("--users", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Simultaneous users to tune for (1 = one user as fast as possible).")  # fmt: skip
@click.option("--ttft-p95", "ttft_p95", type=click.FloatRange(min=0, min_open=True),
              help="With --users: the TTFT p95 (s) every user must get; the most tok/s wins.")  # fmt: skip
@click.option("--mem-cap", type=SIZE, help="Never use more memory than this, e.g. 2g or 2 (GiB).")
@click.option("--budget", type=click.FloatRange(min=10), default=DEFAULT_BUDGET_S, show_default=True,
              help="Seconds the whole tune may take.")  # fmt: skip
@click.option("--runtime", type=click.Choice(["docker", "native"]), default=None,
              help="The container, or the native `ollama serve` gpuless started (default: the one that "
                   "runs; a running container first).")  # fmt: skip
@json_option
def tune(
    compose_path: Path,
    users: int,
    ttft_p95: float | None,
    mem_cap: int | None,
    budget: float,
    runtime: str | None,
    as_json: bool,
) -> None:
    """Try settings on the running server, keep the fastest for your objective, and prove it."""
    from toolkit.services.tuning import apply_winner, label, prepare, start_command

    objective = Objective.for_users(users, ttft_p95, mem_cap)
    say = (
        (lambda text: click.echo(f"  {text}", err=True))
        if as_json
        else (lambda text: click.echo(f"  {text}"))
    )
    with contextlib.ExitStack() as hold:
        settings = Settings()
        session = prepare(settings, compose_path, objective, budget, runtime=runtime, progress=say, hold=hold)
        spec = session.spec
        if not as_json:
            click.echo(f"Tuning {label(session)} ({spec.served_model}) for {objective.describe()};")
            click.echo(f"  {session.candidates} candidate(s), {session.pruned} pruned, budget {budget:.0f} s")
        result = _run(session)
        payload = result.to_dict()
        winner = result.verdict.winner if result.verdict else None
        if result.problem is not None:
            _store(session, payload, "failed")
            raise ContainerError(
                f"the tune cannot vouch for what runs: {result.problem}",
                f"Start the saved configuration again with `{start_command(session)}`.",
            )
        if winner is not None:
            try:
                applied = apply_winner(session, winner.candidate.knobs)
            except BaseException as error:
                payload["error"] = getattr(error, "message", None) or type(error).__name__
                _store(session, payload, "failed")
                raise
            diff = applied.pop("diff")
            if not as_json and diff:
                click.echo(diff.rstrip("\n"))
            payload.update(applied)
        _store(session, payload, None)
    if as_json:
        emit_json(payload)
        return
    _print(result, payload)


def _run(session: Any) -> Any:
    """The tune's result; when it stops early (a signal, an error) it is stored, the start is restored,
    and the user told what runs now, read back from the engine."""
    from toolkit.services.tuning import start_command

    try:
        return session.tuner.run()
    except BaseException as stop:
        partial = session.tuner.result
        problem = session.tuner.restore_problem
        now = (
            "the configuration that ran before is running again"
            if problem is None
            else f"the configuration that ran before is NOT running: {problem}; start it with"
            f" `{start_command(session)}`"
        )
        if partial is not None:
            payload = partial.to_dict()
            payload["problem"] = problem
            failed = not isinstance(stop, KeyboardInterrupt) or problem is not None
            _store(session, payload, "failed" if failed else "incomplete")
        if isinstance(stop, KeyboardInterrupt):  # Ctrl-C, or SIGTERM and SIGHUP as Terminated
            click.echo(f"gpuless: tune interrupted ({interrupts.named(stop)}); {now}", err=True)
            sys.exit(interrupts.exit_code(stop))
        if isinstance(stop, GpulessError):
            stop.message = f"{stop.message}; tune stopped, {now}"
        raise


def _store(session: Any, payload: dict[str, Any], status: Any) -> None:
    from toolkit.services.tuning import store_history

    spec = session.spec
    warning = store_history(Settings().history_path, spec.served_model, spec.url, payload, status)
    if warning is not None:
        click.echo(f"gpuless: warning: the tune was not stored in the history: {warning}", err=True)


def _print(result: Any, payload: dict[str, Any]) -> None:
    click.echo(f"Result: {payload['reason']} ({payload['seconds']:.0f} s).")
    rows = result.table()
    if rows:
        click.echo(f"  {'':26}{'before':>10}{'after':>10}{'after/before':>14}")
        for row in rows:
            ratio = "-" if row.ratio is None else f"{row.ratio:.2f}x"
            before, after = (format_fixed(value, 2, "-") for value in (row.before, row.after))
            click.echo(f"  {row.metric:26}{before:>10}{after:>10}{ratio:>14}")
    if payload.get("backup") or (payload.get("verify") and not payload.get("compose_file")):
        if payload.get("backup"):
            click.echo(
                f"Wrote {payload['compose_file']} (previous kept as {payload['backup']}); server restarted."
            )
        else:  # a native server started from options: no file holds its settings
            click.echo(
                "The native server runs the winner (recorded for verify and status; no compose file "
                "holds it: `gpuless up --runtime native` plans anew, so pass the winner's options to it)."
            )
        counts = payload["verify"]["counts"]
        click.echo(
            "verify: " + ", ".join(f"{n} {status}" for status, n in counts.items() if n)
            + " (`gpuless verify` shows each setting)"
        )  # fmt: skip
    elif rows == ():
        click.echo("Nothing changed: the configuration that was running keeps running.")
