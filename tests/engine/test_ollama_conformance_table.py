"""The Ollama conformance table: each row an Ollama behaviour, where Ollama's source does it (ollama/ollama
at v0.33.0-rc2, fb3076099, unless a tag is named), what the test server answers, and what gpuless reads
from that answer. A row fails when the test server stops behaving like Ollama or gpuless misreads it.

Rows for behaviours of older Ollama versions the test server does not mimic (it answers as 0.32.15) feed
gpuless the text those versions produce, quoted from their source, and say so in the "server" column.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.ollama_server.fixtures import ServerHandle
from toolkit.adapters.ollama import admin as ollama_admin
from toolkit.adapters.ollama.client import OllamaClient, Recorder
from toolkit.core.bench.metrics import RequestTrace
from toolkit.core.catalog.thinking import model_thinks
from toolkit.core.compose.spec import OllamaServiceSpec
from toolkit.core.compose.verify_runner import kv_cache_row, parse_runner_args, threads_row
from toolkit.core.wire import openai_body, show_parameters
from toolkit.errors import UsageError

pytestmark = pytest.mark.engine
SMOL, THINK = "smollm2:135m", "smollm2-think:135m"
ASK = [{"role": "user", "content": "Name a colour."}]
Factory = Callable[..., ServerHandle]


@dataclass(frozen=True)
class Env:
    """What a row may use: the thinking server (smollm2 + smollm2-think) and a factory for others."""

    server: ServerHandle
    factory: Factory


@dataclass(frozen=True)
class Row:
    behaviour: str
    source: str
    check: Callable[[Env], tuple[str, str]]  # → (the server's answer, gpuless's reading), asserted inside


def _trace(url: str, api: str, think: bool | None, model: str = THINK) -> RequestTrace:
    async def run() -> RequestTrace:
        async with OllamaClient(url, api) as client:  # type: ignore[arg-type]
            events = client.stream_chat(
                model, ASK, options={"num_predict": 40, "temperature": 0}, think=think
            )
            return await Recorder(time.perf_counter()).consume(events)

    return asyncio.run(run())


def _runner_lines(handle: ServerHandle) -> str:
    """Command lines of this server's runner processes (children reading its models directory)."""
    lines = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(handle.models_dir) in text and "--model" in text:
            lines.append(text)
    return "\n".join(lines)


def thinking_default(env: Env) -> tuple[str, str]:
    body = {"model": THINK, "messages": ASK, "stream": False, "options": {"num_predict": 40}}
    chat = httpx.post(env.server.url + "/api/chat", json=body, timeout=120).json()
    assert chat["message"].get("thinking")
    silent = _trace(env.server.url, "ollama", None)  # gpuless with think left to the server
    assert silent.reasoning_times and silent.content_times[0] > silent.reasoning_times[0]
    return "message.thinking without being asked", f"{len(silent.reasoning_times)} reasoning chunks, apart"


def openai_effort_none(env: Env) -> tuple[str, str]:
    assert openai_body(THINK, ASK, {}, False)["reasoning_effort"] == "none"
    off = _trace(env.server.url, "openai", False)
    on = _trace(env.server.url, "openai", None)
    assert not off.reasoning_times and on.reasoning_times
    assert on.server is not None and on.server.eval_count > len(on.content_times)  # reasoning counted
    return "delta.reasoning unless reasoning_effort none", "think=False sends it; reasoning timed apart"


def capability(env: Env) -> tuple[str, str]:
    show = httpx.post(env.server.url + "/api/show", json={"model": THINK}).json()
    assert model_thinks(show) is True
    assert model_thinks(httpx.post(env.server.url + "/api/show", json={"model": SMOL}).json()) is False
    return str(show["capabilities"]), "model_thinks → True (bench, chat, connect warn)"


def runner_np(env: Env) -> tuple[str, str]:
    handle = env.factory(num_parallel=2)
    assert ollama_admin.load_model(handle.url, SMOL)
    runner = parse_runner_args(_runner_lines(handle))
    assert runner is not None and runner.parallel == 2 and runner.ctx_size == 2 * 4096
    return (
        "runner -np 2 -c 8192 (OLLAMA_NUM_PARALLEL=2)",
        f"parallel {runner.parallel}, ctx {runner.ctx_size}",
    )


