"""Thinking models: the capability read from `/api/show`, and what bench and chat say about thinking."""

from __future__ import annotations

from dataclasses import replace

from toolkit.core.bench.config import BenchResult
from toolkit.core.bench.metrics import RequestTrace, ServerTimings, shape_result
from toolkit.core.catalog.thinking import (
    OFF_OLLAMA,
    OFF_OPENAI,
    bench_lines,
    chat_note,
    model_thinks,
    served_thinking_warning,
    thinking_line,
)


def test_the_capability_is_read_only_when_listed() -> None:
    assert model_thinks({"capabilities": ["completion", "thinking"]}) is True
    assert model_thinks({"capabilities": ["completion"]}) is False
    # Ollama before 0.6.4 lists no capabilities: unknown, not "does not think".
    assert model_thinks({}) is None
    assert model_thinks({"capabilities": "thinking"}) is None


def test_thinking_off_says_how_and_owns_up_to_reasoning_the_server_sent() -> None:
    off = thinking_line(False, 0)
    assert off.startswith("thinking: off") and OFF_OLLAMA in off and OFF_OPENAI in off
    assert "but the server still sent" not in off
    assert "but the server still sent ~12 reasoning chunks" in thinking_line(False, 12.4)
    on = thinking_line(True, 30)
    assert on.startswith("thinking: on (asked)") and "~30 reasoning chunks" in on


def test_chat_note_names_the_model_and_the_setting() -> None:
    assert chat_note("qwen3:0.6b", False) == "(qwen3:0.6b can think: thinking off; TTFT is to the answer)"
    assert "thinking on (--think)" in chat_note("qwen3:0.6b", True)


def test_bench_lines_follow_what_was_measured_and_served() -> None:
    timings = ServerTimings(prompt_eval_count=10, eval_count=2)
    shape = replace(shape_result("chat", [RequestTrace(0.0, (0.1, 0.2), 0.2, timings)]), reasoning_chunks=5.0)
    result = BenchResult(run_id=None, status="complete", model="qwen3:0.6b", api="ollama", url="u")
    assert bench_lines(result) == []
    measured = replace(result, shapes=(shape,), model_thinks=True)
    assert bench_lines(measured) == [thinking_line(False, 5.0), served_thinking_warning("qwen3:0.6b")]
    assert bench_lines(replace(measured, model_thinks=False)) == [thinking_line(False, 5.0)]
    assert "qwen3:0.6b can think" in served_thinking_warning("qwen3:0.6b")
