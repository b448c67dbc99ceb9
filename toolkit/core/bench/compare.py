"""Predicted vs measured: the rows that put the estimator's figures beside what a benchmark measured.

Separate from the metrics because it is about the estimate, not the run: which measured figure each
prediction is held against (decode from the chat shape, prefill and TTFT from the document shape,
aggregate tok/s per concurrency level) and what the error means. The estimator is passed in as a
``Predictor`` (``toolkit.core.bench.predict`` builds one), so this stays pure and testable with a fake.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from toolkit.core.bench.concurrency import ConcurrencyLevel, streams_label
from toolkit.core.bench.metrics import ShapeResult

#: (decode tok/s per stream, prefill tok/s, TTFT s) predicted for (prompt tokens, simultaneous streams).
Predictor = Callable[[int, int], tuple[float | None, float | None, float | None]]


@dataclass(frozen=True)
class Comparison:
    """One predicted-vs-measured row.

    Attributes:
        metric: e.g. "decode tok/s".
        unit: "tok/s" or "s".
        predicted / measured: None when one side is not available.
        error_pct: ``(predicted − measured) / measured × 100``: positive means the estimate was optimistic
            for a rate (pessimistic for a time). Stored with the run; shown as ``error_words``.
    """

    metric: str
    unit: str
    predicted: float | None
    measured: float | None
    error_pct: float | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @property
    def error_words(self) -> str:
        """The error as readers expect it, measured against predicted: "measured is 72% below predicted"
        (a slower rate or a shorter time than the estimate), "… above predicted", or "–"."""
        if self.error_short == "–":
            return "–"
        return f"measured is {self.error_short} predicted"

    @property
    def error_short(self) -> str:
        """``error_words`` for a table whose column says "measured vs predicted": "72% below", "as"."""
        if self.predicted is None or self.measured is None or not self.predicted:
            return "–"
        pct = (self.measured - self.predicted) / self.predicted * 100.0
        return f"{abs(pct):.0f}% {'below' if pct < 0 else 'above'}" if round(pct) else "as"


def compare(metric: str, unit: str, predicted: float | None, measured: float | None) -> Comparison:
    error = None
    if predicted is not None and measured:
        error = (predicted - measured) / measured * 100.0
    return Comparison(metric, unit, predicted, measured, error)


def predicted_aggregate_tps(
    streams: int, output_tokens: float, per_stream_tps: float | None, ttft_s: float | None
) -> float | None:
    """What a concurrency level should measure as ``aggregate_tps``, from predictions.

    The measured figure is tokens over the level's wall time, and that wall time holds the prefill of
    every stream's prompt as well as the decoding: ``streams × n / (TTFT + n / per-stream tok/s)``,
    with ``ttft_s`` the time to prefill all ``streams`` prompts (they are batched together) and ``n``
    the tokens each request generated. Leaving the prefill out flatters short answers.
    """
    if per_stream_tps is None or per_stream_tps <= 0 or output_tokens <= 0:
        return None
    return streams * output_tokens / ((ttft_s or 0.0) + output_tokens / per_stream_tps)


def predicted_vs_measured(
    *,
    decode_tps: tuple[float | None, float | None],
    prefill_tps: tuple[float | None, float | None],
    ttft_s: tuple[float | None, float | None],
    prompt_tokens: int = 0,
) -> tuple[Comparison, ...]:
    """The three rows shown side by side; each argument is ``(predicted, measured)``. The TTFT row names
    its prompt (``prompt_tokens``): a TTFT means nothing without the prompt it prefilled."""
    return (
        compare("decode tok/s", "tok/s", *decode_tps),
        compare("prefill tok/s", "tok/s", *prefill_tps),
        compare(f"TTFT, {prompt_tokens}-token prompt" if prompt_tokens else "TTFT", "s", *ttft_s),
    )


def comparisons(
    predictor: Predictor | None,
    shapes: Sequence[ShapeResult],
    levels: Sequence[ConcurrencyLevel],
    num_predict: int,
) -> tuple[tuple[Comparison, ...], dict[str, Any] | None]:
    """Predicted vs measured: decode from the chat shape, prefill and TTFT from the document shape
    (the estimator is asked about the prompt length the server actually counted), and the
    aggregate tok/s of each concurrency level, prefill included as in the measurement (``num_predict``
    stands for the tokens of a level none of whose requests finished). Also the predictions as the
    history stores them; ``((), None)`` without a predictor or a measured shape."""
    if predictor is None or not shapes:
        return (), None
    by_name = {s.shape: s for s in shapes}
    decode_shape = by_name.get("chat") or shapes[0]
    prefill_shape = by_name.get("document") or shapes[-1]
    tokens = int(prefill_shape.prompt_tokens or 0)
    # Decode speed falls with context depth, so it is predicted at the depth it was measured at.
    decode, _, _ = predictor(int(decode_shape.prompt_tokens or 0), 1)
    _, prefill, ttft = predictor(tokens, 1)
    measured_decode = decode_shape.client_decode_tps.median if decode_shape.client_decode_tps else None
    measured_prefill = prefill_shape.prompt_tps.median if prefill_shape.prompt_tps else None
    measured_ttft = prefill_shape.ttft_s.median if prefill_shape.ttft_s else None
    rows = list(
        predicted_vs_measured(
            decode_tps=(decode, measured_decode),
            prefill_tps=(prefill, measured_prefill),
            ttft_s=(ttft, measured_ttft),
            prompt_tokens=tokens,
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
        per_stream, _, _ = predictor(chat_prompt, level.streams)
        _, _, prefill_all = predictor(chat_prompt * level.streams, 1)
        generated = level.output_tokens / level.requests if level.requests else num_predict
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
