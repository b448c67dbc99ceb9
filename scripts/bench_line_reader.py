"""Time and peak memory of the streaming client's line reader on hostile and normal input.

    python scripts/bench_line_reader.py > docs/line-reader.txt

Three measurements, each against a server in a separate process on 127.0.0.1 (so the CPU figures
are the client's alone), each bounded to a few seconds:

1. splitting one long line without a newline, the old way (``pending + data`` per read) next to
   ``LineSplitter``: the old cost grows with the square of the length, the new one linearly;
2. the whole client (``OllamaClient`` → ``linestream``) fed a 50 MB line: it must end with an error
   once the line passes the 1 MiB cap, with memory bounded by the cap, not the line; and the same
   line read to the end with the cap raised to 64 MiB, to show the reading itself is linear;
3. the hot path: client CPU per streamed token (one NDJSON line per chunk, paced like a model), the
   reader before this change (``git show 3658abe:toolkit/adapters/ollama/linestream.py``) next to this one.
"""

from __future__ import annotations

import asyncio
import importlib.util
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit.adapters.ollama import linestream  # noqa: E402
from toolkit.adapters.ollama.client import OllamaClient  # noqa: E402
from toolkit.errors import StreamError  # noqa: E402

MB = 1_000_000
OLD_COMMIT = "3658abe"

# A one-connection-at-a-time server: "long N" sends a chunked body of N bytes of "a" and then "\n";
# "tokens N" sends N NDJSON chat lines, one chunk each, 1 ms apart, then a final line.
SERVER = r"""
import json, socket, sys, time
listener = socket.socket(); listener.bind(("127.0.0.1", 0)); listener.listen(8)
print(listener.getsockname()[1], flush=True)
mode, n, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for _ in range(count):
    conn, _ = listener.accept()
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
              if l.lower().startswith(b"content-length")]
    while length and len(body) < length[0]:
        body += conn.recv(65536)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n")
    def chunk(b):
        conn.sendall(b"%x\r\n" % len(b) + b + b"\r\n")
    try:
        if mode == "long":
            piece = b"a" * 65536
            sent = 0
            while sent < n:
                part = piece[: min(65536, n - sent)]
                chunk(part)
                sent += len(part)
            chunk(b"\n")
        else:
            line = json.dumps({"message": {"content": " word"}, "done": False}).encode() + b"\n"
            for _ in range(n):
                chunk(line)
                time.sleep(0.001)
            chunk(json.dumps({"message": {"content": ""}, "done": True, "eval_count": n}).encode() + b"\n")
        conn.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    conn.close()
"""


def _server(mode: str, n: int, count: int = 1) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, mode, str(n), str(count)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


def _old_split(size: int) -> float:
    """CPU seconds of the old unfinished-line handling (``pending + data`` per 64 KiB read)."""
    piece = b"a" * 65536
    pending = b""
    started = time.process_time()
    for _ in range(size // len(piece)):
        *_complete, pending = (pending + piece if pending else piece).split(b"\n")
    return time.process_time() - started


def _new_split(size: int) -> float:
    piece = b"a" * 65536
    splitter = linestream.LineSplitter(max_line=size + 1)
    started = time.process_time()
    for _ in range(size // len(piece)):
        splitter.feed(piece)
    splitter.feed(b"\n")
    return time.process_time() - started


async def _read_long(port: int, max_line: int | None) -> tuple[str, int]:
    """Read the long line through the client; (outcome, longest line read)."""
    if max_line is None:
        client = OllamaClient(f"http://127.0.0.1:{port}", timeout=30.0)
        try:
            async for _ in client.stream_chat("m", [{"role": "user", "content": "hi"}]):
                pass
        except StreamError as error:
            return f"StreamError: {error.message}", 0
        finally:
            await client.aclose()
        return "no error", 0
    transport = linestream.LeanTransport("127.0.0.1", port)
    limits = linestream.Limits(gap=30.0, connect=5.0, max_line=max_line)
    longest = 0
    async with linestream.request(transport, "POST", "/api/chat", {"model": "m"}, limits) as response:
        async for line in response.lines():
            longest = max(longest, len(line))
    return "read to the end", longest


def _measure_long(size: int, max_line: int | None) -> tuple[str, int, float, float, float]:
    proc, port = _server("long", size)
    tracemalloc.start()
    cpu, wall = time.process_time(), time.perf_counter()
    try:
        outcome, longest = asyncio.run(_read_long(port, max_line))
    finally:
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        proc.kill()
        proc.wait()
    return outcome, longest, cpu, wall, peak / MB


def _old_module() -> Any:
    source = subprocess.run(
        ["git", "show", f"{OLD_COMMIT}:toolkit/adapters/ollama/linestream.py"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    if not source:
        return None
    path = Path(tempfile.mkdtemp()) / "old_linestream.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_linestream", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def _tokens_new(port: int) -> int:
    transport = linestream.LeanTransport("127.0.0.1", port)
    limits = linestream.Limits(gap=30.0, connect=5.0, deadline=time.monotonic() + 60)
    count = 0
    async with linestream.request(transport, "POST", "/api/chat", {"model": "m"}, limits) as response:
        async for _ in response.lines():
            count += 1
    return count


async def _tokens_old(module: Any, port: int) -> int:
    count = 0
    async for _ in module.post_lines(
        "127.0.0.1", port, "/api/chat", {"model": "m"}, timeout=30.0, connect_timeout=5.0
    ):
        count += 1
    return count


def _measure_tokens(n: int, reader: Any) -> float:
    proc, port = _server("tokens", n)
    try:
        started = time.process_time()
        lines: int = asyncio.run(reader(port))
        cpu = time.process_time() - started
    finally:
        proc.kill()
        proc.wait()
    assert lines == n + 1, lines
    return cpu / lines * 1e6


def main() -> None:
    print("1. One unfinished line, split in 64 KiB reads (client CPU seconds)")
    print(f"   {'line':>8}  {'old (pending + data)':>21}  {'LineSplitter':>12}")
    for size in (2 * MB, 4 * MB, 8 * MB, 50 * MB):
        old = f"{_old_split(size):.3f} s" if size <= 8 * MB else "(skipped)"
        print(f"   {size // MB:>5} MB  {old:>21}  {_new_split(size):>10.3f} s")
    print()
    print("2. A 50 MB line from a server, through the client (CPU and wall seconds, peak Python memory)")
    for label, max_line in (("default cap (1 MiB)", None), ("cap raised to 64 MiB", 64 << 20)):
        outcome, longest, cpu, wall, peak = _measure_long(50 * MB, max_line)
        extra = f", longest line {longest / MB:.1f} MB" if longest else ""
        print(f"   {label}: {outcome}{extra}")
        print(f"      client CPU {cpu:.3f} s, wall {wall:.3f} s, peak memory {peak:.1f} MB")
    print()
    print("3. Hot path: client CPU per streamed line (3000 lines, 1 ms apart, one chunk each)")
    old = _old_module()
    new_us = min(_measure_tokens(3000, _tokens_new) for _ in range(2))
    if old is not None:
        old_us = min(_measure_tokens(3000, lambda port: _tokens_old(old, port)) for _ in range(2))
        print(f"   reader at {OLD_COMMIT} (before): {old_us:.0f} µs per line")
    print(f"   this reader (guards included): {new_us:.0f} µs per line")


if __name__ == "__main__":
    main()
