#!/usr/bin/env python3
"""Measure how long ``gpuless`` (no arguments) takes to paint its first screen, in a real terminal.

Each run starts the real command in a fresh tmux pane and polls the pane's text every 10 ms: "first
screen" is when the step bar is visible, "detected" is when the Machine step shows detection results
(detection runs in a thread worker after the first paint). Prints each run and the median.

    python scripts/measure_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

SESSION = "gpuless-measure-startup"
FIRST_SCREEN = "1 Machine"
DETECTED = "Detected."


def pane_text() -> str:
    return subprocess.run(
        ["tmux", "capture-pane", "-p", "-t", SESSION], capture_output=True, text=True, check=False
    ).stdout


def one_run(limit_s: float = 30.0) -> tuple[float, float]:
    subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True, check=False)
    start = time.perf_counter()
    subprocess.run(
        [
            "tmux",
            "new-session",
            "-d",
            "-s",
            SESSION,
            "-x",
            "100",
            "-y",
            "32",
            "env TERM=xterm-256color gpuless",
        ],
        check=True,
    )
    first = detected = None
    try:
        while time.perf_counter() - start < limit_s:
            text = pane_text()
            now = time.perf_counter() - start
            if first is None and FIRST_SCREEN in text:
                first = now
            if DETECTED in text:
                detected = now
                break
            time.sleep(0.01)
    finally:
        subprocess.run(["tmux", "send-keys", "-t", SESSION, "C-q"], capture_output=True, check=False)
        time.sleep(0.3)
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True, check=False)
    if first is None or detected is None:
        raise SystemExit(f"measure_startup: the wizard did not show its first screen within {limit_s:.0f} s")
    return first, detected


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if shutil.which("tmux") is None or shutil.which("gpuless") is None:
        print("measure_startup: needs tmux and the gpuless command on PATH", file=sys.stderr)
        return 2
    firsts, detecteds = [], []
    for index in range(1, args.runs + 1):
        first, detected = one_run()
        firsts.append(first)
        detecteds.append(detected)
        print(f"run {index}: first screen {first * 1000:6.0f} ms, machine detected {detected * 1000:6.0f} ms")
    print(
        f"median: first screen {statistics.median(firsts) * 1000:.0f} ms "
        f"(target < 1000 ms), machine detected {statistics.median(detecteds) * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
