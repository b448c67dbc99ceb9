"""Benchmark arithmetic over the verbatim Ollama fixtures and hand-computed timings."""

from __future__ import annotations

import json

import pytest

from tests import paths
from toolkit.core.bench.compare import compare, predicted_aggregate_tps, predicted_vs_measured
from toolkit.core.bench.concurrency import (
    ConcurrencyLevel,
    concurrency_level,
    recommend_num_parallel,
    users_per_grade,
)
from toolkit.core.bench.metrics import RequestTrace, ServerTimings, request_metrics, shape_result
from toolkit.core.stats import percentile, summarize

FIXTURES = paths.FIXTURES / "ollama"


def _final(name: str) -> dict[str, object]:
    if name.endswith(".ndjson"):
        lines = (FIXTURES / name).read_text(encoding="utf-8").splitlines()
        return dict(json.loads(lines[-1]))
    return dict(json.loads((FIXTURES / name).read_text(encoding="utf-8")))


def test_server_timings_from_generate_fixture() -> None:
    timings = ServerTimings.from_ollama(_final("generate_stream.ndjson"))
    assert timings.eval_count == 259
    assert timings.eval_duration_ns == 4232710000
    assert timings.load_duration_ns == 6338219291
    assert timings.done_reason is None


def test_omitted_metrics_default_to_zero() -> None:
    # All six metrics are omitempty: a zero load_duration is simply absent.
    final = _final("chat_final.json")
    del final["load_duration"]
    timings = ServerTimings.from_ollama(final)
    assert timings.load_duration_ns == 0
    assert timings.done_reason == "stop"
    assert request_metrics(RequestTrace(0.0, (0.1, 0.2), 0.3, timings)).load_s == 0.0


def test_server_decode_rate_matches_ollama_docs_example() -> None:
    # docs/api.md: eval rate = 259 / 4.23271 s ≈ 61.19 tok/s.
    timings = ServerTimings.from_ollama(_final("generate_stream.ndjson"))
    metrics = request_metrics(RequestTrace(0.0, (6.5,), 10.7, timings))
    assert metrics.server_decode_tps == pytest.approx(61.19, abs=0.01)
    assert metrics.prompt_tps == pytest.approx(26 / 0.130079)
    assert metrics.load_s == pytest.approx(6.338219291)


def test_client_metrics_from_clock_readings() -> None:
    # 11 tokens, one chunk every 0.1 s after a first token at 0.5 s; done arrives with the last chunk.
    times = tuple(0.5 + 0.1 * i for i in range(11))
    timings = ServerTimings(prompt_eval_count=20, eval_count=11, eval_duration_ns=1_100_000_000)
    metrics = request_metrics(RequestTrace(0.2, times, times[-1] + 0.001, timings, "x" * 11))
    assert metrics.ttft_s == pytest.approx(0.3)
    # (eval_count − 1) / (t_end − t_first) = 10 / 1.001
    assert metrics.client_decode_tps == pytest.approx(10 / 1.001)
    assert metrics.server_decode_tps == pytest.approx(10.0)
    assert metrics.itl_p50_s == pytest.approx(0.1)
    assert metrics.total_s == pytest.approx(1.301)
    assert metrics.output_tokens == 11 and metrics.chunks == 11


def test_token_count_comes_from_server_not_chunks() -> None:
    # 3 chunks that carried 9 tokens between them: the rate uses 9, not 3.
    timings = ServerTimings(prompt_eval_count=5, eval_count=9, eval_duration_ns=800_000_000)
    metrics = request_metrics(RequestTrace(0.0, (0.1, 0.5, 0.9), 0.9, timings))
    assert metrics.client_decode_tps == pytest.approx(8 / 0.8)
    assert metrics.chunks == 3


def test_broken_stream_has_no_rates() -> None:
    metrics = request_metrics(RequestTrace(0.0, (0.4, 0.5), None, None))
    assert metrics.ttft_s == pytest.approx(0.4)
    assert metrics.client_decode_tps is None and metrics.server_decode_tps is None
    assert metrics.output_tokens is None


def test_openai_usage_has_counts_only() -> None:
    payloads = [line[5:].strip() for line in (FIXTURES / "openai_stream.sse").read_text().splitlines()]
    lines = [json.loads(p) for p in payloads if p and p != "[DONE]"]
    usage_chunk = next(d for d in lines if isinstance(d, dict) and d.get("usage"))
    assert usage_chunk["choices"] == []
    timings = ServerTimings.from_openai_usage(usage_chunk["usage"], "length")
    metrics = request_metrics(RequestTrace(0.0, (0.2, 0.3), 0.31, timings))
    assert timings.eval_count == 2 and timings.prompt_eval_count == 26
    assert metrics.server_decode_tps is None and metrics.prompt_tps is None
    assert metrics.client_decode_tps == pytest.approx(1 / 0.11)


