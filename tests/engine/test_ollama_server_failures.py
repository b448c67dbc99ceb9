"""Ollama's documented failure behaviour and settings, on loopback servers started per test.

Queue full → 503, server killed mid-stream → the client's stream breaks, runner killed mid-stream →
a final `{"error": ...}` line under HTTP 200, keep-alive load/unload, delete, bad requests.
"""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import httpx
import ollama
import pytest

from tests.ollama_server.fixtures import REPO_ROOT, ServerHandle, free_port

pytestmark = pytest.mark.engine
SMOL = "smollm2:135m"
Factory = Callable[..., ServerHandle]
LONG = {"num_predict": 400, "temperature": 0.8, "seed": 3}


def _first_chunk_then(handle: ServerHandle, action: Callable[[], None]) -> list[dict[str, object]]:
    """Start a long streamed generate, run `action` once the first token arrived, return lines seen."""
    seen: list[dict[str, object]] = []
    body = {"model": SMOL, "prompt": "Tell me a very long story.", "options": LONG}
    with httpx.stream("POST", handle.url + "/api/generate", json=body, timeout=60) as resp:
        assert resp.status_code == 200
        for line in resp.iter_lines():
            if line:
                seen.append(httpx.Response(200, content=line).json())
                if len(seen) == 1:
                    action()
    return seen


def test_queue_full_is_503(ollama_server_factory: Factory) -> None:
    handle = ollama_server_factory(num_parallel=1, max_queue=1)
    c = ollama.Client(host=handle.url, timeout=120)
    c.generate(SMOL, "")  # load first, so only the queue decides
    results: list[int] = []
    first_token = threading.Event()

    def long_stream() -> int:
        for part in c.generate(SMOL, "Tell me a long story.", stream=True, options={"num_predict": 60}):
            first_token.set()
            del part
        return 200

    def short() -> int:
        try:
            c.generate(SMOL, "Hi", options={"num_predict": 2})
            return 200
        except ollama.ResponseError as exc:
            assert exc.error == "server busy, please try again.  maximum pending requests exceeded"
            return exc.status_code

    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        running = pool.submit(long_stream)
        assert first_token.wait(60)
        waiting = [pool.submit(short) for _ in range(2)]
        results = [running.result(120), *sorted(f.result(120) for f in waiting)]
    assert results == [200, 200, 503]


def test_parallel_slots_run_requests_at_once(ollama_server_factory: Factory) -> None:
    handle = ollama_server_factory(num_parallel=2)
    assert "OLLAMA_NUM_PARALLEL:2" in handle.log_text()
    c = ollama.Client(host=handle.url, timeout=120)
    c.generate(SMOL, "")
    spans: list[tuple[float, float]] = []

    def run(i: int) -> None:
        first = last = 0.0
        for _ in c.generate(SMOL, f"Story {i}:", stream=True, options={"num_predict": 40}):
            last = time.monotonic()
            first = first or last
        spans.append((first, last))

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        list(pool.map(run, range(2)))
    (_, a_end), (b_start, _) = sorted(spans)
    assert b_start < a_end, "with 2 slots the second request streams before the first one finishes"


def test_server_killed_mid_stream_breaks_the_client(ollama_server_factory: Factory) -> None:
    handle = ollama_server_factory()
    c = ollama.Client(host=handle.url, timeout=60)
    got = 0
    with pytest.raises((httpx.HTTPError, ConnectionError)):
        for _ in c.generate(SMOL, "Tell me a very long story.", stream=True, options=LONG):
            got += 1
            if got == 1:
                handle.kill()
    assert got >= 1
    with pytest.raises(ConnectionError, match="Failed to connect to Ollama"):
        c.list()


def test_runner_killed_mid_stream_sends_error_line_then_recovers(ollama_server_factory: Factory) -> None:
    handle = ollama_server_factory()

    def kill_runner() -> None:
        pids = handle.runner_pids()
        assert len(pids) == 1
        os.kill(pids[0], signal.SIGKILL)

    lines = _first_chunk_then(handle, kill_runner)
    assert lines[0]["done"] is False
    assert lines[-1] == {"error": "llama-server process has terminated: signal: killed"}
    c = ollama.Client(host=handle.url, timeout=60)
    with pytest.raises(ollama.ResponseError) as err:  # the official client raises on the error line
        for _ in c.generate(SMOL, "Another long story.", stream=True, options=LONG):
            for pid in handle.runner_pids():
                os.kill(pid, signal.SIGKILL)
    assert err.value.status_code == -1 and "process has terminated" in err.value.error
    again = c.generate(SMOL, "Hi", options={"num_predict": 3})  # a fresh runner is loaded
    assert again.done and again.load_duration and again.load_duration > 1e7


