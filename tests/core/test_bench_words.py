"""Benchmark and chat figures say what they are (issue 25 item 4): one meaning of TTFT and of decode
tok/s, errors signed as "measured is X% below/above predicted", a stopped run listed as cancelled."""

from __future__ import annotations

import pytest

from toolkit.cli.chat_repl import stats_line
from toolkit.cli.render_bench import format_result, history_lines
from toolkit.core.bench.compare import compare, predicted_vs_measured
from toolkit.core.bench.config import BenchResult
from toolkit.core.bench.metrics import (
    DECODE_MEANS,
    TTFT_MEANS,
    RequestTrace,
    ServerTimings,
    answer_figures,
    request_metrics,
    shape_result,
)
from toolkit.core.bench.run import RunRow, cancel_message, is_cancelled, status_label


def _trace() -> RequestTrace:
    # Sent at 0, first token at 0.3 s, 10 tokens by 1.2 s: 9 tokens after the first in 0.9 s.
    times = tuple(0.3 + 0.1 * i for i in range(10))
    return RequestTrace(0.0, times, 1.2, ServerTimings(prompt_eval_count=40, eval_count=10))


def test_chat_shows_the_benchmark_figures_by_the_same_definitions() -> None:
    trace = _trace()
    metrics = request_metrics(trace)
    assert metrics.client_decode_tps == pytest.approx(10.0)
    assert answer_figures(trace) == "10 tokens · decode 10.0 tok/s · TTFT 300 ms"
    assert stats_line(trace) == "[10 tokens · decode 10.0 tok/s · TTFT 300 ms]"
    # While streaming: the chunks so far, the same formula, marked approximate. A live rate measured
    # from the request's start (TTFT inside it) would read 7.5 tok/s here and disagree with the end.
    partial = RequestTrace(0.0, trace.content_times[:6], None, None)
    assert answer_figures(partial, live=True) == "6 tokens · decode ~10.0 tok/s · TTFT 300 ms"


def test_a_ttft_names_its_prompt_and_errors_read_measured_against_predicted() -> None:
    decode, _, ttft = predicted_vs_measured(
        decode_tps=(83.5, 23.3), prefill_tps=(None, 900.0), ttft_s=(0.5, 1.0), prompt_tokens=250
    )
    assert ttft.metric == "TTFT, 250-token prompt"
    assert decode.error_words == "measured is 72% below predicted"
    assert decode.error_short == "72% below"
    assert ttft.error_words == "measured is 100% above predicted"
    assert compare("x", "s", 1.0, 1.001).error_words == "measured is as predicted"
    assert compare("x", "s", None, 1.0).error_words == "–"


def test_a_stopped_run_is_cancelled_with_what_it_finished_not_an_error() -> None:
    assert cancel_message("SIGTERM", 3) == "cancelled (SIGTERM) after 3 requests"
    assert is_cancelled(cancel_message("", 0)) and is_cancelled("interrupted before the run finished")
    assert not is_cancelled("the server closed the stream")
    assert status_label("incomplete", cancel_message("", 3), 3) == "cancelled (3 requests)"
    assert status_label("failed", cancel_message("", 0), 0) == "cancelled (nothing finished)"
    assert status_label("failed", "the server closed the stream", 0) == "failed"
    shape = shape_result("chat", [_trace()])
    result = BenchResult(
        run_id=7, status="incomplete", model="m:1", api="ollama", url="http://127.0.0.1:1",
        shapes=(shape,), error=cancel_message("", 1),
    )  # fmt: skip
    text = "\n".join(format_result(result))
    assert "m:1 at http://127.0.0.1:1 (ollama): cancelled (1 request), run #7" in text
    assert "stopped by an error" not in text
    assert TTFT_MEANS in text and DECODE_MEANS in text


def test_history_names_the_prompt_of_its_figures_and_lists_a_cancelled_run() -> None:
    run = RunRow(
        id=3, started_at="2026-12-07T10:00:00", finished_at=None, status="incomplete", model="m", tag="1",
        quantization=None, engine_version=None, api="ollama", url="u", power_source=None, settings={},
        machine=None, predicted=None,
        summary={"shapes": [shape_result("chat", [_trace()]).to_dict()], "concurrency": []},
        error=cancel_message("", 1), requests=1,
    )  # fmt: skip
    lines = history_lines([run])
    assert "chat decode tok/s" in lines[0] and "chat TTFT s" in lines[0]
    assert "cancelled (1 request)" in lines[1] and "10.0" in lines[1] and "0.300" in lines[1]
    assert TTFT_MEANS in lines and DECODE_MEANS in lines


def test_a_plan_says_its_time_bound_as_a_bound() -> None:
    from toolkit.core.bench.schedule import QUICK, duration_words

    words = duration_words(QUICK.max_seconds)
    assert words.startswith("no new request after 15 s;") and "about" not in words
