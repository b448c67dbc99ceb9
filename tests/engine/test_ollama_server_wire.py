"""The verbatim examples from Ollama's docs (reference §1.7) parse with the same helper as live output."""

from __future__ import annotations

import pytest

from tests.ollama_server.wire import Metrics, StreamError, chunk_text, metrics_of, parse_ndjson_line

# Verbatim from shared/reference/ollama-docker-facts.md §1.7 ([OL] docs/api.md, docs/api/errors.mdx).
DOC_GENERATE_CHUNK = """{
  "model": "llama3.2",
  "created_at": "2023-08-04T08:52:19.385406455-07:00",
  "response": "The",
  "done": false
}"""
DOC_GENERATE_FINAL = """{
  "model": "llama3.2",
  "created_at": "2023-08-04T19:22:45.499127Z",
  "response": "",
  "done": true,
  "context": [1, 2, 3],
  "total_duration": 10706818083,
  "load_duration": 6338219291,
  "prompt_eval_count": 26,
  "prompt_eval_duration": 130079000,
  "eval_count": 259,
  "eval_duration": 4232710000
}"""
DOC_CHAT_FINAL = """{
  "model": "llama3.2",
  "created_at": "2025-07-07T20:22:19.19314Z",
  "message": {
    "role": "assistant",
    "content": ""
  },
  "done_reason": "stop",
  "done": true,
  "total_duration": 182242375,
  "load_duration": 41295167,
  "prompt_eval_count": 169,
  "prompt_eval_duration": 24573166,
  "eval_count": 15,
  "eval_duration": 115959084
}"""
DOC_MIDSTREAM_ERROR = """\
{"model":"gemma4","created_at":"2025-10-26T17:21:21.196249Z","response":" Yes","done":false}
{"model":"gemma4","created_at":"2025-10-26T17:21:21.207235Z","response":".","done":false}
{"error":"an error was encountered while running the model"}"""
DOC_PULL_PROGRESS = (
    """{"status": "pulling digestname", "digest": "digestname", "total": 2142590208, "completed": 241970}"""
)
DOC_PULL_LINES = """{"status": "pulling manifest"}
{"status": "verifying sha256 digest"}
{"status": "writing manifest"}
{"status": "removing any unused layers"}
{"status": "success"}"""


def test_generate_chunk_and_final_parse() -> None:
    chunk = parse_ndjson_line(DOC_GENERATE_CHUNK)
    assert chunk["done"] is False
    assert chunk_text(chunk) == "The"
    final = parse_ndjson_line(DOC_GENERATE_FINAL)
    metrics = metrics_of(final)
    assert metrics == Metrics(10706818083, 6338219291, 26, 130079000, 259, 4232710000)
    assert metrics.eval_rate == pytest.approx(61.19, abs=0.01)  # the docs' own worked example


def test_chat_final_parses_with_done_reason() -> None:
    final = parse_ndjson_line(DOC_CHAT_FINAL)
    assert final["done_reason"] == "stop"
    assert chunk_text(final) == ""
    assert metrics_of(final).eval_count == 15


def test_midstream_error_line_raises_after_good_chunks() -> None:
    lines = DOC_MIDSTREAM_ERROR.splitlines()
    assert len(lines) == 3
    texts = [chunk_text(parse_ndjson_line(line)) for line in lines[:2]]
    assert texts == [" Yes", "."]
    with pytest.raises(StreamError, match="an error was encountered while running the model"):
        parse_ndjson_line(lines[2])


def test_pull_lines_parse() -> None:
    progress = parse_ndjson_line(DOC_PULL_PROGRESS)
    assert progress["completed"] < progress["total"]
    statuses = [parse_ndjson_line(line)["status"] for line in DOC_PULL_LINES.splitlines()]
    assert statuses[0] == "pulling manifest" and statuses[-1] == "success"


def test_absent_metrics_default_to_zero() -> None:
    # omitempty: a final chunk without load_duration (model already loaded) still parses.
    final = parse_ndjson_line(b'{"model":"m","done":true,"eval_count":3,"eval_duration":1000000}')
    assert metrics_of(final) == Metrics(eval_count=3, eval_duration=1_000_000)


def test_non_object_line_is_rejected() -> None:
    with pytest.raises(ValueError):
        parse_ndjson_line("[1, 2]")
