"""What a benchmark is asked to run (``BenchConfig``) and what it hands back (``BenchResult``).

Plain data shared by the runner (``toolkit.adapters.bench.runner``), the CLI and the wizard that build a
config and render a result, and the history that stores both as JSON (``to_dict`` / ``summary``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from toolkit.core.bench.compare import Comparison
from toolkit.core.bench.concurrency import DEFAULT_TTFT_LIMIT_S, ConcurrencyLevel
from toolkit.core.bench.metrics import ShapeResult
from toolkit.core.bench.run import Status
from toolkit.core.bench.workload import SHAPES, Shape
from toolkit.core.estimate.estimator import Estimate
from toolkit.core.wire import Api


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
        think: let a thinking model think (default off: ``think: false`` / ``reasoning_effort: "none"``).
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
    think: bool = False

    def options(self) -> dict[str, Any]:
        return {
            **self.load_options,
            "temperature": self.temperature,
            "seed": self.seed,
            "num_predict": self.num_predict,
        }

    def context(self) -> int:
        """The context the model is loaded with: ``num_ctx`` of ``load_options``, else 4096."""
        value = self.load_options.get("num_ctx")
        return int(value) if isinstance(value, int) and value > 0 else 4096

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
            (``bench.verdict.Verdict.slots_capped``). None = unknown or not read.
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
        stored_requests: how many of the run's requests the history holds, None when it was not stored.
        think: thinking was asked for (``BenchConfig.think``).
        model_thinks: ``/api/show`` lists the "thinking" capability; None when unknown.
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
    stored_requests: int | None = None
    think: bool = False
    model_thinks: bool | None = None

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
            "think": self.think,
            "model_thinks": self.model_thinks,
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
            "stored_requests": self.stored_requests,
        }
