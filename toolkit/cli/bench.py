"""The ``bench`` and ``history`` subcommands.

The work happens in ``toolkit.adapters.bench_runner`` (method), ``toolkit.adapters.history`` (storage) and
``toolkit.core``'s bench modules (workload, arithmetic, verdict); what is printed is
``toolkit.cli.render_bench``'s. Text that came from a server (model names, errors), live or stored in
the history, is made terminal-safe first.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from typing import Any

import click

from toolkit.adapters.server_url import server_url, typed_by_user
from toolkit.cli.group import cli, current_settings
from toolkit.cli.options import server_options, think_option
from toolkit.cli.output import emit_json, fail, json_option
from toolkit.cli.render_bench import compare_lines, format_result, history_lines
from toolkit.core.benchconcurrency import DEFAULT_TTFT_LIMIT_S
from toolkit.core.benchplan import QUICK, THOROUGH
from toolkit.core.catalog import Catalog
from toolkit.core.target import check_target
from toolkit.errors import GpulessError, UsageError


def _parse_levels(text: str | None, max_concurrency: int | None) -> tuple[int, ...]:
    from toolkit.core.benchconcurrency import concurrency_levels

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
    from toolkit.adapters.bench_progress import LiveProgress
    from toolkit.adapters.bench_runner import BenchRunner
    from toolkit.adapters.history import History
    from toolkit.adapters.ollama_client import OllamaClient
    from toolkit.adapters.probes import busy_share, detect_machine
    from toolkit.adapters.project_lock import exclusive
    from toolkit.adapters.server_slots import server_slots, serving_container
    from toolkit.core.benchconfig import BenchConfig

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
        from toolkit.services.models import server_default_model

        async def default() -> str:
            client = OllamaClient(target, api, timeout=timeout, total_timeout=timeout)  # type: ignore[arg-type]
            async with client:
                return await server_default_model(client)

        model = asyncio.run(default())
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
    machine = detect_machine(docker=False, cache_dir=settings.cache_dir)
    history = None if no_history else History(settings.history_path)
    live = LiveProgress(config, lambda line: click.echo(f"  {line}", err=True))
    runner = BenchRunner(
        config,
        history=history,
        machine=machine,
        catalog=_catalog(),
        progress=None if as_json else live.line,
        on_request=None if as_json else live.request,
        slots_of=server_slots,
    )
    calibrate = not (no_history or no_calibrate)  # --no-history stores nothing, the calibration included
    # A tune restarts the server it measures: one at a time with a bench of it (the project lock).
    with contextlib.ExitStack() as hold:
        served_by = serving_container(target, native_dir=settings.native_dir)
        if served_by is not None:
            hold.enter_context(exclusive(served_by, command="bench"))
        # Read while the server idles, before the first request: what it sees is other work on this machine.
        busy = busy_share() if calibrate else None
        received: list[signal.Signals] = []
        try:
            result = asyncio.run(_run_cancellable(runner, received))
        except (GpulessError, KeyboardInterrupt, asyncio.CancelledError) as error:
            partial = runner.result
            if as_json:
                emit_json(partial.to_dict())
            else:
                for line in format_result(partial):
                    click.echo(line)
            if not isinstance(error, GpulessError):
                name = received[0].name if received else "Ctrl-C"
                click.echo(f"gpuless: interrupted ({name}); finished requests were kept", err=True)
                sys.exit(128 + received[0] if received else 130)
            fail(error)
        finally:
            if history is not None:
                history.close()
    told = _calibrate(settings.calibration_path, machine, result, busy, quiet=as_json) if calibrate else None
    if as_json:
        calibration = None if told is None else {"stored": told.usable, "summary": told.summary()}
        emit_json({**result.to_dict(), "calibration": calibration})
        return
    for line in format_result(result):
        click.echo(line)


async def _run_cancellable(runner: Any, received: list[signal.Signals]) -> Any:
    """``runner.run()`` where SIGTERM and SIGHUP end the run the way Ctrl-C does: the run task is
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
        return await runner.run()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def _calibrate(path: Any, machine: Any, result: Any, busy: float | None, *, quiet: bool) -> Any:
    """Store the run's measured ÷ predicted as this machine's calibration (used by ``recommend``) when the
    run earns it, and say what happened; returns the run told about (``CalibrationRun``) or None."""
    from toolkit.services.estimating import record_benchmark

    told = record_benchmark(path, machine, result, busy=busy)
    if told is not None and not quiet:
        click.echo(f"  {told.summary()}", err=True)
    return told


def _catalog() -> Catalog | None:
    """The shipped catalog when it can be read; None falls back to estimating from /api/show."""
    from toolkit.adapters.resources import load_catalog

    try:
        return load_catalog()
    except GpulessError:
        return None


@cli.command()
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="Print one CSV row per request.")
@click.option("--compare", nargs=2, type=int, metavar="ID ID", help="Compare two runs.")
@click.option(
    "--limit", type=click.IntRange(1), default=20, show_default=True, help="List at most this many runs."
)
def history(as_json: bool, as_csv: bool, compare: tuple[int, int] | None, limit: int) -> None:
    """List stored benchmark runs, compare two, or export them as JSON or CSV."""
    from toolkit.adapters.history import History
    from toolkit.core.benchrun import compare_runs

    if as_json and as_csv:
        raise UsageError("--json and --csv are two output formats: choose one")
    with History(current_settings().history_path) as store:
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
