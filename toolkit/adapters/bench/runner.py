"""Run a benchmark against one server: repetitions per prompt shape, then a concurrency sweep.

Method (the reasons are in docs/shared reference, "Benchmark methodology"):
* the model is preloaded (its load time reported apart), then one short warm-up chat request
  (``WARMUP_TOKENS`` answer tokens) is sent and dropped;
* every request is made unique by a nonce at the very start of the prompt, so the server's prompt
  cache cannot flatter prefill speed or TTFT;
* temperature 0, a fixed seed, a fixed ``num_predict`` and thinking off unless asked (``think: false``,
  ``reasoning_effort: "none"`` on the OpenAI API; ``toolkit.core.catalog.thinking``); load-time options are
  sent identically with every request so the model is never reloaded mid-run;
* the sweep sends 1, 2, 4, ... simultaneous streams, bounded by ``max_concurrency``, ``max_requests``
  and ``max_seconds``; a level where the server refuses requests as busy (HTTP 503, its queue full)
  is recorded as saturated and ends the sweep — that is the finding, not a failure;
* no request starts after ``max_seconds`` and none runs past ``max_seconds + timeout``, however
  slowly the server trickles its answer;
* each finished request goes to the history at once; a fault, Ctrl-C or a cancellation (the CLI
  cancels on SIGTERM/SIGHUP, with the signal as the reason) leaves the run ``incomplete`` with
  everything that finished and the reason, and the error is raised again for the caller to report.

Only loopback targets are accepted unless the user typed the URL themselves (``explicit=True``;
``toolkit.core.target.check_target``, the check chat and ``up --url`` share). What is sent is
``toolkit.core.bench.workload``'s; the arithmetic over what came back is in ``toolkit.core``
(``bench.metrics``, ``bench.concurrency``, ``bench.compare``), and the predictions come from
``toolkit.core.bench.predict``: this module sends the requests, keeps time and writes the history.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from toolkit.adapters.bench.history import History
from toolkit.adapters.ollama.client import OllamaClient, Recorder
from toolkit.core.bench.compare import Predictor, comparisons
from toolkit.core.bench.concurrency import (
    GRADES,
    ConcurrencyLevel,
    concurrency_level,
    recommend_num_parallel,
    streams_label,
    users_per_grade,
)
from toolkit.core.bench.config import BenchConfig, BenchResult
from toolkit.core.bench.metrics import RequestTrace, request_metrics, shape_result
from toolkit.core.bench.predict import PredictorChoice, predictor_from_catalog, predictor_from_show
from toolkit.core.bench.run import Status, cancel_message, power_source
from toolkit.core.bench.workload import WARMUP_TOKENS, Shape, build_messages, document_text
from toolkit.core.catalog.model import Catalog
from toolkit.core.catalog.thinking import model_thinks
from toolkit.core.estimate.estimator import Estimate
from toolkit.core.machine.hardware import Machine
from toolkit.core.target import check_target
from toolkit.core.units import format_fixed as _fmt
from toolkit.errors import GpulessError, HistoryError, RequestTimeoutError, ServerBusyError, UsageError

#: Told about each finished request: (phase, shape, streams, metrics dict).
RequestCallback = Callable[[str, str, int, Mapping[str, Any]], None]


class _Bound(Exception):
    """A request or time bound was reached: stop starting requests (not an error)."""


class BenchRunner:
    """Runs one ``BenchConfig``. ``run()`` returns the result or raises the fault that stopped it;
    either way ``self.result`` holds what was measured and the history row is closed.

    Args:
        config: what to run.
        history: where to store the run; None for ``--no-history``.
        machine: the detected machine, stored with the run and used by the estimator.
        catalog: the model catalog; a model not in it is estimated from ``/api/show``.
        predictor: overrides the estimator (see ``Predictor``); None builds it from machine + model.
        progress: called with one human-readable line per step.
        on_request: called with (phase, shape, streams, metrics dict) after each finished request, the same
            dict the history stores (the TUI draws its live charts from it).
    """

    def __init__(
        self,
        config: BenchConfig,
        *,
        history: History | None = None,
        machine: Machine | None = None,
        catalog: Catalog | None = None,
        predictor: Predictor | None = None,
        progress: Callable[[str], None] | None = None,
        on_request: RequestCallback | None = None,
        slots_of: Callable[[str], int | None] | None = None,
    ) -> None:
        self.config = replace(config, url=check_target(config.url, explicit=config.explicit_url))
        if config.reps < 1 or config.num_predict < 2 or config.document_words < 1:
            raise UsageError("--reps must be at least 1 and --num-predict at least 2")
        self.history = history
        self.machine = machine
        self.catalog = catalog
        self.predictor = predictor
        self.progress = progress or (lambda _line: None)
        self.on_request = on_request
        self.slots_of = slots_of  # the server's OLLAMA_NUM_PARALLEL by URL (``server_slots``), if asked
        self.result = BenchResult(
            run_id=None, status="failed", model=config.model, api=config.api, url=self.url
        )
        self._document = document_text(config.document_words)
        self._nonce_prefix = secrets.token_hex(3)
        self._counter = 0
        self._sent = 0
        self._deadline = 0.0
        self._run_id: int | None = None
        self._stored = 0  # requests written to the history so far (a failed write stops the count)
        self._traces: dict[str, list[RequestTrace]] = {}
        self._levels: list[ConcurrencyLevel] = []
        self._cold_load: float | None = None
        self._model_step: Estimate | None = None
        self._served_file: str | None = None
        self._model_thinks: bool | None = None

    @property
    def url(self) -> str:
        return self.config.url

    # --- one request ----------------------------------------------------------------------------

    def _check_bounds(self) -> None:
        if self._sent >= self.config.max_requests:
            raise _Bound("max_requests")
        if time.perf_counter() >= self._deadline:
            raise _Bound("max_seconds")

    async def _request(
        self, client: OllamaClient, shape: Shape, num_predict: int | None = None
    ) -> RequestTrace:
        self._check_bounds()
        self._sent += 1
        self._counter += 1
        messages = build_messages(shape, f"{self._nonce_prefix}-{self._counter}", self._document)
        options = self.config.options()
        if num_predict is not None:  # not a load-time option: the model is not reloaded
            options["num_predict"] = num_predict
        events = client.stream_chat(
            self.config.model,
            messages,
            options=options,
            think=self.config.think,
            keep_alive=self.config.keep_alive,
        )
        recorder = Recorder(time.perf_counter())
        return await recorder.consume(events)

    def _store(self, phase: str, shape: str, streams: int, trace: RequestTrace) -> None:
        metrics = request_metrics(trace).to_dict()
        if self.history is not None and self._run_id is not None:
            self.history.add_request(
                self._run_id,
                phase=phase,
                shape=shape,
                streams=streams,
                metrics=metrics,
                server=trace.server.to_dict() if trace.server else None,
            )
            self._stored += 1
        if self.on_request is not None:
            self.on_request(phase, shape, streams, metrics)

    def _store_error(self, phase: str, shape: str, streams: int, error: BaseException) -> None:
        # Bounds are not failures, and a cancelled sibling is a consequence of the real fault.
        if self.history is None or self._run_id is None or isinstance(error, _Bound | asyncio.CancelledError):
            return
        message = error.message if isinstance(error, GpulessError) else (str(error) or type(error).__name__)
        self.history.add_request(
            self._run_id, phase=phase, shape=shape, streams=streams, metrics=None, error=message
        )
        self._stored += 1

    # --- phases ---------------------------------------------------------------------------------

    async def _prepare(self, client: OllamaClient) -> tuple[str | None, str | None]:
        version = quantization = None
        if self.config.api == "ollama":
            version = await client.version()
            show = await client.show(self.config.model)  # ModelNotFoundError before anything is stored
            self._model_thinks = model_thinks(show)
            details = show.get("details") or {}
            quantization = details.get("quantization_level") if isinstance(details, dict) else None
            if self.predictor is None and self.machine is not None:
                sizes = {m.get("name"): m.get("size") for m in await client.tags()}
                size = sizes.get(self.config.model)
                self._use(
                    predictor_from_show(
                        self.catalog,
                        self.machine,
                        self.config.model,
                        show,
                        size_bytes=int(size) if isinstance(size, int) else None,
                        context=self.config.context(),
                    )
                )
        else:
            # an OpenAI-compatible server may be Ollama: its /api/show says whether the model thinks
            self._model_thinks = await client.thinks(self.config.model)
            if self.predictor is None and self.machine is not None and self.catalog is not None:
                self._use(
                    predictor_from_catalog(
                        self.catalog, self.machine, self.config.model, self.config.context()
                    )
                )
        return version, quantization

    def _use(self, choice: PredictorChoice) -> None:
        self.predictor = choice.predictor
        self._model_step = choice.model_step
        self._served_file = choice.served_file
        if choice.problem is not None:
            self.progress(choice.problem)

    async def _shapes(self, client: OllamaClient) -> None:
        config = self.config
        if config.api == "ollama":
            self.progress(f"loading {config.model} (the first request waits for it)")
            t0 = time.perf_counter()
            timings = await client.load(
                config.model, keep_alive=config.keep_alive, options=config.load_options
            )
            # A server that does not report the load (no load_duration) is timed by the client.
            reported = (timings.load_duration_ns or 0) / 1e9
            self._cold_load = reported if reported > 0 else time.perf_counter() - t0
            self.progress(f"loaded {config.model} in {self._cold_load:.2f} s")
        if config.warmup:
            self._check_bounds()
            # A short chat answer: it only has to pay the first request's one-off costs.
            trace = await self._request(client, "chat", min(WARMUP_TOKENS, config.num_predict))
            self.progress(f"warm-up done ({request_metrics(trace).output_tokens} tokens, excluded)")
        for shape in config.shapes:
            traces = self._traces.setdefault(shape, [])
            for rep in range(config.reps):
                try:
                    trace = await self._request(client, shape)
                except BaseException as error:
                    self._store_error("shape", shape, 1, error)
                    raise
                traces.append(trace)
                self._store("shape", shape, 1, trace)
                m = request_metrics(trace)
                self.progress(
                    f"{shape} {rep + 1}/{config.reps}: {_fmt(m.client_decode_tps)} tok/s,"
                    f" TTFT {_fmt(m.ttft_s, 3)} s, {m.output_tokens} tokens"
                )

    async def _level(self, client: OllamaClient, streams: int) -> bool:
        """Measure one concurrency level; False when the server refused it as busy (saturated)."""
        traces: list[RequestTrace] = []
        busy: list[ServerBusyError] = []
        wall = 0.0
        for _ in range(self.config.rounds):
            # All streams of a round must fit the request bound, or the level would not be what it says.
            if self._sent + streams > self.config.max_requests:
                raise _Bound("max_requests")
            self._check_bounds()

            async def one() -> None:
                try:
                    trace = await self._request(client, "chat")
                except ServerBusyError as error:
                    # A full queue is what a load test is looking for: the siblings run on.
                    busy.append(error)
                    self._store_error("concurrency", "chat", streams, error)
                    return
                except BaseException as error:
                    self._store_error("concurrency", "chat", streams, error)
                    raise
                traces.append(trace)
                self._store("concurrency", "chat", streams, trace)

            t0 = time.perf_counter()
            try:
                async with asyncio.TaskGroup() as group:
                    for _ in range(streams):
                        group.create_task(one())
            except BaseExceptionGroup as group_error:
                # Report the first real fault (the others are usually its consequences).
                first = group_error.exceptions[0]
                for exc in group_error.exceptions:
                    if isinstance(exc, GpulessError):
                        first = exc
                        break
                raise first from None
            wall += time.perf_counter() - t0
            if busy:
                break
        level = concurrency_level(streams, traces, wall, errors=len(busy), saturated=bool(busy))
        self._levels.append(level)
        if busy:
            self.progress(
                f"{streams_label(streams)}: saturated, the server refused {len(busy)} of the requests as"
                f" busy ({busy[0].message})"
            )
            return False
        stream_tps = level.per_stream_tps.median if level.per_stream_tps else None
        # The first level's line says what its two speeds are, not only the verdict at the end.
        first = len(self._levels) == 1
        total = " (every stream's tokens ÷ the level's time)" if first else ""
        each = " (one stream's decode rate)" if first else ""
        self.progress(
            f"{streams_label(streams)}: {level.aggregate_tps:.1f} tok/s total{total}, "
            f"{_fmt(stream_tps)} tok/s per stream{each}, TTFT p95 {_fmt(level.ttft_p95_s, 3)} s"
        )
        return True

    # --- the run --------------------------------------------------------------------------------

    async def run(self) -> BenchResult:
        config = self.config
        self._deadline = time.perf_counter() + config.max_seconds
        version: str | None = None
        quantization: str | None = None
        stopped_by: str | None = None
        error: BaseException | None = None
        # No request may run past the end of the run plus one gap timeout, however it trickles.
        end = time.monotonic() + config.max_seconds + config.timeout  # the client's clock
        client = OllamaClient(config.url, config.api, timeout=config.timeout, deadline=end)
        async with client:
            try:
                version, quantization = await self._prepare(client)
                if self.history is not None:
                    self._run_id = self.history.start_run(
                        model=config.model,
                        api=config.api,
                        url=config.url,
                        settings=config.to_dict(),
                        quantization=quantization,
                        engine_version=version,
                        machine=self.machine.to_dict() if self.machine is not None else None,
                        power_source=power_source(self.machine),
                    )
                await self._shapes(client)
                for streams in config.concurrency:
                    if not await self._level(client, streams):
                        stopped_by = "saturated"
                        break
            except _Bound as bound:
                stopped_by = str(bound)
                self.progress(f"stopped early: {stopped_by} reached")
            except TimeoutError as timeout:  # asyncio's own timeouts, if any caller wraps us
                error = RequestTimeoutError(f"{config.url} did not answer in time")
                error.__cause__ = timeout
            except (GpulessError, asyncio.CancelledError, KeyboardInterrupt) as fault:
                error = fault
        self.result, history_error = self._finish(version, quantization, stopped_by, error)
        if error is not None:
            raise error
        if history_error is not None:
            raise history_error
        return self.result

    def _finish(
        self,
        version: str | None,
        quantization: str | None,
        stopped_by: str | None,
        error: BaseException | None,
    ) -> tuple[BenchResult, HistoryError | None]:
        """The result of the run, closed in the history; a HistoryError from that last write is
        returned (the result says the history holds only part of the run) rather than lost."""
        shapes = tuple(shape_result(name, traces) for name, traces in self._traces.items() if traces)
        levels = tuple(self._levels)
        finished = sum(len(t) for t in self._traces.values()) + sum(lv.requests for lv in levels)
        status: Status = "complete" if error is None else ("incomplete" if finished else "failed")
        message = None
        if isinstance(error, GpulessError):
            message = error.message
        elif error is not None:
            # A cancellation may carry its reason (the CLI cancels with the signal's name); esc in the
            # wizard and Ctrl-C carry none. Either way it is the user's stop, not a fault (``status_label``).
            reason = str(error) if isinstance(error, asyncio.CancelledError) else ""
            message = cancel_message(reason, finished)
        rows, predicted = comparisons(self.predictor, shapes, levels, self.config.num_predict)
        result = BenchResult(
            run_id=self._run_id,
            status=status,
            model=self.config.model,
            api=self.config.api,
            url=self.config.url,
            engine_version=version,
            quantization=quantization,
            cold_load_s=self._cold_load,
            shapes=shapes,
            concurrency=levels,
            users=users_per_grade(levels, GRADES, self.config.ttft_slo_s) if levels else {},
            num_parallel=recommend_num_parallel(levels, ttft_limit_s=self.config.ttft_slo_s)
            if levels
            else None,
            server_slots=self.slots_of(self.config.url) if self.slots_of is not None and levels else None,
            ttft_slo_s=self.config.ttft_slo_s,
            comparisons=rows,
            model_step=self._model_step,
            served_file=self._served_file,
            stopped_by=stopped_by,
            error=message,
            history_error=error.message if isinstance(error, HistoryError) else None,
            stored_requests=self._stored if self._run_id is not None else None,
            think=self.config.think,
            model_thinks=self._model_thinks,
        )
        if self.history is not None and self._run_id is not None:
            try:
                self.history.finish_run(
                    self._run_id, status=status, summary=result.summary(), error=message, predicted=predicted
                )
            except HistoryError as write_error:
                return replace(result, history_error=write_error.message), write_error
        return result, None
