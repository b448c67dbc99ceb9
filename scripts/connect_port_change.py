"""An app written from `gpuless connect` keeps working when the server moves to another port.

Issue 25 (item 5): the snippets read the environment lines `connect` prints, so a port change needs new
env lines, not an edit of the app. This script shows it end to end, as a user would do it: it starts
the Ollama-API test server (tests/ollama_server, real llama.cpp) on one loopback port, writes
`app.py` with `gpuless connect --snippet python`, runs it with the env lines `gpuless connect --snippet env`
prints, moves the server to another port, prints the env lines again and runs the same `app.py`
(unchanged: its sha256 is printed before and after). Output: docs/connect-port-change.txt.

    python scripts/connect_port_change.py [--out docs/connect-port-change.txt]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.ollama_server.fixtures import ServerHandle, engine_missing, start_server  # noqa: E402
from tests.ollama_server.registry import default_registry_dir  # noqa: E402

BASE = "smollm2:135m"
#: A served model whose Modelfile caps the answer (as `PARAMETER num_predict 48` does in Ollama): the
#: snippet sets no length, and a toy model can ramble until its context is full.
MODEL = "smollm2:135m-short"


def gpuless(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout


def run_app(app: Path, env_lines: str) -> str:
    env = {
        k: v for k, v in os.environ.items() if k not in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "OLLAMA_HOST")
    }
    env |= dict(line.removeprefix("export ").split("=", 1) for line in env_lines.splitlines() if "=" in line)
    done = subprocess.run(
        [sys.executable, str(app)], capture_output=True, text=True, timeout=300, env=env, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"app.py exited {done.returncode}: {done.stderr.strip()[-300:]}")
    return " ".join(done.stdout.split())[:100]


def serve(work: Path) -> ServerHandle:
    work.mkdir()
    server = start_server(work, {"OLLAMA_NUM_PARALLEL": "1"}, (BASE,), default_registry_dir())
    create = {"model": MODEL, "from": BASE, "parameters": {"num_predict": 48}, "stream": False}
    httpx.post(f"{server.url}/api/create", json=create, timeout=120).raise_for_status()
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "connect-port-change.txt")
    args = parser.parse_args()
    reason = engine_missing()
    if reason:
        print(f"connect_port_change: {reason}", file=sys.stderr)
        return 1
    lines: list[str] = []

    def out(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    with tempfile.TemporaryDirectory(prefix="gpuless-port-change-") as tmp:
        work = Path(tmp)
        app = work / "app.py"
        first = serve(work / "a")
        try:
            url_a = first.url
            app.write_text(gpuless("connect", "--url", url_a, "--model", MODEL, "--snippet", "python"))
            digest = hashlib.sha256(app.read_bytes()).hexdigest()[:16]
            env_a = gpuless("connect", "--url", url_a, "--snippet", "env")
            out(f"app.py written by `gpuless connect --snippet python` (sha256 {digest}…); its first line:")
            out(f"  {app.read_text().splitlines()[0]}")
            out(f"server on {url_a}; env lines from `gpuless connect --snippet env`:")
            out("".join(f"  {line}\n" for line in env_a.splitlines()).rstrip())
            out(f"  app.py answers: {run_app(app, env_a)!r}")
        finally:
            first.stop()
        second = serve(work / "b")
        try:
            url_b = second.url
            env_b = gpuless("connect", "--url", url_b, "--snippet", "env")
            out(f"server moved to {url_b}; new env lines:")
            out("".join(f"  {line}\n" for line in env_b.splitlines()).rstrip())
            same = hashlib.sha256(app.read_bytes()).hexdigest()[:16]
            answer = run_app(app, env_b)
            out(f"  the same app.py (sha256 {same}…, unchanged: {same == digest}) answers: {answer!r}")
        finally:
            second.stop()
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
