"""The ``bench``, ``history`` and ``chat`` subcommands.

Kept out of ``toolkit/cli.py`` (which imports this module to register them) like the lifecycle
commands. The work happens in ``toolkit.engine.bench_runner`` (method), ``toolkit.engine.history``
(storage), ``toolkit.cli_chat`` (the REPL) and ``toolkit.core.benchstats`` (arithmetic);
``format_result`` is reused by ``scripts/bench_report.py``. Text that came from a server (model
names, errors), live or stored in the history, passes through ``terminal_safe`` before it is printed.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

import click

from toolkit.cli import F, cli, emit_json, fail, json_option
from toolkit.core.benchplan import QUICK, THOROUGH
from toolkit.core.benchstats import DEFAULT_TTFT_LIMIT_S, streams_label
from toolkit.core.benchverdict import model_step_lines
from toolkit.core.catalog import Catalog
from toolkit.core.safe_text import terminal_safe
from toolkit.engine.server_url import check_target, server_url
from toolkit.errors import GpulessError, UsageError
from toolkit.settings import Settings


def _num(value: float | None, digits: int = 1, suffix: str = "") -> str:
    return "—" if value is None else f"{value:.{digits}f}{suffix}"


def _table(rows: list[list[str]]) -> list[str]:
    rows = [[terminal_safe(cell, one_line=True) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def verdict_lines(result: Any) -> list[str]:
    """Grade, users held and OLLAMA_NUM_PARALLEL of a ``BenchResult``, each with its reason."""
    from toolkit.core.benchverdict import verdict

    read = verdict(
        result.shapes,
        result.concurrency,
        result.users,
        result.num_parallel,
        result.ttft_slo_s,
        result.server_slots,
    )
    return read.lines()


def format_result(result: Any) -> list[str]:
    """Readable lines for a ``BenchResult``: shapes, concurrency, users per grade, predicted vs measured."""
    head = f"{result.model} at {result.url} ({result.api}"
    head += f", engine {result.engine_version}" if result.engine_version else ""
    head += f", {result.quantization}" if result.quantization else ""
    head += ")"
    run = f"run #{result.run_id}" if result.run_id is not None else "not stored"
    if result.history_error and result.run_id is not None:
        run += " (stored up to a failed history write)"
    lines = [terminal_safe(f"{head}: {result.status}, {run}", one_line=True)]
    if result.cold_load_s is not None:
        lines.append(f"model load (preload, kept out of TTFT): {result.cold_load_s:.2f} s")
    if result.shapes:
        rows = [["shape", "reps", "decode tok/s", "spread", "server tok/s", "TTFT p50/p95 s", "prompt tok/s",
                 "ITL p50/p95 ms", "tokens in/out"]]  # fmt: skip
        for s in result.shapes:
            dec, srv, ttft, ptps = s.client_decode_tps, s.server_decode_tps, s.ttft_s, s.prompt_tps
            rows.append(
                [
                    s.shape,
                    str(s.requests),
                    _num(dec.median if dec else None),
                    _num(dec.spread_pct if dec else None, 0, "%"),
                    _num(srv.median if srv else None),
                    f"{_num(ttft.median if ttft else None, 3)} / {_num(ttft.p95 if ttft else None, 3)}",
                    _num(ptps.median if ptps else None, 0),
                    f"{_num(s.itl_p50_s * 1e3 if s.itl_p50_s else None)} / "
                    f"{_num(s.itl_p95_s * 1e3 if s.itl_p95_s else None)}",
                    f"{_num(s.prompt_tokens, 0)} / {_num(s.output_tokens, 0)}",
                ]
            )
        lines += ["", *_table(rows)]
    if result.concurrency:
        rows = [["streams", "aggregate tok/s", "per-stream tok/s p50/min", "TTFT p50/p95 s", "requests"]]
        for lv in result.concurrency:
            per = lv.per_stream_tps
            rows.append(
                [
                    str(lv.streams),
                    _num(lv.aggregate_tps),
                    f"{_num(per.median if per else None)} / {_num(per.min if per else None)}",
                    f"{_num(lv.ttft_p50_s, 3)} / {_num(lv.ttft_p95_s, 3)}",
                    f"{lv.requests} ({lv.errors} refused: busy)" if lv.saturated else str(lv.requests),
                ]
            )
        lines += ["", *_table(rows)]
    if result.comparisons:
        rows = [["predicted vs measured", "predicted", "measured", "error"]]
        for c in result.comparisons:
            digits = 3 if c.unit == "s" else 1
            rows.append(
                [
                    c.metric if c.unit in c.metric.split() else f"{c.metric} ({c.unit})",
                    _num(c.predicted, digits),
                    _num(c.measured, digits),
                    _num(c.error_pct, 1, "%") if c.error_pct is not None else "—",
                ]
            )
        lines += ["", *_table(rows)]
    lines += model_step_lines(result.model, result.model_step, result.served_file)
    if result.shapes or result.concurrency:
        lines += ["", *verdict_lines(result)]
    saturated = [lv.streams for lv in result.concurrency if lv.saturated]
    if saturated:
        lines.append(
            f"saturated at {streams_label(saturated[0])}: the server's queue was full (HTTP 503); "
            "higher levels were not tried"
        )
    elif result.stopped_by:
        lines.append(f"stopped early: {result.stopped_by} reached")
    if result.error:
        lines.append(terminal_safe(f"stopped by an error: {result.error}", one_line=True))
    if result.history_error:
        lines.append(terminal_safe(f"history: {result.history_error}", one_line=True))
    return lines


def _parse_levels(text: str | None, max_concurrency: int | None) -> tuple[int, ...]:
    from toolkit.engine.bench_runner import concurrency_levels

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


def server_options(func: F) -> F:
    """--url and --api: which server bench and chat talk to, and in which protocol."""
    func = click.option(
        "--api",
        type=click.Choice(["ollama", "openai"]),
        default="ollama",
        show_default=True,
        help="Ollama's native API or its OpenAI-compatible one (/v1).",
    )(func)
    return click.option(
        "--url",
        help="Server URL (default: GPULESS_OLLAMA_URL, else the container `gpuless up` started, "
        "else http://127.0.0.1:11434).",
    )(func)


@cli.command()
@json_option
@click.option("--model", help="Model to benchmark (default: the first one the server lists).")
@server_options
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
@click.option("--no-history", is_flag=True, help="Do not store the run.")
def bench(
    as_json: bool,
    model: str | None,
    url: str | None,
    api: str,
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
) -> None:
    """Measure tokens/s, TTFT and concurrency of a model with streaming requests.

    By default a quick run (seconds on a small model) with live progress and time left on stderr;
    --thorough for the full sweep.
    """
    from toolkit.engine.bench_progress import LiveProgress
    from toolkit.engine.bench_runner import BenchConfig, BenchRunner
    from toolkit.engine.history import History
    from toolkit.engine.ollama_client import OllamaClient
    from toolkit.engine.probes import detect_machine
    from toolkit.engine.server_slots import server_slots

    settings = Settings()
    target = check_target(server_url(url, settings), explicit=url is not None, command="bench")
    plan = THOROUGH if thorough else QUICK
    levels = (
        plan.concurrency
        if concurrency is None and max_concurrency is None
        else _parse_levels(concurrency, max_concurrency)
    )
    if model is None:

        async def first() -> list[str]:
            client = OllamaClient(target, api, timeout=timeout, total_timeout=timeout)  # type: ignore[arg-type]
            async with client:
                return await client.list_models()

        names = asyncio.run(first())
        if not names:
            raise UsageError(f"{target} has no models", hint="Pull one first, e.g. `gpuless up --model ...`.")
        model = names[0]
    config = BenchConfig(
        model=model,
        url=target,
        explicit_url=url is not None,
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
    )
    machine = detect_machine(docker=False)
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
    if not no_history:  # --no-history stores nothing, the calibration included
        _calibrate(settings.calibration_path, machine, result, quiet=as_json)
    if as_json:
        emit_json(result.to_dict())
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


def _calibrate(path: Any, machine: Any, result: Any, *, quiet: bool) -> None:
    """Store the run's measured ÷ predicted as this machine's calibration (used by ``recommend``)."""
    from toolkit.engine.calibration import record_comparisons

    stored = record_comparisons(path, machine, result.model, result.comparisons)
    if stored is not None and not quiet:
        ratios = ", ".join(
            f"{name} ×{value:.2f}"
            for name, value in (("decode", stored.decode), ("prefill", stored.prefill))
            if value is not None
        )
        click.echo(f"  calibration of this machine updated: measured ÷ predicted {ratios}", err=True)


def _catalog() -> Catalog | None:
    """The shipped catalog when it can be read; None falls back to estimating from /api/show."""
    from toolkit.engine.resources import load_catalog

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
    from toolkit.core.benchrun import compare_runs, median_of
    from toolkit.engine.history import History

    if as_json and as_csv:
        raise UsageError("--json and --csv are two output formats: choose one")
    with History(Settings().history_path) as store:
        if compare:
            a, b = (store.get_run(i) for i in compare)
            rows = compare_runs(a, b)
            if as_json:
                emit_json({"a": a.to_dict(), "b": b.to_dict(), "rows": rows})
                return
            for label, run in (("A", a), ("B", b)):
                text = f"{label} = run #{run.id} {run.name} ({run.started_at}, {run.status}"
                click.echo(terminal_safe(f"{text}, power {run.power_source})", one_line=True))
            table = [["metric", "A", "B", "change"]]
            for row in rows:
                table.append(
                    [row["metric"], _num(row["a"], 2), _num(row["b"], 2), _num(row["change_pct"], 1, "%")]
                )
            for line in _table(table):
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
        table = [["id", "started", "status", "model", "quant", "engine", "decode tok/s", "TTFT s", "power"]]
        for run in runs:
            shapes: dict[str, dict[str, Any]] = {s["shape"]: s for s in (run.summary or {}).get("shapes", [])}
            chat_shape = shapes.get("chat") or next(iter(shapes.values()), {})
            decode = median_of(chat_shape.get("client_decode_tps"))
            ttft = median_of(chat_shape.get("ttft_s"))
            table.append(
                [
                    str(run.id),
                    str(run.started_at).replace("T", " ")[:19],
                    f"{run.status} (damaged: {', '.join(run.damaged)})" if run.damaged else run.status,
                    run.name,
                    run.quantization or "—",
                    run.engine_version or "—",
                    _num(decode),
                    _num(ttft, 3),
                    run.power_source or "—",
                ]
            )
        for line in _table(table):
            click.echo(line)


@cli.command()
@click.option("--model", help="Model to chat with (default: the first one the server lists).")
@server_options
@click.option("--num-predict", type=click.IntRange(1), help="Cap on tokens per answer.")
@click.option("--timeout", type=click.FloatRange(0.01), default=300.0, show_default=True,
              help="Seconds to wait for the next bytes of an answer (Ctrl-C stops one sooner).")  # fmt: skip
def chat(model: str | None, url: str | None, api: str, num_predict: int | None, timeout: float) -> None:
    """Chat with a model in the terminal (Ctrl-C stops an answer, /help lists commands)."""
    from toolkit.cli_chat import ChatRepl

    settings = Settings()
    options = {"num_predict": num_predict} if num_predict else {}
    repl = ChatRepl(
        check_target(server_url(url, settings), explicit=url is not None, command="chat"),
        model or "",
        api=api,  # type: ignore[arg-type]
        save_dir=settings.data_dir / "chats",
        options=options,
        timeout=timeout,
    )
    try:
        if model is None:
            names = repl.loop.run_until_complete(repl._client().list_models())
            if not names:
                raise UsageError(
                    f"{repl.url} has no models", hint="Pull one first, e.g. `gpuless up --model ...`."
                )
            repl.conversation.model = names[0]
        else:
            repl.check_model(model)
    except BaseException:
        repl.close()
        raise
    sys.exit(repl.run())
