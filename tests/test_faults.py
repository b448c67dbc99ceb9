"""The fault table: every bad behaviour of issue 11 that gpuless meets on the wire or in its own state,
run against the real command (a subprocess, as a user runs it) and held to the same promise: the
documented exit code, one clear ``gpuless:`` line on stderr, no traceback, no escape sequence from the
server on the terminal, and the history intact (an earlier run still reads, and no run is left
``incomplete`` without the reason it stopped).

The server side is ``tests/faults/server.py`` (loopback only). Rows are named by the issue's item
numbers; the Docker-side
items (1, 2, 9, 14, ``up``'s side of 15) and the bandwidth cache (10) are covered by their owners'
tests.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import cli_run
from tests.faults.server import FaultServer
from toolkit.adapters.bench.history import History
from toolkit.cli.render_bench import history_lines

BENCH = ["bench", "--url", "{url}", "--model", "m", "--reps", "1", "--num-predict", "8", "--shape", "chat",
         "--concurrency", "none", "--timeout", "3", "--max-seconds", "10"]  # fmt: skip


@dataclass(frozen=True)
class Row:
    """One fault: the server's behaviour, the command, and what the user must see."""

    item: str
    fault: str
    args: list[str]
    code: int
    says: str  # must appear in the one ``gpuless:`` line
    stdin: str = ""
    env: tuple[tuple[str, str], ...] = ()
    never: str = "\x1b"  # must not appear anywhere in stdout or stderr

    @property
    def id(self) -> str:
        return f"item{self.item}-{self.fault}-{self.args[0]}"


