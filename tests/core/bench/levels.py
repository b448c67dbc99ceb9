"""A concurrency level as the sweep reports it, written in one line for the verdict tests."""

from __future__ import annotations

from toolkit.core.bench.concurrency import ConcurrencyLevel
from toolkit.core.stats import summarize


def level(
    streams: int, aggregate: float, per_stream: list[float], ttft_p95: float, errors: int = 0
) -> ConcurrencyLevel:
    """``streams`` at once: ``aggregate`` tok/s in all, each stream's rate, TTFT p95 (p50 half of it)."""
    return ConcurrencyLevel(
        streams=streams,
        requests=len(per_stream),
        errors=errors,
        wall_s=1.0,
        output_tokens=64 * len(per_stream),
        aggregate_tps=aggregate,
        per_stream_tps=summarize(per_stream),
        ttft_p50_s=ttft_p95 / 2,
        ttft_p95_s=ttft_p95,
    )