def test_percentile_interpolates_like_numpy() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 10.0]
    assert percentile(values, 50) == 3.0
    assert percentile(values, 95) == pytest.approx(8.8)  # numpy.percentile(values, 95)
    assert percentile([7.0], 95) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_summary_spread() -> None:
    summary = summarize([100.0, 110.0, None, 90.0])
    assert summary is not None
    assert summary.n == 3 and summary.median == 100.0
    assert summary.spread_pct == pytest.approx(20.0)
    assert summarize([None]) is None


def test_shape_result_pools_gaps_and_uses_medians() -> None:
    timings = ServerTimings(prompt_eval_count=30, eval_count=5, eval_duration_ns=400_000_000)
    fast = RequestTrace(0.0, (0.1, 0.2, 0.3, 0.4, 0.5), 0.5, timings)
    slow = RequestTrace(1.0, (1.3, 1.5, 1.7, 1.9, 2.1), 2.1, timings)
    result = shape_result("chat", [fast, slow])
    assert result.requests == 2
    assert result.client_decode_tps is not None
    assert result.client_decode_tps.median == pytest.approx((10.0 + 5.0) / 2)
    assert result.itl_p95_s == pytest.approx(0.2)
    assert result.output_tokens == 5
    assert result.to_dict()["ttft_s"]["max"] == pytest.approx(0.3)


def _level(
    streams: int, per_stream: list[float], ttfts: list[float], wall: float, tokens: int = 100
) -> ConcurrencyLevel:
    traces = []
    for rate, ttft in zip(per_stream, ttfts, strict=True):
        span = (tokens - 1) / rate
        timings = ServerTimings(prompt_eval_count=10, eval_count=tokens)
        traces.append(RequestTrace(0.0, (ttft, ttft + span), ttft + span, timings))
    return concurrency_level(streams, traces, wall)


def test_concurrency_table_grades_and_num_parallel() -> None:
    one = _level(1, [120.0], [0.05], wall=0.9)
    two = _level(2, [80.0, 78.0], [0.1, 0.2], wall=1.35)
    four = _level(4, [40.0, 39.0, 41.0, 38.0], [0.2, 0.3, 0.5, 0.6], wall=2.7)
    eight = _level(8, [20.0] * 7 + [14.0], [1.0] * 8, wall=5.5)
    levels = [one, two, four, eight]
    assert two.aggregate_tps == pytest.approx(200 / 1.35)
    assert two.per_stream_tps is not None
    assert two.per_stream_tps.min == pytest.approx(78.0)
    # 70 tok/s: 2 streams (78 ≥ 70); 30: up to 4; 15: 4, because one of 8 streams fell to 14 tok/s.
    assert users_per_grade(levels) == {70.0: 2, 30.0: 4, 15.0: 4}
    # Aggregates: 111, 148, 148, 145 → 2 streams reach 90% of the best with the least memory.
    assert recommend_num_parallel(levels) == 2


def test_queued_users_are_not_held_when_ttft_explodes() -> None:
    queued = _level(4, [120.0] * 4, [0.1, 1.0, 12.0, 13.0], wall=4.0)
    assert users_per_grade([queued], ttft_limit_s=10.0)[70.0] == 0
    assert users_per_grade([queued], ttft_limit_s=20.0)[70.0] == 4
    assert recommend_num_parallel([]) == 1


def test_failed_requests_disqualify_a_level() -> None:
    timings = ServerTimings(prompt_eval_count=10, eval_count=50)
    level = concurrency_level(2, [RequestTrace(0.0, (0.1, 0.6), 0.6, timings)], 1.0, errors=1)
    assert level.errors == 1
    assert users_per_grade([level])[15.0] == 0


def test_predicted_vs_measured_error_percent() -> None:
    rows = predicted_vs_measured(decode_tps=(100.0, 120.0), prefill_tps=(None, 900.0), ttft_s=(0.5, 0.4))
    decode, prefill, ttft = rows
    assert decode.error_pct == pytest.approx(-16.6667, abs=1e-3)
    assert prefill.error_pct is None
    assert ttft.error_pct == pytest.approx(25.0)
    assert compare("x", "s", 1.0, 0.0).error_pct is None


def test_predicted_aggregate_counts_the_prefill_the_measurement_contains() -> None:
    # One stream, 48 tokens at 51.4 tok/s after a 0.4 s TTFT: 48 / 1.334 s, not 51.4.
    assert predicted_aggregate_tps(1, 48, 51.4, 0.4) == pytest.approx(48 / (0.4 + 48 / 51.4))
    # Two streams share the prefill of both prompts, then decode side by side.
    assert predicted_aggregate_tps(2, 48, 40.0, 0.8) == pytest.approx(96 / (0.8 + 1.2))
    # Long answers approach streams × per-stream speed.
    assert predicted_aggregate_tps(4, 100_000, 10.0, 2.0) == pytest.approx(40.0, rel=1e-3)
    assert predicted_aggregate_tps(1, 48, None, 0.4) is None
    assert predicted_aggregate_tps(1, 48, 50.0, None) == pytest.approx(50.0)
