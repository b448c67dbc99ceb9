"""Knobs, measurements and trials for the tuning tests, written short."""

from __future__ import annotations

from toolkit.core.tune.knobs import Knobs, Measurement, Trial, TuneCandidate

START = Knobs(num_parallel=1, num_thread=2, flash_attention=True, kv_cache_type="f16", context_length=4096)


def memory(knobs: Knobs) -> int:
    """A model's memory under ``knobs``: 500 MiB of weights + 100 MiB of KV per slot per 4k of context
    (halved by q8_0)."""
    kv = 100 * 1024**2 * knobs.num_parallel * knobs.context_length // 4096
    return 500 * 1024**2 + (kv // 2 if knobs.kv_cache_type == "q8_0" else kv)


def measured(
    decode: float = 50.0, agg: float = 50.0, p95: float = 1.0, mem: int | None = None
) -> Measurement:
    return Measurement(
        streams=1, requests=4, decode_tps=decode, aggregate_tps=agg, ttft_p50_s=p95 / 2, ttft_p95_s=p95,
        memory_bytes=mem, seconds=5.0,
    )  # fmt: skip


def trial(knobs: Knobs, *runs: Measurement) -> Trial:
    return Trial(TuneCandidate(knobs, "test"), runs)
