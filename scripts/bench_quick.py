"""Wall time of the default `gpuless bench` (the quick plan) for smollm2:135m on this machine.

Starts the Ollama-API test server (tests/ollama_server, real llama.cpp) on a free loopback port with
OLLAMA_NUM_PARALLEL=4, then runs `gpuless bench --url URL --model smollm2:135m --no-history` as a user
would (a subprocess, no other option) and prints its live stderr lines, its result and the wall time
from start to exit. The target of issue 13 is ≤ 20 s.

    python scripts/bench_quick.py [--model smollm2:135m] [--out docs/bench-quick.txt]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.ollama_server.fixtures import engine_missing, start_server  # noqa: E402
from tests.ollama_server.registry import default_registry_dir  # noqa: E402

TARGET_S = 20.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2:135m")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench-quick.txt")
    args = parser.parse_args()
    reason = engine_missing()
    if reason:
        print(f"bench_quick: {reason}", file=sys.stderr)
        return 1
    lines: list[str] = []

    def out(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    load1, load5, _ = os.getloadavg()
    out("default `gpuless bench` wall time (quick plan)")
    out(f"load average at start: {load1:.2f} (1 min), {load5:.2f} (5 min) — the machine is shared")
    with tempfile.TemporaryDirectory(prefix="gpuless-bench-quick-") as work:
        server = start_server(Path(work), {"OLLAMA_NUM_PARALLEL": "4"}, (args.model,), default_registry_dir())
        try:
            command = ["gpuless", "bench", "--url", server.url, "--model", args.model, "--no-history"]
            out("$ " + " ".join(command).replace(server.url, "http://127.0.0.1:PORT"))
            env = {**os.environ, "GPULESS_DATA_DIR": str(Path(work) / "data"), "NO_COLOR": "1"}
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, "-m", "toolkit", *command[1:]],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            assert proc.stderr is not None and proc.stdout is not None
            for line in proc.stderr:  # live progress, as the user sees it
                out(f"{time.perf_counter() - t0:5.1f} s | {line.rstrip()}")
            stdout = proc.stdout.read()
            code = proc.wait()
            wall = time.perf_counter() - t0
        finally:
            server.stop()
    out()
    for line in stdout.splitlines():
        out(line.replace(server.url, "http://127.0.0.1:PORT"))
    out()
    verdict = "within" if wall <= TARGET_S else "OVER"
    if "stopped early" in stdout:
        verdict = "cut short by its time bound: NOT a full quick run, so not"
    if code != 0:
        verdict = "the run FAILED, so not"
    out(f"wall time of the default `gpuless bench` ({args.model}): {wall:.1f} s, exit {code} "
        f"({verdict} the {TARGET_S:g} s target)")  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"(written to {args.out})", file=sys.stderr)
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
