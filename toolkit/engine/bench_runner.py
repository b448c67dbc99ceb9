"""Run a benchmark against one server: repetitions per prompt shape, then a concurrency sweep.

Method (the reasons are in docs/shared reference, "Benchmark methodology"):
* the model is preloaded (its load time reported apart), then one short warm-up chat request
  (``WARMUP_TOKENS`` answer tokens) is sent and dropped;
* every request is made unique by a nonce at the very start of the prompt, so the server's prompt
  cache cannot flatter prefill speed or TTFT;
* temperature 0, a fixed seed, a fixed ``num_predict`` and ``think: false``; load-time options are
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
``toolkit.engine.server_url.check_target``, the check chat and ``up --url`` share).
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from toolkit.core.benchrun import Status
from toolkit.core.benchstats import (
    DEFAULT_TTFT_LIMIT_S,
    GRADES,
    Comparison,
    ConcurrencyLevel,
    RequestTrace,
    ShapeResult,
    compare,
    concurrency_level,
    predicted_aggregate_tps,
    predicted_vs_measured,
    recommend_num_parallel,
    request_metrics,
    shape_result,
    streams_label,
    users_per_grade,
)
from toolkit.core.catalog import Catalog, ModelSpec, QuantVariant
from toolkit.core.compose import base_model
from toolkit.core.estimate import Estimate
from toolkit.core.hardware import Machine
from toolkit.core.offcatalog import served_variant
from toolkit.engine.history import History
from toolkit.engine.ollama_client import Api, OllamaClient, Recorder
from toolkit.engine.server_url import check_target as check_target  # re-exported: the check lives there
from toolkit.errors import (
    GpulessError,
    HistoryError,
    ProfileError,
    RequestTimeoutError,
    ServerBusyError,
    UsageError,
)

Shape = Literal["chat", "document"]
#: Tokens the excluded warm-up request generates (a short chat prompt; it is not measured).
WARMUP_TOKENS = 8
SHAPES: tuple[Shape, ...] = ("chat", "document")

#: (decode tok/s per stream, prefill tok/s, TTFT s) predicted for (prompt tokens, simultaneous streams).
Predictor = Callable[[int, int], tuple[float | None, float | None, float | None]]

CHAT_QUESTION = (
    "Explain in a few short paragraphs how a lighthouse keeper kept the lamp burning through a storm."
)
DOCUMENT_TASK = "Summarise the following field report in five bullet points."

_WORDS = (
    "the river valley harbour station engineer report morning evening signal cable tower north south east "
    "west water stone bridge road market village council weather storm wind rain season harvest grain mill "
    "boat crew cargo light lamp keeper shift record ledger inspection repair pump valve pressure gauge level "
    "measure sample survey team leader route path field fence gate barn supply delivery schedule delay "
    "increase decrease steady careful quick slow heavy light early late before after during while because "
    "although therefore however meanwhile later again often rarely never always several many few most"
)


def document_text(words: int = 830, seed: int = 1234) -> str:
    """A deterministic plain-English document of ``words`` words (~1k tokens at 830 words for
    common tokenizers); the same text every run, so runs stay comparable."""
    rng = random.Random(seed)
    vocabulary = _WORDS.split()
    sentences: list[str] = []
    count = 0
    while count < words:
        length = rng.randint(8, 16)
        chosen = [rng.choice(vocabulary) for _ in range(length)]
        sentences.append(" ".join(chosen).capitalize() + ".")
        count += length
    paragraphs = [" ".join(sentences[i : i + 6]) for i in range(0, len(sentences), 6)]
    return "\n\n".join(paragraphs)


def build_messages(shape: Shape, nonce: str, document: str) -> list[dict[str, str]]:
    """The prompt of a shape, made unique by ``nonce`` in its first tokens (a system message comes
    first in every chat template, so the cacheable shared prefix is only the template's opening)."""
    system = f"Request {nonce}. You are a concise assistant."
    user = CHAT_QUESTION if shape == "chat" else f"{DOCUMENT_TASK}\n\n{document}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def concurrency_levels(max_concurrency: int) -> tuple[int, ...]:
    """1, 2, 4, ... up to and including ``max_concurrency`` (which is added if not a power of two)."""
    if max_concurrency < 1:
        raise UsageError("--max-concurrency must be at least 1")
    levels = [1]
    while levels[-1] * 2 <= max_concurrency:
        levels.append(levels[-1] * 2)
    if levels[-1] != max_concurrency:
        levels.append(max_concurrency)
    return tuple(levels)


def make_predictor(
    model: ModelSpec, variant: QuantVariant, machine: Machine, context: int = 4096
) -> Predictor:
    """The estimator of the recommendation, bound to one model on one machine."""
    from toolkit.core.estimate import estimate

    def predict(prompt_tokens: int, streams: int) -> tuple[float | None, float | None, float | None]:
        result = estimate(
            model, variant, machine, context=context, parallel=streams, prompt_tokens=prompt_tokens
        )
        return result.decode_tps, result.prefill_tps, result.ttft_s

    return predict


def model_step_estimate(
    catalog: Catalog, model: ModelSpec, variant: QuantVariant, machine: Machine
) -> Estimate:
    """The estimate the wizard's Model step shows for this catalog row on this machine: the same call
    (``recommend`` for one row, its default context, prompt length and one user), so the two agree."""
    from toolkit.core.recommend import recommend

    ranked = recommend(machine, catalog, only=((model, variant),))
    return ranked.candidates[0].estimate


def power_source(machine: Machine | None) -> str:
    """The power source to record: "ac", "battery", "no battery" (mains: desktops, VMs) or "unknown"."""
    if machine is None:
        return "unknown"
    if machine.power.on_ac is None:
        return "unknown" if machine.power.has_battery else "no battery"
    return "ac" if machine.power.on_ac else "battery"


#: Told about each finished request: (phase, shape, streams, metrics dict).
RequestCallback = Callable[[str, str, int, Mapping[str, Any]], None]


@dataclass(frozen=True)
class BenchConfig:
    """What to run.

    Attributes:
        model: model name as the server knows it, e.g. "smollm2:135m".
        url: server base URL (checked by ``check_target``).
        explicit_url: the user typed ``url`` (allows non-loopback targets).
        api: "ollama" (native, server timings) or "openai" (SSE, counts only).
        reps: measured repetitions per shape (the warm-up is extra).
        num_predict: tokens to generate per request (a cap: EOS may end earlier).
        shapes: prompt shapes to measure.
        document_words: words in the document shape's text (830 are ~1k tokens).
        concurrency: stream counts of the sweep; empty to skip it.
        rounds: rounds per concurrency level.
        max_requests: hard bound on requests sent (warm-up included).
        max_seconds: hard bound on wall time; no request starts after it.
        timeout: seconds to wait for the next bytes of an answer.
        seed / temperature: sampling, fixed.
        load_options: load-time options (num_ctx, num_thread, ...) sent unchanged with every request.
        keep_alive: how long the server keeps the model loaded between requests.
        warmup: send one excluded warm-up request first.
        ttft_slo_s: a concurrency level holds users only while its TTFT p95 stays at or under this.
    """

    model: str
    url: str
    explicit_url: bool = False
    api: Api = "ollama"
    reps: int = 5
    num_predict: int = 128
    shapes: tuple[Shape, ...] = SHAPES
    document_words: int = 830
    concurrency: tuple[int, ...] = (1, 2, 4)
    rounds: int = 1
    max_requests: int = 200
    max_seconds: float = 900.0
    timeout: float = 120.0
    seed: int = 42
    temperature: float = 0.0
    load_options: Mapping[str, Any] = field(default_factory=dict)
    keep_alive: str = "30m"
    warmup: bool = True
    ttft_slo_s: float = DEFAULT_TTFT_LIMIT_S

    def options(self) -> dict[str, Any]:
        return {
            **self.load_options,
            "temperature": self.temperature,
            "seed": self.seed,
            "num_predict": self.num_predict,
        }

    def to_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        out["load_options"] = dict(self.load_options)
        return out


@dataclass(frozen=True)
class BenchResult:
    """What a run measured (possibly partial).

    Attributes:
        run_id: id in the history, None with ``--no-history``.
        status: "complete", "incomplete" (stopped by a fault or Ctrl-C) or "failed" (nothing finished).
        engine_version: the server's version when it says (Ollama only).
        quantization: from ``/api/show`` when available.
        cold_load_s: load time of the preload request (0 when the model was already loaded).
        shapes: one result per measured shape.
        concurrency: the concurrency table.
        users: grade (tok/s) → most simultaneous users that level held.
        num_parallel: recommended OLLAMA_NUM_PARALLEL, None without a sweep.
        server_slots: the server's own OLLAMA_NUM_PARALLEL when it could be read (a gpuless
            container); with fewer slots than streams swept, ``num_parallel`` is no advice
            (``benchverdict.Verdict.slots_capped``). None = unknown or not read.
        ttft_slo_s: the TTFT p95 limit ``users`` and ``num_parallel`` were judged against.
        comparisons: predicted vs measured, empty without a predictor.
        model_step: the Model step's estimate for this catalog model on this machine (its inputs:
            the catalog's public file, a 512-token prompt, one user), None for a model not in the
            catalog or without a machine.
        served_file: "Q4_1, 0.09 GB" when the server holds another file under the name than the
            catalog's public one (the comparisons are then for the served file), else None.
        stopped_by: "max_requests" / "max_seconds" when a bound cut the plan short, "saturated" when
            the server refused a concurrency level as busy.
        error: one-line reason when the run stopped early.
        history_error: why the history holds only part of this run (a write failed), None if all of it.
    """

    run_id: int | None
    status: Status
    model: str
    api: Api
    url: str
    engine_version: str | None = None
    quantization: str | None = None
    cold_load_s: float | None = None
    shapes: tuple[ShapeResult, ...] = ()
    concurrency: tuple[ConcurrencyLevel, ...] = ()
    users: dict[float, int] = field(default_factory=dict)
    num_parallel: int | None = None
    server_slots: int | None = None
    ttft_slo_s: float = DEFAULT_TTFT_LIMIT_S
    comparisons: tuple[Comparison, ...] = ()
    model_step: Estimate | None = None
    served_file: str | None = None
    stopped_by: str | None = None
    error: str | None = None
    history_error: str | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "cold_load_s": self.cold_load_s,
            "shapes": [s.to_dict() for s in self.shapes],
            "concurrency": [lv.to_dict() for lv in self.concurrency],
            "users_per_grade": {str(int(g)): n for g, n in self.users.items()},
            "num_parallel": self.num_parallel,
            "server_slots": self.server_slots,
            "ttft_slo_s": self.ttft_slo_s,
            "comparisons": [c.to_dict() for c in self.comparisons],
            "model_step": None
            if self.model_step is None
            else {
                "prompt_tokens": self.model_step.prompt_tokens,
                "decode_tps": self.model_step.decode_tps,
                "prefill_tps": self.model_step.prefill_tps,
                "ttft_s": self.model_step.ttft_s,
            },
            "served_file": self.served_file,
            "stopped_by": self.stopped_by,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "model": self.model,
            "api": self.api,
            "url": self.url,
            "engine_version": self.engine_version,
            "quantization": self.quantization,
            **self.summary(),
            "error": self.error,
            "history_error": self.history_error,
        }


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
        self._traces: dict[str, list[RequestTrace]] = {}
        self._levels: list[ConcurrencyLevel] = []
        self._cold_load: float | None = None
        self._model_step: Estimate | None = None
        self._served_file: str | None = None

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
            think=False,
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

    # --- phases ---------------------------------------------------------------------------------

    async def _prepare(self, client: OllamaClient) -> tuple[str | None, str | None]:
        version = quantization = None
        if self.config.api == "ollama":
            version = await client.version()
            show = await client.show(self.config.model)  # ModelNotFoundError before anything is stored
            details = show.get("details") or {}
            quantization = details.get("quantization_level") if isinstance(details, dict) else None
            if self.predictor is None and self.machine is not None:
                self.predictor = await self._predictor_from_show(client, show)
        elif self.predictor is None and self.machine is not None and self.catalog is not None:
            self.predictor = self._predictor_from_catalog()
        return version, quantization

    def _predictor_from_catalog(self) -> Predictor | None:
        if self.catalog is None or self.machine is None:
            return None
        try:
            spec, variant = self.catalog.find(self.config.model)
        except UsageError:
            return None
        self._model_step = model_step_estimate(self.catalog, spec, variant, self.machine)
        return make_predictor(spec, variant, self.machine, self._context())

    async def _predictor_from_show(self, client: OllamaClient, show: Mapping[str, Any]) -> Predictor | None:
        """The catalog's geometry with the file the server really has (its size and quantisation may
        not be the public tag's, see ``served_variant``); a model the catalog lacks from ``/api/show``."""
        if self.machine is None:
            return None
        sizes = {m.get("name"): m.get("size") for m in await client.tags()}
        size = sizes.get(self.config.model)
        size_bytes = int(size) if isinstance(size, int) else None
        details = show.get("details")
        quant = details.get("quantization_level") if isinstance(details, Mapping) else None
        if self.catalog is not None:
            try:
                # A served model (TAG-gpuless) has its base model's file and geometry.
                spec, variant = self.catalog.find(base_model(self.config.model))
            except UsageError:
                pass
            else:
                served = served_variant(
                    spec, variant, size_bytes=size_bytes, quant=quant if isinstance(quant, str) else None
                )
                self._model_step = model_step_estimate(self.catalog, spec, variant, self.machine)
                if served is not variant:
                    self._served_file = f"{served.quant}, {served.size_bytes / 1e9:.2f} GB"
                return make_predictor(spec, served, self.machine, self._context())
        try:
            spec = ModelSpec.from_ollama_show(show, name=self.config.model, size_bytes=size_bytes)
        except ProfileError as error:
            self.progress(f"no prediction: {error.message}")
            return None
        return make_predictor(spec, spec.variants[0], self.machine, self._context())

    def _context(self) -> int:
        value = self.config.load_options.get("num_ctx")
        return int(value) if isinstance(value, int) and value > 0 else 4096

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
        self.progress(
            f"{streams_label(streams)}: {level.aggregate_tps:.1f} tok/s total, "
            f"{_fmt(stream_tps)} tok/s per stream, TTFT p95 {_fmt(level.ttft_p95_s, 3)} s"
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

    def _comparisons(
        self, shapes: Sequence[ShapeResult], levels: Sequence[ConcurrencyLevel]
    ) -> tuple[tuple[Comparison, ...], dict[str, Any] | None]:
        """Predicted vs measured: decode from the chat shape, prefill and TTFT from the document shape
        (the estimator is asked about the prompt length the server actually counted), and the
        aggregate tok/s of each concurrency level, prefill included as in the measurement."""
        if self.predictor is None or not shapes:
            return (), None
        by_name = {s.shape: s for s in shapes}
        decode_shape = by_name.get("chat") or shapes[0]
        prefill_shape = by_name.get("document") or shapes[-1]
        tokens = int(prefill_shape.prompt_tokens or 0)
        # Decode speed falls with context depth, so it is predicted at the depth it was measured at.
        decode, _, _ = self.predictor(int(decode_shape.prompt_tokens or 0), 1)
        _, prefill, ttft = self.predictor(tokens, 1)
        measured_decode = decode_shape.client_decode_tps.median if decode_shape.client_decode_tps else None
        measured_prefill = prefill_shape.prompt_tps.median if prefill_shape.prompt_tps else None
        measured_ttft = prefill_shape.ttft_s.median if prefill_shape.ttft_s else None
        rows = list(
            predicted_vs_measured(
                decode_tps=(decode, measured_decode),
                prefill_tps=(prefill, measured_prefill),
                ttft_s=(ttft, measured_ttft),
            )
        )
        predicted: dict[str, Any] = {
            "prompt_tokens": tokens,
            "decode_tps": decode,
            "prefill_tps": prefill,
            "ttft_s": ttft,
            "aggregate_tps": {},
        }
        chat_prompt = int(decode_shape.prompt_tokens or 0)  # the sweep sends the chat shape
        for level in levels:
            per_stream, _, _ = self.predictor(chat_prompt, level.streams)
            _, _, prefill_all = self.predictor(chat_prompt * level.streams, 1)
            generated = level.output_tokens / level.requests if level.requests else self.config.num_predict
            aggregate = predicted_aggregate_tps(level.streams, generated, per_stream, prefill_all)
            predicted["aggregate_tps"][str(level.streams)] = aggregate
            rows.append(
                compare(
                    f"aggregate tok/s @ {streams_label(level.streams)}",
                    "tok/s",
                    aggregate,
                    level.aggregate_tps,
                )
            )
        return tuple(rows), predicted

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
            # A cancellation may carry its reason (the CLI cancels with the signal's name).
            reason = str(error) if isinstance(error, asyncio.CancelledError) else ""
            message = (
                f"interrupted ({reason}) before the run finished"
                if reason
                else ("interrupted before the run finished")
            )
        comparisons, predicted = self._comparisons(shapes, levels)
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
            comparisons=comparisons,
            model_step=self._model_step,
            served_file=self._served_file,
            stopped_by=stopped_by,
            error=message,
            history_error=error.message if isinstance(error, HistoryError) else None,
        )
        if self.history is not None and self._run_id is not None:
            try:
                self.history.finish_run(
                    self._run_id, status=status, summary=result.summary(), error=message, predicted=predicted
                )
            except HistoryError as write_error:
                return replace(result, history_error=write_error.message), write_error
        return result, None


def _fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"
