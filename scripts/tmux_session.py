#!/usr/bin/env python3
"""Drive the real ``gpuless`` wizard in tmux from launch to a streamed chat answer, saving the screen.

What it runs is what a user runs: the ``gpuless`` command with no arguments, in a tmux pane of
100x32, with keys sent through tmux. Launch uses the real Docker engine with the local test image
(``gpuless-test/ollama:local``, built by scripts/prepare-test-machine.sh: Ollama's API over real
llama.cpp), on a free loopback port, under a container and volume name of its own that are removed at
the end. After every step the pane's text is saved as ``docs/session-example/NN-step.txt``.

    python scripts/tmux_session.py [--out docs/session-example] [--image gpuless-test/ollama:local]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SESSION = "gpuless-session-example"
MODEL = "smollm2:135m"
QUESTION = "In two sentences: why does a laptop without a GPU still run a small LLM well?"


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def screen() -> str:
    return tmux("capture-pane", "-p", "-t", SESSION)


def keys(*names: str) -> None:
    for name in names:
        tmux("send-keys", "-t", SESSION, name)
        time.sleep(0.15)


def text(literal: str) -> None:
    tmux("send-keys", "-t", SESSION, "-l", literal)
    time.sleep(0.2)


def wait_for(needle: str, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        shown = screen()
        if needle in shown:
            return shown
        time.sleep(0.25)
    raise SystemExit(f"tmux_session: {needle!r} did not appear within {seconds:.0f} s; screen:\n{screen()}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/session-example"))
    parser.add_argument("--image", default="gpuless-test/ollama:local")
    args = parser.parse_args()
    if shutil.which("tmux") is None or shutil.which("gpuless") is None:
        print("tmux_session: needs tmux and the gpuless command on PATH", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = f"{os.getpid()}"
    container, volume = f"gpuless-session-{suffix}", f"gpuless-session-models-{suffix}"
    url = f"http://127.0.0.1:{free_port()}"
    work = Path(tempfile.mkdtemp(prefix="gpuless-session-"))
    env = {
        "GPULESS_IMAGE": args.image,
        "GPULESS_OLLAMA_URL": url,
        "GPULESS_CONTAINER_NAME": container,
        "GPULESS_VOLUME_NAME": volume,
        "GPULESS_DATA_DIR": str(work / "data"),
        "GPULESS_CACHE_DIR": str(Path(tempfile.gettempdir()) / "gpuless-session-cache"),
        "TERM": "xterm-256color",
    }
    exports = " ".join(f"{k}={v}" for k, v in env.items())
    steps: list[tuple[str, float]] = []

    def save(name: str, started: float) -> None:
        index = len(steps) + 1
        (args.out / f"{index:02d}-{name}.txt").write_text(screen().rstrip() + "\n", encoding="utf-8")
        steps.append((name, time.monotonic() - started))

    tmux("new-session", "-d", "-s", SESSION, "-x", "100", "-y", "32", f"cd {work} && env {exports} gpuless")
    try:
        t = time.monotonic()
        wait_for("Detected.", 30)
        save("machine", t)

        t = time.monotonic()
        keys("2")
        wait_for("Pick:", 30)
        save("model", t)

        t = time.monotonic()
        keys("3")
        wait_for("not saved yet", 15)
        keys("s")
        wait_for("Saved", 15)
        save("compose", t)

        t = time.monotonic()
        keys("4")
        wait_for("ctrl+s starts", 15)
        keys("BTab")  # from the Start button to the model field
        keys("C-u")  # clear the picked tag: the test image can only pull the small test models
        text(MODEL)
        keys("Enter")
        wait_for("n to benchmark", 300)
        save("launch", t)

        t = time.monotonic()
        keys("5")
        wait_for("b runs a quick benchmark", 15)
        keys("b")
        wait_for("grade ", 300)  # the verdict line: "grade A, 70+ tok/s: …"
        save("benchmark", t)

        t = time.monotonic()
        keys("6")
        wait_for("Connected to", 30)
        text(QUESTION)
        keys("Enter")
        wait_for(" tokens · ", 120)
        save("chat", t)
        keys("C-q")
        time.sleep(1)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
        subprocess.run(["docker", "rm", "-f", container], capture_output=True)
        subprocess.run(["docker", "volume", "rm", "-f", volume], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    for name, seconds in steps:
        print(f"{name:10s} {seconds:6.1f} s")
    print(f"screens saved in {args.out}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