ROWS = [
    Row("3", "bad_content_length", BENCH, 1, "invalid Content-Length"),
    Row("3", "huge_header", BENCH, 1, "longer than 64 KiB"),
    Row("3", "content_not_string", BENCH, 1, "'content' (not a string)"),
    Row("3", "sse_not_object", [*BENCH, "--api", "openai"], 1, "(not an object)"),
    Row("3", "tags_list", ["bench", "--url", "{url}"], 1, "/api/tags (not an object)"),
    Row("3", "tags_list", ["chat", "--url", "{url}"], 1, "/api/tags (not an object)", stdin="hi\n"),
    Row("3", "tags_list", ["up", "--url", "{url}", "--model", "m"], 1, "/api/tags (not an object)"),
    Row("3", "content_not_string", ["chat", "--url", "{url}", "--model", "m"], 0, "(not a string)", "hi\n"),
    Row("4", "long_line", BENCH, 1, "a line longer than 1 MiB"),
    Row("4", "huge_chunk", BENCH, 1, "a line longer than 1 MiB"),
    Row("4", "huge_chunk", ["chat", "--url", "{url}", "--model", "m"], 0, "longer than 1 MiB", "hi\n"),
    Row("5", "trickle", [*BENCH[:-4], "--timeout", "2", "--max-seconds", "3"], 1, "within the time limit"),
    Row("5", "stall", ["chat", "--url", "{url}", "--model", "m", "--timeout", "1"], 0, "no data for 1 s",
        "hi\n"),
    Row("12", "escapes", ["chat", "--url", "{url}"], 0, "model crashed second line", "hi\nagain\n"),
    Row("12", "escapes", BENCH, 1, "model crashed second line"),
    Row("13", "busy_503", [*BENCH[:-6], "--concurrency", "1,2", "--timeout", "5", "--max-seconds", "20"], 0,
        ""),
    Row("11", "none", ["compose", "--print", "--mem-limit", "nan"], 2, "is not a size"),
    Row("11", "none", ["compose", "--print", "--mem-limit", "inf"], 2, "is not a size"),
    Row("11", "none", ["compose", "--print", "--cpus", "nan"], 2, "is not a number from 0.01 to 1024"),
    Row("11", "none", ["up", "--cpus", "inf"], 2, "is not a number from 0.01 to 1024"),
    Row("11", "none", ["compose", "--print", "--keep-alive", "30x"], 2, "not a duration Ollama reads"),
    Row("16", "none", ["chat"], 2, "not a loopback address", env=(("GPULESS_OLLAMA_URL", "http://10.9.8.7:11434"),)),
    Row("16", "none", ["up", "--url", "ftp://127.0.0.1:1"], 2, "not a server URL"),
    Row("17", "html_500", BENCH, 1, "an HTML page: 502 Bad Gateway"),
    Row("17", "html_404", BENCH, 1, "has no /api/show (an HTML page: 404 Not Found)"),
    # Issue 20 item 9: every door capped and bounded in total time (admin calls included).
    Row("20.9", "endless", ["up", "--url", "{url}"], 1, "(a body over 32 MiB)"),
    Row("20.9", "endless", ["up", "--url", "{url}", "--model", "m"], 1, "(a body over 32 MiB)"),
    Row("20.9", "endless", ["connect", "--url", "{url}"], 1, "(a body over 32 MiB)"),
    Row("20.9", "endless", ["chat", "--url", "{url}"], 1, "(a body over 32 MiB)", "hi\n"),
    Row("20.9", "trickle_all", ["up", "--url", "{url}"], 1, "did not finish answering within the time limit"),
    Row("20.9", "trickle_all", ["connect", "--url", "{url}"], 1, "did not finish answering within the time"),
    Row("20.9", "trickle_all", ["chat", "--url", "{url}", "--timeout", "5"], 1, "within the time", "hi\n"),
    # Issue 20 item 12: click's usage errors are one gpuless line (and a hint), exit 2.
    Row("20.12", "none", ["compose", "--mem-limit"], 2, "error: Option '--mem-limit' requires an argument"),
    Row("20.12", "none", ["bogus"], 2, "gpuless: error: No such command 'bogus'"),
    Row("20.12", "none", ["up", "--users", "0"], 2, "error: Invalid value for '--users': 0 is not in"),
    # Issue 20 item 12: a redirect is named as one, with where it pointed.
    Row("20.12", "redirect", ["up", "--url", "{url}"], 1,
        "redirected /api/version (HTTP 301) to http://127.0.0.1:9/elsewhere; gpuless does not follow"),
    Row("20.12", "redirect", ["connect", "--url", "{url}"], 1, "redirected /api/tags (HTTP 301) to http://127.0.0.1:9"),
    Row("20.12", "redirect", ["chat", "--url", "{url}"], 1, "redirected /api/tags (HTTP 301)", "hi\n"),
]  # fmt: skip


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the module: the bandwidth probe runs once, not once per row."""
    return tmp_path_factory.mktemp("cache")


def _env(tmp_path: Path, cache_dir: Path, extra: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "GPULESS_OLLAMA_URL"}
    return {
        **env,
        "GPULESS_DATA_DIR": str(tmp_path / "data"),
        "GPULESS_CACHE_DIR": str(cache_dir),
        **dict(extra),
    }


def _seed(data_dir: Path) -> int:
    """A finished run the fault must not disturb."""
    with History(data_dir / "history.sqlite3") as store:
        run_id = store.start_run(model="seed:1b", api="ollama", url="http://127.0.0.1:1", settings={})
        store.add_request(run_id, phase="shape", shape="chat", streams=1, metrics={"ttft_s": 0.5})
        store.finish_run(run_id, status="complete", summary={"shapes": [], "concurrency": []})
    return run_id


def _check_history(data_dir: Path, seed: int) -> None:
    with History(data_dir / "history.sqlite3") as store:
        runs = store.list_runs()
    by_id = {run.id: run for run in runs}
    assert by_id[seed].status == "complete" and by_id[seed].requests == 1 and not by_id[seed].damaged
    for run in runs:
        assert run.status == "complete" or run.error, f"run #{run.id} stopped without a reason"


def _gpuless_lines(stderr: str) -> list[str]:
    """The error lines: gpuless's own (click's refusals of option values included); click's own
    "Error: ..." form is counted too, so a row fails if it comes back."""
    return [line for line in stderr.splitlines() if line.startswith(("gpuless:", "Error:"))]


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_fault(row: Row, tmp_path: Path, cache_dir: Path) -> None:
    seed = _seed(tmp_path / "data")
    with FaultServer(row.fault) as server:
        args = [arg.replace("{url}", server.url) for arg in row.args]
        started = time.monotonic()
        proc = subprocess.run(
            cli_run.command(*args),
            input=row.stdin,
            capture_output=True,
            text=True,
            timeout=60,
            env=_env(tmp_path, cache_dir, row.env),
            cwd=tmp_path,
        )
        elapsed = time.monotonic() - started
    assert proc.returncode == row.code, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert row.never not in proc.stderr + proc.stdout
    lines = _gpuless_lines(proc.stderr)
    if row.says:
        assert len(lines) == 1, proc.stderr
        assert row.says in lines[0]
    else:
        assert lines == [], proc.stderr
    assert elapsed < 30  # an error, never a hang
    _check_history(tmp_path / "data", seed)


def test_item13_busy_level_is_recorded_as_saturated(tmp_path: Path, cache_dir: Path) -> None:
    with FaultServer("busy_503") as server:
        args = [*BENCH[:-6], "--concurrency", "1,2,4", "--json", "--timeout", "5", "--max-seconds", "20"]
        proc = subprocess.run(
            cli_run.command(*[a.replace("{url}", server.url) for a in args]),
            capture_output=True, text=True, timeout=60, env=_env(tmp_path, cache_dir),
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    levels = {level["streams"]: level for level in result["concurrency"]}
    assert set(levels) == {1, 2}  # 4 streams were not tried after 2 saturated
    assert not levels[1]["saturated"] and levels[2]["saturated"] and levels[2]["errors"] == 1
    assert result["stopped_by"] == "saturated" and result["status"] == "complete"
    assert result["users_per_grade"]  # judged on the level that held


@pytest.mark.parametrize(
    "sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=["SIGTERM", "SIGHUP", "Ctrl-C"]
)
def test_item15_signal_during_bench_stores_the_run_as_cancelled(
    sig: signal.Signals, tmp_path: Path, cache_dir: Path
) -> None:
    seed = _seed(tmp_path / "data")
    with FaultServer("slow") as server:
        args = [a.replace("{url}", server.url) for a in BENCH[:-4]] + [
            "--timeout",
            "5",
            "--max-seconds",
            "30",
        ]
        # A shell's background job starts with Ctrl-C ignored, and Python keeps an ignored SIGINT ignored:
        # the command gets Ctrl-C's default (KeyboardInterrupt) as a terminal's foreground job has it.
        proc = subprocess.Popen(
            cli_run.command(*args),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(tmp_path, cache_dir),
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "POST /api/chat" not in server.requests:
            time.sleep(0.1)  # the warm-up (/api/generate) is done and the measured request streams
        assert "POST /api/generate" in server.requests
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + sig, err
    assert "Traceback" not in err
    named = "Ctrl-C" if sig == signal.SIGINT else sig.name
    assert _gpuless_lines(err) == [f"gpuless: interrupted ({named}); finished requests were kept"]
    # The measured request streams for a minute: none has finished when the signal comes, on any machine.
    # A stop is the user's, not an error (issue 25): the result and `history` say "cancelled".
    assert "cancelled (nothing finished)" in out and "stopped by an error" not in out, out
    with History(tmp_path / "data" / "history.sqlite3") as store:
        run = store.list_runs()[0]
    assert run.id != seed and run.status == "failed"
    reason = "" if sig == signal.SIGINT else f" ({sig.name})"  # asyncio cancels on Ctrl-C with no reason
    assert run.error == f"cancelled{reason} after 0 requests"
    assert "cancelled (nothing finished)" in "\n".join(history_lines([run]))
    _check_history(tmp_path / "data", seed)


def test_item7_a_bad_json_cell_spoils_only_its_run(tmp_path: Path, cache_dir: Path) -> None:
    data = tmp_path / "data"
    first, second = _seed(data), _seed(data)
    conn = sqlite3.connect(data / "history.sqlite3", isolation_level=None)  # autocommit
    conn.execute("UPDATE runs SET summary_json = '{not json' WHERE id = ?", (second,))
    assert conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
    conn.close()
    env = _env(tmp_path, cache_dir)
    listing = subprocess.run(cli_run.command("history"), capture_output=True, text=True, env=env)
    assert listing.returncode == 0, listing.stderr
    assert "damaged: summary" in listing.stdout and f"\n{first} " in listing.stdout
    compare = subprocess.run(
        cli_run.command("history", "--compare", str(first), str(second)),
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert compare.returncode == 0, compare.stderr
    # Reading did not switch the file to WAL (that would need a writable directory).
    conn = sqlite3.connect(data / "history.sqlite3")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_item12_history_replays_names_without_escapes(tmp_path: Path, cache_dir: Path) -> None:
    with History(tmp_path / "data" / "history.sqlite3") as store:
        run_id = store.start_run(
            model="evil\x1b]0;pwned\x07:1b", api="ollama", url="http://127.0.0.1:1", settings={}
        )
        store.finish_run(run_id, status="incomplete", summary=None, error="boom\x1b[2J\nsecond line")
    proc = subprocess.run(
        cli_run.command("history"),
        capture_output=True,
        text=True,
        env=_env(tmp_path, cache_dir),
    )
    assert proc.returncode == 0 and "evil:1b" in proc.stdout and "\x1b" not in proc.stdout


def test_item8_compose_file_that_is_not_utf8(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "compose.yaml").write_bytes(b"services:\n  ollama:\n    image: \xff\xfe\n")
    proc = subprocess.run(
        cli_run.command("up"), capture_output=True, text=True, cwd=tmp_path,
        env=_env(tmp_path, cache_dir), timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert _gpuless_lines(proc.stderr) == [
        "gpuless: error: compose.yaml is not UTF-8 text (byte 0xff at offset 31)"
    ]


def test_item11_compose_json_refusal_and_print(tmp_path: Path, cache_dir: Path) -> None:
    env = _env(tmp_path, cache_dir)
    base = cli_run.command("compose", "--profile", "laptop-16gb-ddr4", "--json")
    printed = subprocess.run([*base, "--print"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert printed.returncode == 0 and "services:" in json.loads(printed.stdout)["compose_yaml"]
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    refused = subprocess.run(base, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    answer = json.loads(refused.stdout)  # JSON, not a diff
    assert answer["outcome"] == "refused" and answer["diff"].startswith("--- compose.yaml (current)")
    assert len(_gpuless_lines(refused.stderr)) == 1
    assert (tmp_path / "compose.yaml").read_text() == "services: {}\n"


def test_last_resort_handler_prints_one_line_and_a_crash_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.cli_run import run
    from toolkit.adapters.bench import history

    def broken(self: object, limit: int = 50) -> list[object]:
        raise RuntimeError("a bug\x1b[2J nobody foresaw\nsecond line")

    monkeypatch.setenv("GPULESS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GPULESS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(history.History, "list_runs", broken)
    code, out, err = run(["history"], capsys)
    assert code == 1 and out == ""
    [line] = err.splitlines()
    assert line.startswith(
        "gpuless: internal error: RuntimeError: a bug nobody foresaw second line; details in "
    )
    log = Path(line.rsplit("details in ", 1)[1])
    assert log.parent == tmp_path / "cache" and "Traceback" in log.read_text()


def test_item6_a_failed_history_write_is_reported_truthfully(tmp_path: Path) -> None:
    import asyncio

    from toolkit.adapters.bench.runner import BenchRunner
    from toolkit.cli.render_bench import format_result
    from toolkit.core.bench.config import BenchConfig
    from toolkit.errors import HistoryError

    store = History(tmp_path / "history.sqlite3")

    def fail_later_writes(phase: str, shape: str, streams: int, metrics: object) -> None:
        # After the first stored request, SQLite refuses every write (as on a full disk).
        assert store._conn is not None
        store._conn.execute("PRAGMA query_only = 1")

    with FaultServer("none") as server:
        config = BenchConfig(
            model="m", url=server.url, reps=3, num_predict=8, shapes=("chat",), concurrency=()
        )
        runner = BenchRunner(config, history=store, on_request=fail_later_writes)
        with pytest.raises(HistoryError, match="writing the history"):
            asyncio.run(runner.run())
    store.close()
    result = runner.result
    assert result.run_id == 1 and result.status == "incomplete"  # one request finished and is stored
    assert result.stored_requests == 1
    assert "run #1 (1 request stored up to a failed history write)" in format_result(result)[0]
    with History(tmp_path / "history.sqlite3") as reader:
        [run] = reader.list_runs()
    assert run.requests == 1 and run.status == "incomplete"


def test_item17_a_connection_reset_mid_create_is_said_in_words() -> None:
    # `up` interrupted by `down`: the server goes away while the served model is being created. The
    # message carries what happened, not the exception class's name ("failed: ReadError").
    from toolkit.adapters.ollama import admin as ollama_admin
    from toolkit.errors import OllamaUnreachableError

    with FaultServer("none") as server:  # the path answers when nothing breaks
        ollama_admin.create_served_model(server.url, "m-gpuless", "m", {"num_thread": 1})
    with FaultServer("create_reset") as server, pytest.raises(OllamaUnreachableError) as caught:
        ollama_admin.create_served_model(server.url, "m-gpuless", "m", {"num_thread": 1})
    message = caught.value.message
    assert message.startswith("creating m-gpuless failed: ")
    assert "Connection reset" in message and "ReadError" not in message
    assert "POST /api/create" in server.requests


@pytest.mark.parametrize("command", [["chat"], ["connect"], ["up"]], ids=["chat", "connect", "up"])
def test_item20_9_ctrl_c_against_a_trickling_server_is_one_line(
    command: list[str], tmp_path: Path, cache_dir: Path
) -> None:
    # Ctrl-C while a server trickles its answer: one line and 130, never generator internals
    # ("generator didn't stop after athrow()") or a traceback.
    with FaultServer("trickle_all") as server:
        proc = subprocess.Popen(
            cli_run.command(*command, "--url", server.url), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(tmp_path, cache_dir),
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not server.requests:
            time.sleep(0.1)
        time.sleep(0.5)  # the answer is trickling
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert server.requests
    assert proc.returncode == 130, err
    assert "Traceback" not in out + err and "athrow" not in out + err
    assert _gpuless_lines(err) == ["gpuless: interrupted"]
