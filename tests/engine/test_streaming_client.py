"""The streaming client against the real llama.cpp engine (both protocols, both models), and the
protocol failures no real server produces on demand (over httpx.MockTransport and the verbatim fixtures).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ollama_server import MODEL_NAMES
from toolkit.adapters.ollama.client import OllamaClient, Recorder
from toolkit.core.bench.metrics import RequestTrace, request_metrics
from toolkit.core.wire import Api
from toolkit.errors import ModelNotFoundError, OllamaUnreachableError, StreamError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ollama"
NUM_PREDICT = 96


def _messages(
    question: str = "Write a long, detailed story about a calm morning at a harbour.",
) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": f"Request {uuid.uuid4().hex[:8]}."},
        {"role": "user", "content": question},
    ]


async def _run(
    client: OllamaClient, model: str, messages: list[dict[str, str]] | None = None
) -> RequestTrace:
    options = {"temperature": 0, "seed": 7, "num_predict": NUM_PREDICT}
    recorder = Recorder(time.perf_counter())
    return await recorder.consume(client.stream_chat(model, messages or _messages(), options=options))


# --- real engine ------------------------------------------------------------------------------------


@pytest.mark.engine
@pytest.mark.parametrize("model", MODEL_NAMES)
async def test_native_client_rate_matches_llama_cpp(ollama_server: Any, model: str) -> None:
    async with OllamaClient(ollama_server.url) as client:
        await _run(client, model)  # warm-up: load the model
        trace = await _run(client, model)
    assert trace.server is not None
    metrics = request_metrics(trace)
    assert metrics.client_decode_tps is not None and metrics.server_decode_tps is not None
    # The client's clock and llama.cpp's own timing of the same tokens agree within 3%.
    assert metrics.client_decode_tps == pytest.approx(metrics.server_decode_tps, rel=0.03)
    # TTFT (client) contains the server's prefill, and the counts are the server's.
    assert metrics.prompt_eval_s is not None and metrics.ttft_s is not None
    assert metrics.ttft_s >= metrics.prompt_eval_s
    # The model may end its answer (EOS) before num_predict, even at temperature 0: the system line
    # differs per request. The counts are then the server's, and the reason says which limit ended it.
    generated = trace.server.eval_count
    assert generated is not None and metrics.output_tokens == generated
    assert 24 <= generated <= NUM_PREDICT  # enough tokens for the rate comparison to mean something
    assert trace.server.done_reason == ("length" if generated == NUM_PREDICT else "stop")
    # Each token arrives as one chunk (at most a couple carry a partial UTF-8 character and no text).
    assert generated - 2 <= metrics.chunks <= generated
    assert len(trace.text) > generated  # real words came back


@pytest.mark.engine
@pytest.mark.parametrize("model", MODEL_NAMES)
async def test_openai_protocol_counts_match_native(ollama_server: Any, model: str) -> None:
    messages = _messages("Name three kinds of boats.")
    async with OllamaClient(ollama_server.url, "openai") as sse, OllamaClient(ollama_server.url) as native:
        openai_trace = await _run(sse, model, messages)
        native_trace = await _run(native, model, messages)
    assert openai_trace.server is not None and native_trace.server is not None
    # SSE has counts but no timings; the same prompt is the same number of tokens on both protocols.
    assert openai_trace.server.eval_duration_ns is None
    assert openai_trace.server.prompt_eval_count == native_trace.server.prompt_eval_count
    # The model may end its answer (EOS) before num_predict; the usage count must match what streamed.
    generated = openai_trace.server.eval_count
    assert generated is not None and 0 < generated <= NUM_PREDICT
    metrics = request_metrics(openai_trace)
    # A rate in tok/s of this machine, whatever its speed: the native request's own server timing, taken
    # a moment later in the same run, is within a factor of three.
    native_rate = request_metrics(native_trace).server_decode_tps
    assert metrics.client_decode_tps is not None and native_rate is not None
    assert native_rate / 3 < metrics.client_decode_tps < native_rate * 3, (metrics, native_rate)
    assert metrics.server_decode_tps is None
    assert generated - 2 <= metrics.chunks <= generated


@pytest.mark.engine
async def test_generate_endpoint_and_helpers(ollama_server: Any) -> None:
    async with OllamaClient(ollama_server.url) as client:
        assert await client.version()
        assert set(MODEL_NAMES) <= set(await client.list_models())
        show = await client.show("smollm2:135m")
        assert show["details"]["quantization_level"]
        assert any(m.get("size", 0) > 0 for m in await client.tags())
        recorder = Recorder(time.perf_counter())
        events = client.stream_generate(
            "smollm2:135m", "Count: one, two,", options={"num_predict": 8, "temperature": 0}
        )
        trace = await recorder.consume(events)
    assert trace.server is not None and trace.server.eval_count == 8


@pytest.mark.engine
@pytest.mark.parametrize("api", ["ollama", "openai"])
async def test_unknown_model_is_model_not_found(ollama_server: Any, api: Api) -> None:
    async with OllamaClient(ollama_server.url, api) as client:
        with pytest.raises(ModelNotFoundError, match="no-such-model"):
            await _run(client, "no-such-model:1b")


async def test_nothing_listening_is_unreachable() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # The port is free again: nothing listens there.
    async with OllamaClient(f"http://127.0.0.1:{port}") as client:
        with pytest.raises(OllamaUnreachableError, match="nothing answers"):
            await _run(client, "smollm2:135m")


# --- protocol failures (MockTransport: a real server cannot be made to send these on demand) --------


def _mock(body: bytes, status: int = 200, content_type: str = "application/x-ndjson") -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"content-type": content_type})

    return httpx.MockTransport(handler)


async def _trace_with(
    transport: httpx.MockTransport, api: Api = "ollama"
) -> tuple[Recorder, Callable[[], Any]]:
    client = OllamaClient("http://127.0.0.1:9", api, transport=transport)
    recorder = Recorder(time.perf_counter())

    async def run() -> RequestTrace:
        async with client:
            return await recorder.consume(client.stream_chat("m", _messages()))

    return recorder, run


async def test_midstream_error_line_keeps_partial_answer() -> None:
    body = (FIXTURES / "midstream_error.ndjson").read_bytes()
    recorder, run = await _trace_with(_mock(body))
    with pytest.raises(StreamError, match="an error was encountered while running the model"):
        await run()
    # Fixture chunks use "response" (generate shape): the client reads both chat and generate chunks.
    assert recorder.partial().text == " Yes."


async def test_malformed_line_is_a_stream_error() -> None:
    body = b'{"message":{"role":"assistant","content":"Hi"},"done":false}\n{not json\n'
    recorder, run = await _trace_with(_mock(body))
    with pytest.raises(StreamError, match="malformed line"):
        await run()
    assert recorder.partial().text == "Hi"


async def test_stream_without_final_chunk_is_a_stream_error() -> None:
    body = b'{"message":{"role":"assistant","content":"Hi"}}\n'  # ollama-python fixtures omit "done"
    _, run = await _trace_with(_mock(body))
    with pytest.raises(StreamError, match="without its final statistics"):
        await run()


async def test_verbatim_final_chunk_parsed() -> None:
    final = (FIXTURES / "chat_final.json").read_text().strip().encode()
    body = b'{"message":{"role":"assistant","content":"The"},"done":false}\n' + final + b"\n"
    _, run = await _trace_with(_mock(body))
    trace = await run()
    assert trace.text == "The"
    assert trace.server.eval_count == 15 and trace.server.done_reason == "stop"


async def test_openai_sse_fixture_and_missing_usage() -> None:
    sse = (FIXTURES / "openai_stream.sse").read_bytes()
    _, run = await _trace_with(_mock(sse, content_type="text/event-stream"), "openai")
    trace = await run()
    assert trace.text == "The sky"
    assert trace.server.eval_count == 2 and trace.server.done_reason == "length"
    without_usage = b"\n".join(line for line in sse.split(b"\n") if b'"usage"' not in line)
    _, run = await _trace_with(_mock(without_usage, content_type="text/event-stream"), "openai")
    with pytest.raises(StreamError, match="usage"):
        await run()


@pytest.mark.parametrize(
    ("status", "body", "error", "match"),
    [
        (404, b'{"error":"model \'x\' not found"}', ModelNotFoundError, "not found"),
        (503, b'{"error":"server busy, please try again.  maximum pending requests exceeded"}', None, "busy"),
        (
            404,
            b'{"error":{"message":"model not found","type":"not_found_error"}}',
            ModelNotFoundError,
            "model",
        ),
    ],
)
async def test_http_errors_translate(
    status: int, body: bytes, error: type[Exception] | None, match: str
) -> None:
    from toolkit.errors import ServerBusyError

    _, run = await _trace_with(_mock(body, status=status, content_type="application/json"))
    with pytest.raises(error or ServerBusyError, match=match):
        await run()
