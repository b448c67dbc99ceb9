"""The test server hands what `gpuless tune` changes to llama.cpp, as Ollama v0.30+ hands it to llama-server.

OLLAMA_FLASH_ATTENTION, OLLAMA_KV_CACHE_TYPE, OLLAMA_NUM_PARALLEL, OLLAMA_CONTEXT_LENGTH and the request's
num_thread appear on the runner's command line, and llama.cpp itself acts on them: an unknown cache type,
or a quantized V cache without flash attention, makes the load fail.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import psutil
import pytest

from tests.ollama_server.fixtures import ServerHandle

pytestmark = pytest.mark.engine
SMOL = "smollm2:135m"
Factory = Callable[..., ServerHandle]


def _generate(handle: ServerHandle, **options: int) -> httpx.Response:
    body = {"model": SMOL, "prompt": "Hi", "stream": False, "options": {"num_predict": 2, **options}}
    return httpx.post(handle.url + "/api/generate", json=body, timeout=120)


def _runner_argv(handle: ServerHandle) -> list[str]:
    (pid,) = handle.runner_pids()
    return psutil.Process(pid).cmdline()


def _after(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def test_tuning_knobs_reach_the_runner(ollama_server_factory: Factory) -> None:
    handle = ollama_server_factory(
        num_parallel=2,
        context_length=1024,
        env={"OLLAMA_FLASH_ATTENTION": "1", "OLLAMA_KV_CACHE_TYPE": "q8_0"},
    )
    assert _generate(handle, num_thread=1).status_code == 200
    argv = _runner_argv(handle)
    assert _after(argv, "--flash-attn") == "on"
    assert _after(argv, "--cache-type-k") == _after(argv, "--cache-type-v") == "q8_0"
    assert _after(argv, "--parallel") == "2"
    assert _after(argv, "--ctx-size") == str(2 * 1024)  # one context per slot, as Ollama sizes it
    assert _after(argv, "--threads") == "1"
    log = handle.log_text()
    assert "OLLAMA_FLASH_ATTENTION:true" in log and "OLLAMA_KV_CACHE_TYPE:q8_0" in log


def test_defaults_leave_flash_attention_to_llama_cpp(ollama_server_factory: Factory) -> None:
    handle = ollama_server_factory(env={"OLLAMA_TEST_NUM_THREAD": ""})  # as Ollama: no thread default
    assert _generate(handle).status_code == 200
    argv = _runner_argv(handle)
    assert _after(argv, "--flash-attn") == "auto"
    assert "--cache-type-k" not in argv and "--threads" not in argv


@pytest.mark.parametrize(
    "env",
    [
        {"OLLAMA_KV_CACHE_TYPE": "q9_9"},  # not a llama.cpp type
        {"OLLAMA_FLASH_ATTENTION": "0", "OLLAMA_KV_CACHE_TYPE": "q8_0"},  # llama.cpp: V quant needs FA
    ],
)
def test_llama_cpp_refuses_what_it_cannot_run(ollama_server_factory: Factory, env: dict[str, str]) -> None:
    handle = ollama_server_factory(env=env)
    resp = _generate(handle)
    assert resp.status_code == 500
    assert "terminated" in resp.json()["error"]
    assert handle.alive()  # the API server survives a runner that fails to load