def load_body_runner(env: Env) -> tuple[str, str]:
    line = "/usr/bin/ollama runner --ollama-engine --model /root/.ollama/models/blobs/sha256-ab --port 41231"
    runner = parse_runner_args(line)
    assert runner is not None and not runner.on_command_line
    _actual, status, why = threads_row(None, runner, None, "0.12.3")
    assert status == "unknown" and "POST /load" in why and "no model loaded" not in why
    return "(not mimicked) " + line[:40] + "…", why


def fa_auto(env: Env) -> tuple[str, str]:
    auto = env.factory(env={"OLLAMA_KV_CACHE_TYPE": "q8_0"})
    assert ollama_admin.load_model(auto.url, SMOL)  # FA unset = llama.cpp auto: q8_0 loads
    off = env.factory(env={"OLLAMA_KV_CACHE_TYPE": "q8_0", "OLLAMA_FLASH_ATTENTION": "0"})
    refused = httpx.post(off.url + "/api/generate", json={"model": SMOL}, timeout=120)
    assert refused.status_code == 500
    assert kv_cache_row("q8_0", None, None, "0.32.15")[1] == "applied"
    assert kv_cache_row("q8_0", "0", None, "0.32.15")[1] == "refused"
    return "q8_0 loads with FA unset; FA=0 → HTTP 500", "applied / refused"


def ps_context(env: Env) -> tuple[str, str]:
    assert ollama_admin.load_model(env.server.url, SMOL)
    ps = ollama_admin.loaded_models(env.server.url)
    assert ps is not None
    lengths = [m.get("context_length") for m in ps["models"]]
    assert 4096 in lengths
    return f"context_length {lengths}", "verify's context row reads it (absent before 0.10.0: said so)"


def create_from(env: Env) -> tuple[str, str]:
    handle = env.factory(pull=())  # nothing pulled: create pulls the missing `from`
    ollama_admin.create_served_model(handle.url, "smollm2:135m-gpuless", SMOL, {"num_ctx": 2048})
    names = {m["name"] for m in httpx.get(handle.url + "/api/tags").json()["models"]}
    assert names == {SMOL, "smollm2:135m-gpuless"}
    assert ollama_admin.CREATE_FROM_SINCE == (0, 5, 5)
    return f"create pulled {SMOL}: {sorted(names)}", "create_served_model succeeds; < 0.5.5 refused up front"


def tag_length(env: Env) -> tuple[str, str]:
    long_tag = "t" * 80
    refused = httpx.post(env.server.url + "/api/create", json={"model": f"m:{long_tag}x", "from": SMOL})
    assert refused.status_code == 400
    with pytest.raises(UsageError, match="80 characters"):
        OllamaServiceSpec(model=f"smollm2:{'t' * 75}")
    return "tag of 81 characters → 400", "compose refuses <tag>-gpuless over 80"


def show_format(env: Env) -> tuple[str, str]:
    body = {"model": "fmt:test", "from": SMOL, "parameters": {"num_ctx": 1048576, "stop": ["<|im_end|>"]}}
    assert httpx.post(env.server.url + "/api/create", json={**body, "stream": False}).status_code == 200
    text = httpx.post(env.server.url + "/api/show", json={"model": "fmt:test"}).json()["parameters"]
    assert re.search(r"^num_ctx +1\.048576e\+06$", text, re.M) and '"<|im_end|>"' in text
    parsed = show_parameters(text)
    assert parsed == {"num_ctx": "1048576", "stop": "<|im_end|>"}
    return text.replace("\n", " | "), str(parsed)


