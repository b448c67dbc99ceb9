"""Benchmark arithmetic over the verbatim Ollama fixtures and hand-computed timings."""

from __future__ import annotations

import json

import pytest

from tests import paths
from toolkit.core.bench.metrics import RequestTrace, ServerTimings, request_metrics, shape_result

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
