"""A model that can think, served as Ollama serves one, and what gpuless does with it.

Ollama's rules (read at v0.33.0-rc2, fb3076099):
- the "thinking" capability comes from the template's thinking tags (server/images.go:255, InferTags);
- a request that says nothing about thinking gets it on when the model can think (server/routes.go:456
  generate, :2618 chat), and `think: true` on a model that cannot is 400 (:460, :2626);
- on /v1/chat/completions only `reasoning_effort: "none"` (or `reasoning.effort`) turns it off
  (openai/openai.go:531 thinkFromReasoningEffort, :699); reasoning arrives in `delta.reasoning`
  (openai/openai.go:46) and `usage.completion_tokens` is `eval_count`, reasoning included (:401).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests import cli_run
from tests.ollama_server.fixtures import ServerHandle
from tests.ollama_server.wire import parse_ndjson_line

THINK = "smollm2-think:135m"
ASK = [{"role": "user", "content": "What is the capital of France?"}]

pytestmark = pytest.mark.engine


@pytest.fixture
def thinker(ollama_thinking_server: ServerHandle) -> ServerHandle:
    return ollama_thinking_server


def _chat(server: ServerHandle, **fields: Any) -> list[dict[str, Any]]:
    body = {"model": THINK, "messages": ASK, "options": {"num_predict": 40, "temperature": 0, "seed": 1}}
    with httpx.stream("POST", server.url + "/api/chat", json={**body, **fields}, timeout=120) as resp:
        assert resp.status_code == 200
        return [parse_ndjson_line(line) for line in resp.iter_lines() if line]


def _sse(server: ServerHandle, **fields: Any) -> list[dict[str, Any]]:
    body = {"model": THINK, "messages": ASK, "stream": True, "max_tokens": 40, "temperature": 0,
            "seed": 1, "stream_options": {"include_usage": True}}  # fmt: skip
    with httpx.stream(
        "POST", server.url + "/v1/chat/completions", json={**body, **fields}, timeout=120
    ) as resp:
        assert resp.status_code == 200
        lines = [line[6:] for line in resp.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    return [json.loads(line) for line in lines[:-1]]


def _deltas(chunks: list[dict[str, Any]], field: str) -> str:
    return "".join(c["choices"][0]["delta"].get(field, "") for c in chunks if c["choices"])


def test_capability_comes_from_the_template(thinker: ServerHandle) -> None:
    show = httpx.post(thinker.url + "/api/show", json={"model": THINK}).json()
    assert show["capabilities"] == ["completion", "thinking"] and "<think>" in show["template"]
    plain = httpx.post(thinker.url + "/api/show", json={"model": "smollm2:135m"}).json()
    assert plain["capabilities"] == ["completion"]
    # think:true on a model that cannot think is a 400 (server/routes.go:2626).
    refused = httpx.post(
        thinker.url + "/api/chat", json={"model": "smollm2:135m", "messages": ASK, "think": True}
    )
    assert refused.status_code == 400 and "does not support thinking" in refused.json()["error"]


def test_native_api_thinks_unless_told(thinker: ServerHandle) -> None:
    silent = _chat(thinker)  # says nothing: thinking on
    thought = "".join(c["message"].get("thinking", "") for c in silent)
    answer = "".join(c["message"]["content"] for c in silent)
    assert thought.strip() and answer.strip()
    assert all(not (c["message"].get("thinking") and c["message"]["content"]) for c in silent)
    assert silent[-1]["eval_count"] > len([c for c in silent if c["message"]["content"]])  # reasoning counted
    off = _chat(thinker, think=False)
    assert not any(c["message"].get("thinking") for c in off) and "".join(
        c["message"]["content"] for c in off
    )


def test_openai_api_thinks_unless_reasoning_effort_none(thinker: ServerHandle) -> None:
    silent = _sse(thinker)
    assert _deltas(silent, "reasoning").strip() and _deltas(silent, "content").strip()
    usage = silent[-1]["usage"]
    content_chunks = sum(1 for c in silent if c["choices"] and c["choices"][0]["delta"].get("content"))
    assert usage["completion_tokens"] > content_chunks  # the reasoning is counted in completion_tokens
    off = _sse(thinker, reasoning_effort="none")
    assert _deltas(off, "reasoning") == "" and _deltas(off, "content").strip()
    low = _sse(thinker, reasoning={"effort": "low"})  # any other effort is thinking on
    assert _deltas(low, "reasoning").strip()
    bad = httpx.post(thinker.url + "/v1/chat/completions", json={"model": THINK, "messages": ASK,
                                                                  "reasoning_effort": "lots"})  # fmt: skip
    assert bad.status_code == 400 and "invalid reasoning value" in bad.json()["error"]["message"]


def test_the_official_openai_client_gets_thinking_off(thinker: ServerHandle) -> None:
    client = openai.OpenAI(base_url=thinker.url + "/v1", api_key="ollama")
    reply = client.chat.completions.create(model=THINK, messages=ASK, max_tokens=30, reasoning_effort="none")  # type: ignore[arg-type]
    assert reply.choices[0].message.content and not getattr(reply.choices[0].message, "reasoning", None)


def _bench(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GPULESS_DATA_DIR": str(tmp_path / "data")}
    return subprocess.run(
        cli_run.command("bench", "--url", url, "--model", THINK, "--shape", "chat",
         "--concurrency", "none", "--max-seconds", "300", "--no-history", *args),
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip


def _shape(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["model_thinks"] is True
    shape: dict[str, Any] = result["shapes"][0]
    return shape


def test_bench_openai_matches_ollama_with_thinking_off(thinker: ServerHandle) -> None:
    """gpuless bench's runner on both APIs, thinking off: the same TTFT and decode rate within 10%.

    Measured in one run, the APIs taking turns, and compared as ratios: each request's reading is divided
    by the engine's own timing of that request (llama.cpp's, from the server log), so a busy spell on the
    shared machine, which slows both alike, cancels out. Without ``reasoning_effort: "none"`` the OpenAI
    side would think first: its TTFT would hold ~24 reasoning tokens (the --think run of
    test_bench_says_what_it_did_about_thinking shows that side)."""
    import asyncio
    import re
    import statistics

    from toolkit.adapters.bench.runner import BenchRunner
    from toolkit.core.bench.config import BenchConfig

    needle = f'msg="llama.cpp timings" model={THINK}'
    seen: dict[str, list[tuple[dict[str, Any], dict[str, float]]]] = {"ollama": [], "openai": []}
    logged = [len(thinker.log_lines(needle, timeout_s=0))]

    def record(api: str, metrics: Any) -> None:
        lines = thinker.log_lines(needle, more_than=logged[0])
        logged[0] = len(lines)
        engine = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", lines[-1])}
        seen[api].append((dict(metrics), engine))

    for _ in range(3):
        for api in seen:
            config = BenchConfig(model=THINK, url=thinker.url, api=api, reps=3, num_predict=24,  # type: ignore[arg-type]
                                 shapes=("chat",), concurrency=(), max_seconds=600)  # fmt: skip
            runner = BenchRunner(config, on_request=lambda _p, _s, _n, m, api=api: record(api, m))
            result = asyncio.run(runner.run())
            assert result.status == "complete" and result.model_thinks is True and result.think is False
    for api, rows in seen.items():
        assert len(rows) == 9 and all(m["reasoning_chunks"] == 0 for m, _ in rows), api  # thinking was off
        assert all(m["output_tokens"] == 24 == e["predicted_n"] for m, e in rows), api

    def share(api: str, key: str) -> float:
        """Median over requests of gpuless's reading ÷ the engine's own figure for that request."""
        if key == "ttft_s":  # prefill plus one decode step, as llama.cpp timed them
            return statistics.median(
                m[key] / ((e["prompt_ms"] + e["predicted_ms"] / e["predicted_n"]) / 1e3) for m, e in seen[api]
            )
        return statistics.median(m[key] / (e["predicted_n"] / e["predicted_ms"] * 1e3) for m, e in seen[api])

    ttft = share("openai", "ttft_s") / share("ollama", "ttft_s")
    decode = share("openai", "client_decode_tps") / share("ollama", "client_decode_tps")
    raw = {a: statistics.median(m["client_decode_tps"] for m, _ in rows) for a, rows in seen.items()}
    print(f"openai/ollama, thinking off: TTFT {ttft:.3f}, decode {decode:.3f} (raw decode medians {raw})")
    assert 0.9 <= ttft <= 1.1, f"TTFT openai/ollama = {ttft:.3f}"
    assert 0.9 <= decode <= 1.1, f"decode openai/ollama = {decode:.3f}"


@pytest.mark.parametrize("api", ["ollama", "openai"])
def test_bench_says_what_it_did_about_thinking(thinker: ServerHandle, tmp_path: Path, api: str) -> None:
    off = _bench(tmp_path, thinker.url, "--api", api, "--reps", "1", "--num-predict", "16")
    assert off.returncode == 0, off.stderr
    assert (
        'thinking: off ("think": false / "reasoning_effort": "none" sent); TTFT is to the first answer'
        in off.stdout
    )
    assert f"warning: {THINK} can think" in off.stdout
    # Asked to think: the reasoning arrives apart, TTFT waits for the answer, the tokens count both.
    on = _shape(_bench(tmp_path, thinker.url, "--api", api, "--reps", "1", "--num-predict", "64", "--think",
                       "--json"))  # fmt: skip
    assert on["reasoning_chunks"] > 0 and on["output_tokens"] > on["reasoning_chunks"]


def test_chat_and_connect_say_how_thinking_is_turned_off(thinker: ServerHandle, tmp_path: Path) -> None:
    env = {**os.environ, "GPULESS_DATA_DIR": str(tmp_path / "data")}
    run: Callable[..., subprocess.CompletedProcess[str]] = lambda *a, **k: subprocess.run(  # noqa: E731
        cli_run.command(*a), capture_output=True, text=True, timeout=300, env=env, **k
    )
    chat = run("chat", "--url", thinker.url, "--model", THINK, "--num-predict", "8", input="hello\n")
    assert chat.returncode == 0, chat.stderr
    assert f"({THINK} can think: thinking off; TTFT is to the answer)" in chat.stdout
    assert "reasoning chunks" not in chat.stdout  # thinking was off: no reasoning arrived
    connect = run("connect", "--url", thinker.url, "--model", THINK)
    assert connect.returncode == 0, connect.stderr
    assert 'reasoning_effort="none"' in connect.stdout and '"think": false' in connect.stdout
    assert f"warning: {THINK} can think" in connect.stdout