def name_case(env: Env) -> tuple[str, str]:
    body = {"model": "MyModel:Fast", "from": SMOL, "stream": False}
    assert httpx.post(env.server.url + "/api/create", json=body).status_code == 200
    names = [m["name"] for m in httpx.get(env.server.url + "/api/tags").json()["models"]]
    assert "MyModel:Fast" in names
    assert httpx.post(env.server.url + "/api/show", json={"model": "mymodel:fast"}).status_code == 200
    assert ollama_admin.has_model(env.server.url, "MyModel:Fast")
    return "tags lists MyModel:Fast; mymodel:fast matches", "found; verify matches names without case"


def one_runner(env: Env) -> tuple[str, str]:
    handle = env.factory()
    ollama_admin.create_served_model(handle.url, "smollm2:135m-gpuless", SMOL, {"num_thread": 1})
    for model in (SMOL, "smollm2:135m-gpuless", SMOL):
        assert ollama_admin.load_model(handle.url, model)
    lines = _runner_lines(handle).splitlines()
    assert len(lines) == 1, lines  # shared by weights file; reloaded when num_thread differs
    return "one runner for both names", f"one runner line: {parse_runner_args(lines[0])}"


def option_types(env: Env) -> tuple[str, str]:
    for name, params in (("odd:unknown", {"use_mlock": True}), ("odd:badtype", {"num_ctx": "big"})):
        body = {"model": name, "from": SMOL, "parameters": params, "stream": False}
        assert httpx.post(env.server.url + "/api/create", json=body).status_code == 200  # stored as given
    assert ollama_admin.load_model(env.server.url, "odd:unknown")  # unknown: ignored at load
    bad = httpx.post(env.server.url + "/api/generate", json={"model": "odd:badtype"}, timeout=60)
    assert bad.status_code == 500 and "must be of type integer" in bad.json()["error"]
    assert not ollama_admin.load_model(env.server.url, "odd:badtype")
    return "unknown → loads; wrong type → 500", "load_model True / False"


ROWS = [
    Row("thinking on when a request says nothing", "server/routes.go:2618 (chat), :456 (generate)",
        thinking_default),
    Row("/v1: only reasoning_effort none turns it off; delta.reasoning; counted in completion_tokens",
        "openai/openai.go:531, :699, :46, :401", openai_effort_none),
    Row("thinking capability from the template's tags", "server/images.go:255", capability),
    Row("runner -c ctx×np -np np (slots forced to 1 for some archs)", "llm/llama_server.go:376; "
        "server/sched.go:497-509", runner_np),
    Row("0.11.5-0.24.x: settings in POST /load, not on the command line", "v0.24.0 llm/server.go:357-364",
        load_body_runner),
    Row("FA unset = auto (q8_0 works); FA=0 with q8_0 fails to load", "llm/llama_server.go:597-620",
        fa_auto),
    Row("/api/ps context_length (since 0.10.0)", "api/types.go:810 (v0.10.0 :478)", ps_context),
    Row("/api/create pulls a missing from (from+parameters since 0.5.5)", "server/model.go:40-46",
        create_from),
    Row("a tag is at most 80 characters", "types/model/name.go:338", tag_length),
    Row("/api/show parameters: %#v (quoted strings, exponent ≥ 1e6)", "server/routes.go:1497-1509",
        show_format),
    Row("names keep their case, match without it", "types/model/name.go:309 EqualFold", name_case),
    Row("one runner per weights file", "server/sched.go:110 schedulerModelKey", one_runner),
    Row("unknown option ignored; wrong type is a 500", "api/types.go:1007, :1026; server/routes.go:218, "
        ":3117", option_types),
]  # fmt: skip


@pytest.mark.parametrize("row", ROWS, ids=[r.check.__name__ for r in ROWS])
def test_conformance_row(
    row: Row, ollama_thinking_server: ServerHandle, ollama_server_factory: Factory
) -> None:
    answer, reading = row.check(Env(ollama_thinking_server, ollama_server_factory))
    print(f"| {row.behaviour} | {row.source} | {answer} | {reading} |")


def test_every_row_names_its_source() -> None:
    assert all(re.search(r"\.go(:\d+| )", r.source) for r in ROWS)
    assert len({r.check.__name__ for r in ROWS}) == len(ROWS)
