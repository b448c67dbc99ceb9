"""Benchmark metrics: from clock readings and server counters to one request's numbers, and to the
summary of one prompt shape over its repetitions.

The streaming client records, per request, when it was sent and when each chunk arrived
(``RequestTrace``); the server adds its own counters (``ServerTimings``). Everything here turns those
into per-request metrics and per-shape summaries; the concurrency table is in
``toolkit.core.bench.concurrency`` and the predicted-vs-measured rows in ``toolkit.core.bench.compare``.
Pure: no clock, no I/O; tested over fixture timings.

Definitions (chosen to match the reference tools, see docs in each function):

* TTFT is client-side: request sent → first chunk with non-empty content (the answer). It includes HTTP,
  queueing, prefill and the first sampling step, and any model load (reported apart as ``load_s``);
  with thinking on it also includes the whole reasoning, which arrives apart (Ollama's ``thinking``,
  OpenAI's ``delta.reasoning``) and is counted apart (``reasoning_chunks``). gpuless asks for thinking
  off unless told otherwise.
* Client decode tok/s = ``(eval_count − 1) / (t_end − t_first)``: the first token is produced by the
  prefill step and its arrival starts the clock, so ``eval_count − 1`` decode steps fill the interval.
  ``t_first`` is the first generated token of either kind, since the server's ``eval_count`` (OpenAI's
  ``completion_tokens``) counts reasoning tokens too.
  ``t_end`` is the arrival of the chunk that closes the generation (the ``done`` chunk on Ollama, the
  ``finish_reason`` chunk on OpenAI); it follows the last token at once on a length stop, and one step
  later on an end-of-sequence stop, whose EOS token the server counts but does not send. Tokens are
  the server's count, never the number of chunks (one chunk may carry several tokens, or none).
* Server decode tok/s = ``eval_count / eval_duration`` (Ollama's own formula, ``docs/api.md``).
* Prompt tok/s = ``prompt_eval_count / prompt_eval_duration``; on Ollama v0.30+ a prompt-cache hit
  counts cached tokens but not their time, which is why the benchmark makes every prompt unique.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from toolkit.core.stats import Summary, percentile, summarize

NS = 1e9


def _int_or_zero(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


@dataclass(frozen=True)
class ServerTimings:
    """What the server reported about one request.

    Attributes:
        prompt_eval_count: prompt tokens (on Ollama v0.30+ includes prompt-cache hits).
        eval_count: generated tokens, the server's count.
        total_duration_ns: whole request on the server; None when the protocol has no timings (OpenAI).
        load_duration_ns: model load part of it.
        prompt_eval_duration_ns: prefill time (uncached tokens only on v0.30+).
        eval_duration_ns: generation time.
        done_reason: "stop", "length", ... when reported.
    """

    prompt_eval_count: int
    eval_count: int
    total_duration_ns: int | None = None
    load_duration_ns: int | None = None
    prompt_eval_duration_ns: int | None = None
    eval_duration_ns: int | None = None
    done_reason: str | None = None

    @classmethod
    def from_ollama(cls, final: Mapping[str, Any]) -> ServerTimings:
        """Parse an Ollama ``done: true`` chunk; every metric is ``omitempty``, so absent means 0."""
        reason = final.get("done_reason")
        return cls(
            prompt_eval_count=_int_or_zero(final.get("prompt_eval_count")),
            eval_count=_int_or_zero(final.get("eval_count")),
            total_duration_ns=_int_or_zero(final.get("total_duration")),
            load_duration_ns=_int_or_zero(final.get("load_duration")),
            prompt_eval_duration_ns=_int_or_zero(final.get("prompt_eval_duration")),
            eval_duration_ns=_int_or_zero(final.get("eval_duration")),
            done_reason=reason if isinstance(reason, str) else None,
        )

    @classmethod
    def from_openai_usage(cls, usage: Mapping[str, Any], finish_reason: str | None = None) -> ServerTimings:
        """Parse the ``usage`` object of an OpenAI-compatible stream (counts only, no timings)."""
        return cls(
            prompt_eval_count=_int_or_zero(usage.get("prompt_tokens")),
            eval_count=_int_or_zero(usage.get("completion_tokens")),
            done_reason=finish_reason,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompt_eval_count": self.prompt_eval_count,
            "eval_count": self.eval_count,
            "total_duration_ns": self.total_duration_ns,
            "load_duration_ns": self.load_duration_ns,
            "prompt_eval_duration_ns": self.prompt_eval_duration_ns,
            "eval_duration_ns": self.eval_duration_ns,
            "done_reason": self.done_reason,
        }


@dataclass(frozen=True)
class RequestTrace:
    """Client clock readings of one streamed request, in seconds of one monotonic clock.

    Attributes:
        t_sent: just before the request was sent.
        content_times: arrival of every chunk that carried non-empty content, in order.
        t_end: arrival of the chunk that closed the generation; None if the stream broke first.
        server: the server's counters; None if the stream broke before they came.
        text: the generated text (kept for chat transcripts and sanity checks).
        reasoning_times: arrival of every chunk of reasoning (a thinking model with thinking on).
    """

    t_sent: float
    content_times: tuple[float, ...]
    t_end: float | None
    server: ServerTimings | None
    text: str = ""
    reasoning_times: tuple[float, ...] = ()


@dataclass(frozen=True)
class RequestMetrics:
    """One request's metrics. Rates in tokens/s, times in seconds; None when not measurable.

    Attributes:
        ttft_s: client TTFT (sent → first non-empty content).
        client_decode_tps: ``(eval_count − 1) / (t_end − t_first)``, see the module docstring.
        server_decode_tps: ``eval_count / eval_duration`` as the server timed it.
        prompt_tps: ``prompt_eval_count / prompt_eval_duration`` (server).
        prompt_eval_s: server prefill time.
        load_s: server model-load time (kept out of every rate; it is inside ``ttft_s`` when non-zero).
        total_s: client wall time, sent → end of generation.
        itl_p50_s / itl_p95_s: inter-chunk gaps after the first content chunk.
        output_tokens / prompt_tokens: the server's counts.
        chunks: content chunks received.
        reasoning_chunks: reasoning chunks received (0 with thinking off).
    """

    ttft_s: float | None
    client_decode_tps: float | None
    server_decode_tps: float | None
    prompt_tps: float | None
    prompt_eval_s: float | None
    load_s: float | None
    total_s: float | None
    itl_p50_s: float | None
    itl_p95_s: float | None
    output_tokens: int | None
    prompt_tokens: int | None
    chunks: int
    reasoning_chunks: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def inter_token_gaps(content_times: Sequence[float]) -> list[float]:
    """Gaps between consecutive content chunks (the first gap starts at the first content chunk)."""
    return [b - a for a, b in pairwise(content_times)]


def request_metrics(trace: RequestTrace) -> RequestMetrics:
    """Metrics of one request (definitions in the module docstring)."""
    server = trace.server
    t_first = trace.content_times[0] if trace.content_times else None
    ttft = t_first - trace.t_sent if t_first is not None else None
    t_end = (
        trace.t_end if trace.t_end is not None else (trace.content_times[-1] if trace.content_times else None)
    )
    total = t_end - trace.t_sent if t_end is not None else None

    client_decode = None
    t_output = min(trace.content_times[:1] + trace.reasoning_times[:1], default=None)
    if server is not None and t_output is not None and t_end is not None and server.eval_count >= 2:
        span = t_end - t_output
        if span > 0:
            client_decode = (server.eval_count - 1) / span

    server_decode = prompt_tps = prompt_eval_s = load_s = None
    if server is not None:
        if server.eval_duration_ns:
            server_decode = server.eval_count / (server.eval_duration_ns / NS)
        if server.prompt_eval_duration_ns:
            prompt_eval_s = server.prompt_eval_duration_ns / NS
            prompt_tps = server.prompt_eval_count / prompt_eval_s
        if server.load_duration_ns is not None:
            load_s = server.load_duration_ns / NS

    gaps = inter_token_gaps(trace.content_times)
    return RequestMetrics(
        ttft_s=ttft,
        client_decode_tps=client_decode,
        server_decode_tps=server_decode,
        prompt_tps=prompt_tps,
        prompt_eval_s=prompt_eval_s,
        load_s=load_s,
        total_s=total,
        itl_p50_s=percentile(gaps, 50) if gaps else None,
        itl_p95_s=percentile(gaps, 95) if gaps else None,
        output_tokens=server.eval_count if server is not None else None,
        prompt_tokens=server.prompt_eval_count if server is not None else None,
        chunks=len(trace.content_times),
        reasoning_chunks=len(trace.reasoning_times),
    )


@dataclass(frozen=True)
class ShapeResult:
    """One prompt shape measured over N repetitions (warm-up excluded by the caller).

    Attributes:
        shape: "chat" or "document".
        requests: how many repetitions finished.
        ttft_s / client_decode_tps / server_decode_tps / prompt_tps / load_s / total_s: summaries.
        itl_p50_s / itl_p95_s: percentiles of inter-chunk gaps pooled over all repetitions.
        output_tokens / prompt_tokens: median server counts.
        reasoning_chunks: median reasoning chunks per request (0 with thinking off).
    """

    shape: str
    requests: int
    ttft_s: Summary | None
    client_decode_tps: Summary | None
    server_decode_tps: Summary | None
    prompt_tps: Summary | None
    load_s: Summary | None
    total_s: Summary | None
    itl_p50_s: float | None
    itl_p95_s: float | None
    output_tokens: float | None
    prompt_tokens: float | None
    reasoning_chunks: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = value.to_dict() if isinstance(value, Summary) else value
        return out


def shape_result(shape: str, traces: Sequence[RequestTrace]) -> ShapeResult:
    """Summarise the repetitions of one shape."""
    metrics = [request_metrics(t) for t in traces]
    gaps = [g for t in traces for g in inter_token_gaps(t.content_times)]
    outputs = [m.output_tokens for m in metrics if m.output_tokens is not None]
    prompts = [m.prompt_tokens for m in metrics if m.prompt_tokens is not None]
    return ShapeResult(
        shape=shape,
        requests=len(traces),
        ttft_s=summarize(m.ttft_s for m in metrics),
        client_decode_tps=summarize(m.client_decode_tps for m in metrics),
        server_decode_tps=summarize(m.server_decode_tps for m in metrics),
        prompt_tps=summarize(m.prompt_tps for m in metrics),
        load_s=summarize(m.load_s for m in metrics),
        total_s=summarize(m.total_s for m in metrics),
        itl_p50_s=percentile(gaps, 50) if gaps else None,
        itl_p95_s=percentile(gaps, 95) if gaps else None,
        output_tokens=percentile(outputs, 50) if outputs else None,
        prompt_tokens=percentile(prompts, 50) if prompts else None,
        reasoning_chunks=percentile([float(m.reasoning_chunks) for m in metrics], 50) if metrics else 0.0,
    )


# --- the figures' names, as every front end shows them -----------------------------------------

#: The one meaning of "TTFT" wherever gpuless shows it (bench, history, chat); always with its prompt,
#: since a 1k-token document takes seconds to prefill where a 45-token chat question takes milliseconds.
TTFT_MEANS = "TTFT = request sent → first answer token, on the client's clock (prefill included)"
#: The one meaning of "decode tok/s" (bench, history, chat; live figures approximate it from chunks).
DECODE_MEANS = "decode tok/s = answer tokens after the first ÷ time from the first to the last token"


def definitions() -> tuple[str, str]:
    """The two lines that say what TTFT and decode tok/s are, printed under every table of them."""
    return TTFT_MEANS, DECODE_MEANS


def live_decode_tps(times: Sequence[float]) -> float | None:
    """Decode tok/s while an answer streams: chunks after the first ÷ time from the first to the last
    (a chunk usually holds one token; the final figure uses the server's count, ``request_metrics``)."""
    if len(times) < 2 or times[-1] <= times[0]:
        return None
    return (len(times) - 1) / (times[-1] - times[0])


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def answer_figures(trace: RequestTrace, *, live: bool = False) -> str:
    """``128 tokens · decode 118.4 tok/s · TTFT 0.21 s`` for one chat answer, by the definitions above
    (the same figures a benchmark reports). ``live``: the answer is still streaming, so tokens are the
    chunks so far and the speed is approximate (``~``)."""
    t_first = trace.content_times[0] if trace.content_times else None
    if live:
        tokens: int | None = len(trace.content_times)
        tps = live_decode_tps(trace.content_times)
        speed = None if tps is None else f"decode ~{tps:.1f} tok/s"
    else:
        metrics = request_metrics(trace)
        tokens = metrics.output_tokens if metrics.output_tokens is not None else metrics.chunks
        tps = metrics.client_decode_tps or live_decode_tps(trace.content_times)
        speed = None if tps is None else f"decode {tps:.1f} tok/s"
    parts = [f"{tokens} token{'' if tokens == 1 else 's'}"]
    if speed:
        parts.append(speed)
    if t_first is not None:
        parts.append(f"TTFT {_seconds(t_first - trace.t_sent)}")
    return " · ".join(parts)
