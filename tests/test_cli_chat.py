"""`gpuless chat` driven as a subprocess through stdin against the real llama.cpp engine."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests import cli_run

MODEL = "smollm2:135m"


def _spawn(url: str, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {"GPULESS_DATA_DIR": str(tmp_path / "data"), "NO_COLOR": "1"}
    return cli_run.start("chat", "--url", url, "--model", MODEL, *args, env=env, stdin=subprocess.PIPE)


@pytest.mark.engine
def test_multi_turn_clear_and_save(ollama_server: Any, tmp_path: Path) -> None:
    first, second = tmp_path / "first.md", tmp_path / "second.md"
    script = (
        "Name a colour.\n"
        "Name another one.\n"
        f"/save {first}\n"
        f"/save {first}\n"  # refuses to overwrite
        "/clear\n"
        f"/save {second}\n"
        "/exit\n"
    )
    proc = _spawn(ollama_server.url, tmp_path, "--num-predict", "12")
    out, err = proc.communicate(script, timeout=300)
    assert proc.returncode == 0, err
    counts = [int(n) for n in re.findall(r"\[(\d+) tokens", out)]
    assert len(counts) == 2 and all(1 <= n <= 12 for n in counts)  # one stats line per answer
    assert "tok/s" in out and "TTFT" in out
    # Piped questions are echoed after the prompt, so the output reads as a transcript.
    assert "\n>>> Name a colour.\n" in out and "\n>>> Name another one.\n" in out
    transcript = first.read_text()
    assert transcript.count("**You:**") == 2 and transcript.count("**Assistant:**") == 2
    assert "Name another one." in transcript
    assert "exists; not overwriting" in err
    assert "(conversation cleared)" in out
    assert "**You:**" not in second.read_text()


@pytest.mark.engine
def test_unknown_model_exits_with_message(ollama_server: Any, tmp_path: Path) -> None:
    data = {"GPULESS_DATA_DIR": str(tmp_path)}
    proc = cli_run.gpuless(
        "chat", "--url", ollama_server.url, "--model", "nope:1b", input="", env=data, timeout=60
    )
    assert proc.returncode == 1
    assert "model 'nope:1b' not found" in proc.stderr and "Traceback" not in proc.stderr


def _read_until(proc: subprocess.Popen[str], predicate: Any, timeout: float) -> str:
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buffer = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buffer += chunk
            if predicate(buffer.decode("utf-8", "replace")):
                return buffer.decode("utf-8", "replace")
    raise AssertionError(f"timed out; output so far: {buffer[-500:]!r}")


@pytest.mark.engine
def test_ctrl_c_stops_the_answer_and_the_chat_goes_on(ollama_server: Any, tmp_path: Path) -> None:
    saved = tmp_path / "after-ctrl-c.md"
    proc = _spawn(ollama_server.url, tmp_path, "--num-predict", "1500")
    assert proc.stdin is not None
    proc.stdin.write("Write a very long story about a ship and its crew.\n")
    proc.stdin.flush()
    # Wait until the answer is streaming (text after the echoed question).
    seen = _read_until(
        proc, lambda text: "crew.\n" in text and len(text.split("crew.\n", 1)[1]) > 40, timeout=180
    )
    proc.send_signal(signal.SIGINT)
    seen += _read_until(proc, lambda text: "stopped]" in text, timeout=60)
    proc.stdin.write(f"/save {saved}\n/exit\n")
    proc.stdin.flush()
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stopped]" in seen
    assert "saved 2 messages" in rest  # the question and the partial answer
    assert "Traceback" not in err
    partial = saved.read_text().split("**Assistant:**", 1)[1].strip()
    assert len(partial) > 20
