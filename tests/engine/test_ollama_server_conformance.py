"""Conformance of the Ollama-API test server, via the official `ollama` client and raw HTTP.

Every test runs against the loopback server (engine) and against the local Docker image (docker).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import httpx
import ollama
import pytest

from tests.ollama_server.fixtures import ServerHandle
from tests.ollama_server.wire import chunk_text, metrics_of, parse_ndjson_line

SMOL, GEMMA = "smollm2:135m", "gemma3:270m"
GEMMA_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"  # gemma3-270m package's own
FAST = {"num_predict": 12, "temperature": 0, "seed": 7}

# Architecture facts from the model cards (SmolLM2-135M, Gemma 3 270M): layers, heads, KV heads, width, ctx.
GGUF_FACTS = {
    SMOL: ("llama", 30, 9, 3, 576, 8192, "Q4_1", "134.52M"),
    GEMMA: ("gemma3", 18, 4, 1, 640, 32768, "Q4_K_M", "268.10M"),
}


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("loopback", marks=pytest.mark.engine),
        pytest.param("container", marks=pytest.mark.docker),
    ],
)
def server(request: pytest.FixtureRequest) -> ServerHandle:
    name = "ollama_server" if request.param == "loopback" else "ollama_container"
    handle: ServerHandle = request.getfixturevalue(name)
    return handle


def client(server: ServerHandle) -> ollama.Client:
    return ollama.Client(host=server.url, timeout=120)


def test_root_version_and_head(server: ServerHandle) -> None:
    root = httpx.get(server.url + "/")
    assert (root.status_code, root.text) == (200, "Ollama is running")
    assert httpx.head(server.url + "/").status_code == 200
    version = httpx.get(server.url + "/api/version").json()["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)


def test_list_reports_pulled_models_with_gguf_details(server: ServerHandle) -> None:
    listed = {m.model: m for m in client(server).list().models}
    assert set(listed) == {SMOL, GEMMA}
    for name, (family, *_rest, quant, psize) in GGUF_FACTS.items():
        model = listed[name]
        assert model.details is not None
        assert (model.details.family, model.details.quantization_level, model.details.parameter_size) == (
            family,
            quant,
            psize,
        )
        assert model.details.format == "gguf"
        assert re.fullmatch(r"[0-9a-f]{64}", model.digest or "")
        assert model.modified_at is not None
    assert 90e6 < listed[SMOL].size < 110e6 and 240e6 < listed[GEMMA].size < 270e6


def test_show_reports_the_gguf_metadata(server: ServerHandle) -> None:
    for name, (arch, blocks, heads, kv_heads, width, ctx, quant, _) in GGUF_FACTS.items():
        shown = client(server).show(name)
        info = shown.modelinfo or {}
        assert info["general.architecture"] == arch
        assert (
            info[f"{arch}.block_count"],
            info[f"{arch}.attention.head_count"],
            info[f"{arch}.attention.head_count_kv"],
            info[f"{arch}.embedding_length"],
            info[f"{arch}.context_length"],
        ) == (blocks, heads, kv_heads, width, ctx)
        assert info["general.parameter_count"] > 1e8
        assert shown.details is not None and shown.details.quantization_level == quant
        assert "completion" in (shown.capabilities or [])
        assert info.get("tokenizer.ggml.tokens") == []  # big arrays are emptied unless verbose


def test_pull_streamed_real_progress_then_success(server: ServerHandle) -> None:
    for name, lines in server.pulls.items():
        statuses = [line["status"] for line in lines]
        assert statuses[0] == "pulling manifest"
        assert statuses[-3:] == ["verifying sha256 digest", "writing manifest", "success"]
        model_lines = [line for line in lines if line.get("total", 0) > 10_000_000]
        completed = [line.get("completed", 0) for line in model_lines]
        assert completed == sorted(completed) and completed[-1] == model_lines[-1]["total"]
        assert len(model_lines) >= 2, "expected progress while the blob was copied"
        assert model_lines[0]["status"] == f"pulling {model_lines[0]['digest'][7:19]}"
        if name == GEMMA:
            assert model_lines[0]["digest"] == f"sha256:{GEMMA_SHA256}"
    # Pulling a held model again: the official client streams progress; the blob is already there.
    progress = list(client(server).pull(SMOL, stream=True))
    assert progress[0].status == "pulling manifest" and progress[-1].status == "success"
    blob = [p for p in progress if p.total and p.total > 10_000_000]
    assert len(blob) == 1 and blob[0].completed == blob[0].total


def _check_final(final: Any, wall_ns: int, limit: int) -> None:
    assert final.done is True and final.done_reason in ("stop", "length")
    assert 0 < final.eval_count <= limit
    # Ollama says "length" when num_predict cut the answer, "stop" when the model ended it before.
    assert final.done_reason == ("length" if final.eval_count == limit else "stop"), final
    assert final.prompt_eval_count > 0 and final.prompt_eval_duration > 0 and final.eval_duration > 0
    assert final.eval_duration + final.prompt_eval_duration <= final.total_duration <= wall_ns


def test_generate_streams_tokens_and_final_metrics(server: ServerHandle) -> None:
    start = time.monotonic_ns()
    chunks = list(client(server).generate(SMOL, "Why is the sky blue?", stream=True, options=FAST))
    wall = time.monotonic_ns() - start
    body, final = chunks[:-1], chunks[-1]
    assert body and all(c.done is False and c.model == SMOL for c in body)
    assert all(c.created_at for c in chunks)
    _check_final(final, wall, FAST["num_predict"])
    assert abs(len(body) - final.eval_count) <= 1  # one chunk per generated token (EOS has no text)


def test_generate_without_stream_and_deterministic_with_seed(server: ServerHandle) -> None:
    c = client(server)
    one = c.generate(SMOL, "Name a colour.", stream=False, options=FAST)
    two = c.generate(SMOL, "Name a colour.", stream=False, options=FAST)
    assert one.response and one.response == two.response
    # Re-sent prompt hits the prompt cache: Ollama ≥ 0.30 still counts cached tokens in prompt_eval_count.
    assert two.prompt_eval_count == one.prompt_eval_count


def test_chat_sync_stream_and_not(server: ServerHandle) -> None:
    c = client(server)
    messages = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Say hello."}]
    start = time.monotonic_ns()
    parts = list(c.chat(GEMMA, messages=messages, stream=True, options=FAST))
    wall = time.monotonic_ns() - start
    assert all(p.message.role == "assistant" for p in parts)
    assert "".join(p.message.content or "" for p in parts).strip()
    _check_final(parts[-1], wall, FAST["num_predict"])
    whole = c.chat(GEMMA, messages=messages, stream=False, options=FAST)
    assert whole.message.content and whole.done is True


async def test_async_client_generates_and_chats(server: ServerHandle) -> None:
    c = ollama.AsyncClient(host=server.url, timeout=120)
    listed = await c.list()
    assert {m.model for m in listed.models} == {SMOL, GEMMA}
    texts = [
        part.response async for part in await c.generate(SMOL, "Count: 1, 2,", stream=True, options=FAST)
    ]
    assert "".join(texts).strip()
    reply = await c.chat(GEMMA, messages=[{"role": "user", "content": "Hi"}], options=FAST)
    assert reply.done and reply.eval_count and reply.eval_count <= FAST["num_predict"]


def test_num_predict_limit_gives_length(server: ServerHandle) -> None:
    out = client(server).generate(GEMMA, "Write a long story about a dragon.", options={"num_predict": 5})
    assert (out.eval_count, out.done_reason) == (5, "length")


def test_final_metrics_are_llamacpp_timings(server: ServerHandle) -> None:
    prompt = f"nonce {time.time_ns()}: tell me about rivers."
    needle = 'msg="llama.cpp timings" model=smollm2:135m'
    before = len(server.log_lines(needle, timeout_s=0))
    out = client(server).generate(SMOL, prompt, options=FAST)
    timings = server.log_lines(needle, more_than=before)
    assert len(timings) > before, "the server logged no timings for this request"
    fields = dict(re.findall(r"(\w+)=(\S+)", timings[-1]))
    assert out.eval_count == int(fields["predicted_n"])
    assert out.eval_duration == round(float(fields["predicted_ms"]) * 1e6)
    assert out.prompt_eval_count == int(fields["cache_n"]) + int(fields["prompt_n"])
    assert out.prompt_eval_duration == round(float(fields["prompt_ms"]) * 1e6)


def test_live_ndjson_parses_like_the_documented_examples(server: ServerHandle) -> None:
    doc_chunk_keys = {"model", "created_at", "response", "done"}
    doc_final_keys = {
        "model",
        "created_at",
        "response",
        "done",
        "total_duration",
        "prompt_eval_count",
        "prompt_eval_duration",
        "eval_count",
        "eval_duration",
    }
    body = {"model": SMOL, "prompt": "Hello", "options": FAST}
    with httpx.stream("POST", server.url + "/api/generate", json=body, timeout=120) as resp:
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/x-ndjson")
        lines = [parse_ndjson_line(line) for line in resp.iter_lines() if line]
    assert all(set(line) == doc_chunk_keys for line in lines[:-1])
    assert doc_final_keys <= set(lines[-1]) and lines[-1]["done_reason"] in ("stop", "length")
    assert metrics_of(lines[-1]).eval_rate > 0
    chat = {"model": SMOL, "messages": [{"role": "user", "content": "Hi"}], "options": FAST}
    with httpx.stream("POST", server.url + "/api/chat", json=chat, timeout=120) as resp:
        chat_lines = [parse_ndjson_line(line) for line in resp.iter_lines() if line]
    assert chat_lines[-1]["message"] == {"role": "assistant", "content": ""}
    assert "".join(chunk_text(line) for line in chat_lines).strip()


def test_ps_lists_loaded_models(server: ServerHandle) -> None:
    client(server).generate(SMOL, "Hi", options={"num_predict": 1})
    loaded = {m.model: m for m in client(server).ps().models}
    assert SMOL in loaded
    assert loaded[SMOL].context_length == 4096 and loaded[SMOL].size_vram == 0
    assert loaded[SMOL].expires_at is not None and loaded[SMOL].expires_at.timestamp() > time.time() + 60


def test_unknown_model_is_404(server: ServerHandle) -> None:
    c = client(server)
    for call in (
        lambda: c.generate("nope:1b", "hi"),
        lambda: c.chat("nope:1b", messages=[]),
        lambda: c.show("nope:1b"),
    ):
        with pytest.raises(ollama.ResponseError) as err:
            call()
        assert err.value.status_code == 404 and err.value.error == "model 'nope:1b' not found"


def test_pull_of_unknown_model_is_200_then_error_line(server: ServerHandle) -> None:
    with httpx.stream("POST", server.url + "/api/pull", json={"model": "nope:1b"}) as resp:
        assert resp.status_code == 200
        lines = [json.loads(line) for line in resp.iter_lines() if line]
    assert lines == [{"status": "pulling manifest"}, {"error": "pull model manifest: file does not exist"}]
    with pytest.raises(ollama.ResponseError, match="file does not exist"):
        list(client(server).pull("nope:1b", stream=True))
    blocking = httpx.post(server.url + "/api/pull", json={"model": "nope:1b", "stream": False})
    assert blocking.status_code == 500 and "file does not exist" in blocking.json()["error"]


def test_openai_chat_completions_sse_with_usage(server: ServerHandle) -> None:
    body = {
        "model": SMOL,
        "messages": [{"role": "user", "content": "Say hi"}],
        "stream": True,
        "max_tokens": 8,
        "seed": 1,
        "temperature": 0,
        "stream_options": {"include_usage": True},
    }
    with httpx.stream("POST", server.url + "/v1/chat/completions", json=body, timeout=120) as resp:
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
        data = [line[6:] for line in resp.iter_lines() if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    events = [json.loads(d) for d in data[:-1]]
    usage = events[-1]
    assert usage["choices"] == [] and usage["usage"]["completion_tokens"] > 0
    assert (
        usage["usage"]["total_tokens"]
        == usage["usage"]["prompt_tokens"] + usage["usage"]["completion_tokens"]
    )
    finish = events[-2]["choices"][0]
    assert finish["finish_reason"] in ("stop", "length")
    deltas = [e["choices"][0]["delta"]["content"] for e in events[:-2]]
    assert all(e["object"] == "chat.completion.chunk" for e in events) and "".join(deltas)
    missing = httpx.post(server.url + "/v1/chat/completions", json={**body, "model": "nope:1b"})
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found_error"
