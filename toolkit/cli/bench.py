"""The ``bench`` and ``history`` subcommands.

The run is ``toolkit.services.benchmarking``'s (history, live progress, slots, calibration: the same
run as the wizard's), the arithmetic ``toolkit.core``'s bench modules; what is printed is
``toolkit.cli.render_bench``'s. Text that came from a server (model names, errors), live or stored in
the history, is made terminal-safe first.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from toolkit.adapters import interrupts
from toolkit.cli.group import cli, current_settings
from toolkit.cli.options import server_options, think_option
from toolkit.cli.output import emit_json, fail, json_option
from toolkit.cli.render_bench import compare_lines, format_result, history_lines
from toolkit.core.bench.concurrency import DEFAULT_TTFT_LIMIT_S
from toolkit.core.bench.schedule import QUICK, THOROUGH
from toolkit.core.target import check_target
from toolkit.errors import GpulessError, UsageError
from toolkit.services.server_url import server_url, typed_by_user

T = TypeVar("T")


def _parse_levels(text: str | None, max_concurrency: int | None) -> tuple[int, ...]:
    from toolkit.core.bench.concurrency import concurrency_levels

    if text is not None:
        if text.strip().lower() in ("none", "0", ""):
            return ()
        try:
            levels = tuple(int(part) for part in text.split(","))
        except ValueError:
            raise UsageError(f"--concurrency must be a list like 1,2,4, not {text!r}") from None
        if any(level < 1 or level > 64 for level in levels):
            raise UsageError("--concurrency levels must be between 1 and 64")
        return levels
    return concurrency_levels(max_concurrency or 4)


@cli.command()
@json_option
@click.option("--model", help="Model to benchmark (default: the first one the server lists).")
@server_options
@think_option
@click.option(
    "--thorough",
    is_flag=True,
    help=f"The full sweep: {THOROUGH.reps} reps of {THOROUGH.num_predict} tokens, a ~1k-token document, "
    f"up to {THOROUGH.max_seconds:g} s (default: a quick run, {QUICK.reps} reps of {QUICK.num_predict} "
    f"tokens, a ~250-token document, no request started after {QUICK.max_seconds:g} s).",
)
@click.option(
    "--reps",
    type=click.IntRange(1, 100),
    help=f"Repetitions per shape [quick {QUICK.reps}, thorough {THOROUGH.reps}].",
)
@click.option(
    "--num-predict",
    type=click.IntRange(2, 4096),
    help=f"Tokens to generate per request [quick {QUICK.num_predict}, thorough {THOROUGH.num_predict}].",
)
@click.option(
    "--shape",
    type=click.Choice(["chat", "document", "both"]),
    default="both",
    show_default=True,
    help="Prompt shape: a short chat question, a document, or both.",
)
@click.option("--concurrency", help="Stream counts to sweep, e.g. 1,2,4 (none to skip).")
@click.option("--max-concurrency", type=click.IntRange(1, 64), help="Sweep 1, 2, 4, ... up to this.")
@click.option(
    "--max-requests",
    type=click.IntRange(1, 10000),
    help=f"Send at most this many requests, warm-up included [quick {QUICK.max_requests}, "
    f"thorough {THOROUGH.max_requests}].",
)
@click.option(
    "--max-seconds",
    type=click.FloatRange(1),
    help=f"Start no request after this many seconds [quick {QUICK.max_seconds:g}, "
    f"thorough {THOROUGH.max_seconds:g}].",
)
@click.option("--timeout", type=click.FloatRange(0.01), default=120.0, show_default=True,
              help="Seconds to wait for the next bytes of an answer; no request runs past "
                   "--max-seconds plus this.")  # fmt: skip
@click.option(
    "--ttft-slo",
    type=click.FloatRange(0.01),
    default=DEFAULT_TTFT_LIMIT_S,
    show_default=True,
    metavar="SECONDS",
    help="A concurrency level holds users only while its TTFT p95 stays at or under this "
    "(lower it, e.g. 2, for snappy chat).",
)
@click.option("--no-history", is_flag=True, help="Do not store the run (nor calibrate).")
@click.option(
    "--no-calibrate",
    is_flag=True,
    help="Store the run in the history but leave this machine's calibration (what recommend predicts "
    "with) alone.",
)
def bench(
    as_json: bool,
    model: str | None,
    url: str | None,
    api: str,
    think: bool,
    thorough: bool,
    reps: int | None,
    num_predict: int | None,
    shape: str,
    concurrency: str | None,
    max_concurrency: int | None,
    max_requests: int | None,
    max_seconds: float | None,
    timeout: float,
    ttft_slo: float,
    no_history: bool,
    no_calibrate: bool,
) -> None:
    """Measure tokens/s, TTFT and concurrency of a model with streaming requests.

    By default a quick run (seconds on a small model) with live progress and time left on stderr;
    --thorough for the full sweep.
    """
    from toolkit.core.bench.config import BenchConfig
    from toolkit.services.benchmarking import Benchmark
    from toolkit.services.machine import catalog_or_none, this_machine

    settings = current_settings()
    resolved = server_url(url, settings)
    explicit = typed_by_user(url, resolved, settings)
    target = check_target(resolved, explicit=explicit, command="bench")
    plan = THOROUGH if thorough else QUICK
    levels = (
        plan.concurrency
        if concurrency is None and max_concurrency is None
        else _parse_levels(concurrency, max_concurrency)
    )
    if model is None:
        from toolkit.services.models import default_model_at

        model = asyncio.run(default_model_at(target, api=api, timeout=timeout, total_timeout=timeout))
    config = BenchConfig(
        model=model,
        url=target,
        explicit_url=explicit,
        api=api,  # type: ignore[arg-type]
        reps=reps or plan.reps,
        num_predict=num_predict or plan.num_predict,
        shapes=("chat", "document") if shape == "both" else (shape,),  # type: ignore[arg-type]
        document_words=plan.document_words,
        concurrency=levels,
        max_requests=max_requests or plan.max_requests,
        max_seconds=max_seconds or plan.max_seconds,
        timeout=timeout,
        ttft_slo_s=ttft_slo,
        think=think,
    )
    # --no-history stores nothing, the calibration included
    calibrate = not (no_history or no_calibrate)
    run = Benchmark(
        config,
        history_path=None if no_history else settings.history_path,
        machine=this_machine(docker=False, cache_dir=settings.cache_dir),
        catalog=catalog_or_none(),
        calibration_path=settings.calibration_path if calibrate else None,
        echo=None if as_json else lambda line: click.echo(f"  {line}", err=True),
    )
    # A tune restarts the server it measures: one at a time with a bench of it (the project lock).
    with run.held(native_dir=settings.native_dir):
        received: list[signal.Signals] = []
        try:
            outcome = asyncio.run(_run_cancellable(run.run, received))
        except (GpulessError, KeyboardInterrupt, asyncio.CancelledError) as error:
            partial = run.result
            if as_json:
                emit_json(partial.to_dict())
            else:
                for line in format_result(partial):
                    click.echo(line)
            if not isinstance(error, GpulessError):
                stop = interrupts.Terminated(received[0]) if received else KeyboardInterrupt()
                click.echo(
                    f"gpuless: interrupted ({interrupts.named(stop)}); finished requests were kept", err=True
                )
                sys.exit(interrupts.exit_code(stop))
            fail(error)
    told, result = outcome.calibration, outcome.result
    if as_json:
        calibration = None if told is None else {"stored": told.usable, "summary": told.summary()}
        emit_json({**result.to_dict(), "calibration": calibration})
        return
    if told is not None:
        click.echo(f"  {told.summary()}", err=True)
    for line in format_result(result):
        click.echo(line)


async def _run_cancellable(run: Callable[[], Awaitable[T]], received: list[signal.Signals]) -> T:
    """``run()`` where SIGTERM and SIGHUP end the run the way Ctrl-C does: the run task is
    cancelled with the signal's name as the reason (stored with the run); ``received`` gets the signal."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    installed = []

    def stop(sig: signal.Signals) -> None:
        received.append(sig)
        task.cancel(sig.name)

    for sig in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)):
        if sig is None:
            continue
        try:
            loop.add_signal_handler(sig, stop, sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not on this platform or thread
            continue
        installed.append(sig)
    try:
        return await run()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


@cli.command()
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="Print one CSV row per request.")
@click.option("--compare", nargs=2, type=int, metavar="ID ID", help="Compare two runs.")
@click.option(
    "--limit", type=click.IntRange(1), default=20, show_default=True, help="List at most this many runs."
)
def history(as_json: bool, as_csv: bool, compare: tuple[int, int] | None, limit: int) -> None:
    """List stored benchmark runs, compare two, or export them as JSON or CSV."""
    from toolkit.core.bench.run import compare_runs
    from toolkit.services.benchmarking import stored_runs

    if as_json and as_csv:
        raise UsageError("--json and --csv are two output formats: choose one")
    with stored_runs(current_settings().history_path) as store:
        if compare:
            a, b = (store.get_run(i) for i in compare)
            rows = compare_runs(a, b)
            if as_json:
                emit_json({"a": a.to_dict(), "b": b.to_dict(), "rows": rows})
                return
            for line in compare_lines(a, b, rows):
                click.echo(line)
            return
        if as_csv:
            click.echo(store.export_csv(), nl=False)
            return
        if as_json:
            emit_json(store.export_json())
            return
        runs = store.list_runs(limit)
        if not runs:
            click.echo(f"no benchmark runs yet ({store.path}); run `gpuless bench`")
            return
        for line in history_lines(runs):
            click.echo(line)