def test_load_unload_and_keep_alive(ollama_server_factory: Factory) -> None:
    handle = ollama_server_factory(keep_alive="1s")
    c = ollama.Client(host=handle.url, timeout=60)
    loaded = c.generate(SMOL, "")
    assert (loaded.done, loaded.done_reason) == (True, "load")
    assert [m.model for m in c.ps().models] == [SMOL]
    deadline = time.monotonic() + 60  # a bound for a slow machine, not a wait
    while c.ps().models and time.monotonic() < deadline:
        time.sleep(0.25)
    assert c.ps().models == [], "OLLAMA_KEEP_ALIVE=1s unloads the idle model"
    c.generate(SMOL, "Hi", options={"num_predict": 2}, keep_alive=-1)
    assert c.ps().models[0].expires_at.year > 2100  # negative keep_alive: forever
    c.chat(SMOL, messages=[{"role": "user", "content": "Hi"}], options={"num_predict": 2}, keep_alive=0)
    assert c.ps().models == []
    unloaded = c.generate(SMOL, "", keep_alive=0)
    assert unloaded.done_reason == "unload"


def test_num_ctx_is_clamped_and_reloads(ollama_server_factory: Factory) -> None:
    handle = ollama_server_factory(context_length=2048)
    c = ollama.Client(host=handle.url, timeout=60)
    c.generate(SMOL, "Hi", options={"num_predict": 1})
    assert c.ps().models[0].context_length == 2048
    c.generate(SMOL, "Hi", options={"num_predict": 1, "num_ctx": 100_000})
    assert c.ps().models[0].context_length == 8192  # the model's trained context


def test_bad_requests(ollama_server_factory: Factory) -> None:
    handle = ollama_server_factory()
    c = ollama.Client(host=handle.url, timeout=60)
    with pytest.raises(ollama.ResponseError) as err:
        c.generate(SMOL, "Hi", think=True)
    assert err.value.status_code == 400 and "does not support thinking" in err.value.error
    with pytest.raises(ollama.ResponseError) as err:
        c.generate(SMOL, "Hi", options={"num_ctx": "big"})
    # A wrong option type fails in scheduleRunner, which handleScheduleError answers with 500
    # (server/routes.go:218-220, :471, :3117).
    assert err.value.status_code == 500 and err.value.error == 'option "num_ctx" must be of type integer'
    assert httpx.post(handle.url + "/api/generate").json() == {"error": "missing request body"}
    assert httpx.get(handle.url + "/api/nothing").status_code == 404
    ok = c.generate(SMOL, "Hi", think=False, options={"num_predict": 2, "use_mlock": True})  # ignored option
    assert ok.done


def test_delete_then_404_and_pull_again(ollama_server_factory: Factory) -> None:
    handle = ollama_server_factory()
    resp = httpx.request("DELETE", handle.url + "/api/delete", json={"model": SMOL})
    assert (resp.status_code, resp.content) == (200, b"")
    assert not list((handle.models_dir / "blobs").glob("sha256-*"))
    c = ollama.Client(host=handle.url, timeout=60)
    assert c.list().models == []
    with pytest.raises(ollama.ResponseError) as err:
        c.delete(SMOL)
    assert err.value.status_code == 404
    assert c.pull(SMOL).status == "success"
    assert [m.model for m in c.list().models] == [SMOL]


def test_cli_list_is_a_healthcheck(ollama_server_factory: Factory) -> None:
    handle = ollama_server_factory()
    env = {**os.environ, "OLLAMA_HOST": handle.host, "PYTHONPATH": str(REPO_ROOT)}
    ok = subprocess.run(
        [sys.executable, "-m", "tests.ollama_server", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0 and SMOL in ok.stdout
    env["OLLAMA_HOST"] = f"127.0.0.1:{free_port()}"
    down = subprocess.run(
        [sys.executable, "-m", "tests.ollama_server", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert down.returncode == 1 and "could not connect" in down.stderr


def test_startup_log_lines(ollama_server_factory: Factory) -> None:
    handle = ollama_server_factory(
        num_parallel=3, context_length=1024, env={"OLLAMA_MAX_QUEUE": "7"}, pull=()
    )
    log = handle.log_text()
    assert (
        'msg="server config"' in log
        and "OLLAMA_NUM_PARALLEL:3" in log
        and "OLLAMA_CONTEXT_LENGTH:1024" in log
    )
    assert "OLLAMA_MAX_QUEUE:7" in log
    assert f'msg="Listening on {handle.host} (version ' in log
