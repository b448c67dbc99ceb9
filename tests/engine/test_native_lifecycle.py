"""The native runtime after ``gpuless up --runtime native``: verify, status, connect, bench's server, tune
and down find the ``ollama serve`` gpuless started, as they find the container.

The ``ollama`` on PATH is the test server (``ollama_shim`` in tests/conftest.py): real processes, a real
runner child with its command line, real environment in /proc, the "server config" log line Ollama prints.
"""

from __future__ import annotations

import contextlib
import json
import signal
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from tests.cli_run import run
from tests.ollama_server.fixtures import free_port
from toolkit.adapters.native import readback
from toolkit.adapters.native.target import NativeTarget
from toolkit.adapters.tune.tuner import Tuner, TuneSettings
from toolkit.core.compose.spec import build_spec
from toolkit.core.tune.knobs import Knobs, Objective, TuneBudget, TuneCandidate
from toolkit.services.native import find_native, launch_native, stop_native
from toolkit.services.server_url import server_url
from toolkit.settings import Settings

pytestmark = [pytest.mark.engine]


@pytest.fixture
def native_home(ollama_shim: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """gpuless's directories under tmp_path, no ./compose.yaml, a container name no one else uses; the
    native server the test started is stopped at the end (by its recorded process id)."""
    monkeypatch.setenv("GPULESS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GPULESS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GPULESS_CONTAINER_NAME", f"gpuless-native-test-{free_port()}")
    monkeypatch.delenv("GPULESS_OLLAMA_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    with contextlib.suppress(Exception):
        stop_native(Settings())


def test_up_native_then_verify_status_connect_and_down_find_it(
    native_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    args = ["up", "--runtime", "native", "--model", "smollm2:135m", "--port", str(port), "--ctx", "2048"]
    code, out, err = run([*args, "--json"], capsys)
    assert code == 0, err
    up = json.loads(out)
    assert up["action"] == "started" and up["recorded"] is True
    pid, url = up["pid"], f"http://127.0.0.1:{port}"

    code, out, err = run(["verify", "--json"], capsys)
    assert code == 0, err
    report = json.loads(out)
    rows = {row["knob"]: row for row in report["rows"]}
    context = rows["OLLAMA_CONTEXT_LENGTH"]  # the loaded model's, then the server's own report
    assert context["status"] == "applied" and "/api/ps: smollm2:135m runs with 2048" in context["why"]
    assert "the server's log agrees" in context["why"]  # the "server config" line was read
    keep = rows["OLLAMA_KEEP_ALIVE"]  # read from the process's environment
    assert keep["status"] == "applied" and keep["why"].startswith(f"/proc/{pid}/environ")
    assert rows["OLLAMA_HOST"] == rows["OLLAMA_HOST"] | {"actual": f"127.0.0.1:{port}", "status": "applied"}
    threads = rows["threads"]  # read from the runner child's command line
    assert threads["status"] == "applied" and threads["why"] == "runner command line -t/--threads"
    assert rows["served model"]["status"] == "applied"
    assert not {"mem_limit", "cpus", "memlock", "healthcheck"} & set(rows)
    assert "mem_limit" in report["notes"][0] and "cpus" in report["notes"][0]
    assert report["runtime"] == "native"
    assert str(pid) in report["container"]

    code, out, err = run(["status", "--json"], capsys)
    assert code == 0, err
    status = json.loads(out)
    shown = (status["runtime"], status["pid"], status["state"], status["url"])
    assert shown == ("native", pid, "running", url)

    # bench, chat and connect reach it without --url (and connect names the served model)
    assert server_url(None, Settings()) == url
    code, out, err = run(["connect", "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["ollama_url"] == url

    # up again: the same settings reuse the server; other ones restart it (as a container is recreated)
    code, out, err = run([*args, "--json"], capsys)
    assert code == 0, err
    again = json.loads(out)
    assert (again["action"], again["pid"]) == ("attached", pid)
    code, out, err = run([*args[:-1], "1024", "--json"], capsys)
    assert code == 0, err
    restarted = json.loads(out)
    assert restarted["action"] == "started" and restarted["pid"] != pid and not psutil.pid_exists(pid)
    rows = {row["knob"]: row for row in restarted["verify"]["rows"]}
    assert (rows["OLLAMA_CONTEXT_LENGTH"]["actual"], rows["OLLAMA_CONTEXT_LENGTH"]["status"]) == (
        "1024",
        "applied",
    )
    pid = restarted["pid"]

    code, out, err = run(["logs", "--runtime", "native", "-n", "50"], capsys)
    assert code == 0 and "Listening on 127.0.0.1" in out and 'msg="server config"' in out, err

    code, out, err = run(["down", "--runtime", "native"], capsys)
    assert code == 0 and f"pid {pid}" in out, err
    assert not psutil.pid_exists(pid)
    code, out, err = run(["verify", "--runtime", "native"], capsys)
    assert code != 0 and "no native Ollama started by gpuless" in err and "Traceback" not in err


def _status_field(pid: int, name: str) -> str:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return next(line.split(":", 1)[1].strip() for line in lines if line.startswith(f"{name}:"))


def test_a_native_tune_restores_the_start_when_stopped(native_home: Path) -> None:
    settings = Settings()
    spec = build_spec(model="smollm2:135m", port=free_port(), context_length=2048, num_thread=1)
    launched = launch_native(spec, settings, timeout=120)
    assert launched.recorded and launched.report is not None
    first = find_native(settings)
    assert first is not None and first.spec == spec
    target = NativeTarget(first, settings.native_dir)
    start = Knobs.of(spec)
    refused = replace(start, kv_cache_type="q8_0", flash_attention=False)  # llama.cpp cannot load it
    smaller = replace(start, context_length=1024)
    tuner = Tuner(
        target,
        Objective.for_users(1),
        start,
        [TuneCandidate(refused, "q8_0 without flash attention"), TuneCandidate(smaller, "ctx 1024")],
        (),
        TuneBudget(3600),  # the clock stands still below: the interrupt comes however slow this machine
        settings=TuneSettings(num_predict=4, tokens_per_round=4, min_predict=2),
        clock=lambda: 0.0,
        # The stop comes once the second candidate runs, as a Ctrl-C would (between the tuner's steps).
        cancelled=lambda: target.record.spec.context_length == 1024,
    )
    with pytest.raises(KeyboardInterrupt):
        tuner.run()
    assert tuner.result is not None and tuner.result.start.ok
    assert tuner.result.trials[0].error is not None  # the refused candidate was measured as failed
    assert tuner.restore_problem is None
    now = find_native(settings)
    assert now is not None and now.spec == spec and now.pid != first.pid  # restarted with the start
    assert not psutil.pid_exists(first.pid or 0)
    env, _ = readback.process_environment(now.pid or 0)
    assert env is not None and env["OLLAMA_CONTEXT_LENGTH"] == "2048"
    assert env["OLLAMA_KV_CACHE_TYPE"] == "f16"
    assert readback.verify(now).row("OLLAMA_CONTEXT_LENGTH").status == "applied"
    # Restarted inside the restore's signals_deferred block, it still answers SIGTERM (a child inherits its
    # parent's signal mask): `gpuless down` stops it at once rather than killing it after 20 s.
    blocked = int(_status_field(now.pid or 0, "SigBlk"), 16)
    assert not blocked & (1 << (signal.SIGTERM - 1) | 1 << (signal.SIGINT - 1) | 1 << (signal.SIGHUP - 1))


def test_tune_refuses_a_native_server_gpuless_did_not_start(
    native_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from toolkit.adapters.native.record import NativeRecord, process_start, save

    settings = Settings()
    spec = build_spec(model="smollm2:135m", port=free_port())
    me = psutil.Process().pid  # a live process that is not gpuless's server
    save(settings.native_dir, NativeRecord(spec, me, process_start(me), started_by_gpuless=False))
    code, _out, err = run(["tune", "--runtime", "native", "--budget", "10"], capsys)
    assert code != 0 and "was not started by gpuless" in err and "Traceback" not in err
    code, _out, err = run(["down", "--runtime", "native"], capsys)
    assert code != 0 and "leaving it running" in err and psutil.pid_exists(me)


def test_a_native_tunes_winner_goes_into_the_compose_file_it_was_started_from(
    native_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from toolkit.services.tuning import NativeTuneSession, apply_winner, prepare

    port = free_port()
    compose = ["compose", "--model", "smollm2:135m", "--port", str(port), "--ctx", "2048"]
    code, _out, err = run(compose, capsys)
    assert code == 0, err
    code, _out, err = run(["up", "--runtime", "native", "--no-model"], capsys)  # from ./compose.yaml
    assert code == 0, err
    settings = Settings()
    session = prepare(settings, Path("compose.yaml"), Objective.for_users(1), 60, runtime="native")
    assert isinstance(session, NativeTuneSession) and session.compose_path == Path("compose.yaml")
    winner = replace(Knobs.of(session.spec), context_length=1024)
    session.target.apply(winner)  # as the tuner leaves a winner running
    applied = apply_winner(session, winner)
    assert applied["backup"] and Path(applied["backup"]).read_text() != Path("compose.yaml").read_text()
    assert 'OLLAMA_CONTEXT_LENGTH: "1024"' in Path("compose.yaml").read_text()
    rows = {row["knob"]: row for row in applied["verify"]["rows"]}
    assert rows["OLLAMA_CONTEXT_LENGTH"]["status"] == "applied"
    now = find_native(settings)
    assert now is not None and now.spec.context_length == 1024 and now.compose_path == "compose.yaml"


def test_the_process_listening_on_a_port_is_found() -> None:
    """How an attached server's process is found (its environment is then read like a started one's)."""
    import os
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        assert readback.listener_pid(server.getsockname()[1]) is None  # bound, not listening
        server.listen()
        assert readback.listener_pid(server.getsockname()[1]) == os.getpid()


def test_a_bench_of_a_native_server_under_tune_is_refused_naming_the_tune(
    native_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import subprocess
    import sys

    settings = Settings()
    spec = build_spec(model="smollm2:135m", port=free_port(), context_length=2048)
    launch_native(spec, settings, timeout=120)
    # Another process holds the server's lock as `gpuless tune --runtime native` does (this process's
    # own hold would let its bench in: the lock is re-entrant within a process).
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from toolkit.adapters.native.record import lock_name\n"
         "from toolkit.adapters.docker.project_lock import exclusive\n"
         f"with exclusive(lock_name({spec.port}), command='tune'):\n"
         "    print('held', flush=True); time.sleep(120)\n"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        code, _out, err = run(["bench", "--model", "smollm2:135m", "--reps", "1", "--no-calibrate"], capsys)
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert code != 0 and "another `gpuless tune`" in err and f"native-{spec.port}" in err, err
