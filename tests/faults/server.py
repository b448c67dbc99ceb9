"""An Ollama look-alike on loopback that serves one bad behaviour on demand, for the fault table.

Everything it does not break it answers as Ollama would (version, tags, show, load, a short streamed
chat, the OpenAI stream, a pull), so each fault is met where a real session meets it. It writes raw
bytes to the socket, because most faults (a bad Content-Length, a 70 KiB header, a chunk that
declares 64 GiB) are exactly what an HTTP library would refuse to produce. Loopback only; every
loop it runs is bounded in count and time.

    with FaultServer("trickle") as server:
        subprocess.run(["gpuless", "bench", "--url", server.url, ...])
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

#: fault name → what the server does instead of answering well.
FAULTS = {
    "none": "behave",
    "bad_content_length": "chat answers with Content-Length: abc",
    "huge_header": "chat answers with a 70 KiB header line",
    "content_not_string": 'chat streams {"message": {"content": 123}}',
    "sse_not_object": 'the OpenAI stream sends {"choices": ["x"]}',
    "tags_list": "/api/tags answers a JSON list",
    "long_line": "chat streams 2 MiB without a newline",
    "huge_chunk": "chat declares a chunk of 64 GiB and streams 2 MiB of it without a newline",
    "trickle": "chat sends one token, then one space every 0.5 s (for up to 60 s)",
    "stall": "chat sends its headers, then nothing (for up to 60 s)",
    "html_500": "chat answers 500 with a multi-line HTML page",
    "html_404": "every path answers 404 with an HTML page (not Ollama)",
    "escapes": "answers, model names and errors carry terminal escape sequences",
    "hostile": "every name, version, error and answer carries OSC, CSI, 8-bit CSI and DCS sequences",
    "markup": "model names, answers and errors carry Textual/Rich markup brackets ([/], [b], list[int])",
    "busy_503": "chat answers 503 while another chat is in flight",
    "slow": "chat streams one token every 0.2 s (for up to 60 s)",
    "pull_unreachable": "a pull ends with Ollama's error for a registry it cannot resolve (no network)",
    "pull_disk_full": "a pull ends with Ollama's error for a full disk",
    "pull_slow": "a pull reports 1 MB more of 100 MB every 0.2 s (for up to 20 s)",
    "endless": "every path answers 200 and a JSON body that never ends (64 KiB pieces, for up to 60 s)",
    "trickle_all": "every path answers 200, then one byte of body every 0.5 s (for up to 60 s)",
    "redirect": "every path answers 301 to http://127.0.0.1:9/elsewhere (Location header, empty body)",
    "create_reset": "/api/create resets the connection without an answer (a server removed mid-request)",
}

#: What Ollama 0.x streams as the last line of a pull that failed this way.
PULL_ERRORS = {
    "pull_unreachable": 'pull model manifest: Get "https://registry.ollama.ai/v2/library/{name}/manifests/{tag}":'
    " dial tcp: lookup registry.ollama.ai on 127.0.0.11:53: no such host",
    "pull_disk_full": "write /root/.ollama/models/blobs/sha256-6a0746a1ec1a-partial-0: "
    "no space left on device",
}

MODEL = "m:latest"
REDIRECT_TO = "http://127.0.0.1:9/elsewhere"
MARKUP_MODEL = "[/]m[b]:latest"
#: A window title (OSC ... BEL), a colour (CSI), an 8-bit CSI (0x9b) and a DCS string (ESC P ... ESC \).
HOSTILE = "evil\x1b]0;PWNED-TITLE\x07\x1b[31mRED\x9b31m\x1bPdcs-payload\x1b\\"
HOSTILE_MODEL = f"{HOSTILE}:latest"
_ESC_ANSWER = "\x1b]0;pwned\x07Hello \x1b[2J\x1b[31mworld\x1b[0m\r"
_HTML = (
    "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n"
    "<hr><center>nginx</center>\n</body>\n</html>\n"
)


def _final(**extra: Any) -> dict[str, Any]:
    return {
        "model": MODEL, "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop",
        "total_duration": 50_000_000, "load_duration": 1_000_000, "prompt_eval_count": 12,
        "prompt_eval_duration": 10_000_000, "eval_count": 3, "eval_duration": 30_000_000, **extra,
    }  # fmt: skip


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        request_line = self.rfile.readline(65536).decode("latin-1")
        if not request_line:
            return
        method, path = request_line.split()[:2]
        length = 0
        while (line := self.rfile.readline(65536)) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        body = json.loads(self.rfile.read(length)) if length else {}
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up, as it should
            self.server.respond(self, method, path, body)

    # --- writing -----------------------------------------------------------------------------------

    def send(self, status: int, body: bytes, content_type: str = "application/json", extra: str = "") -> None:
        reason = {200: "OK", 301: "Moved Permanently", 404: "Not Found", 500: "Internal Server Error",
                  503: "Service Unavailable"}  # fmt: skip
        head = (
            f"HTTP/1.1 {status} {reason.get(status, 'Status')}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n{extra}Connection: close\r\n\r\n"
        )
        self.wfile.write(head.encode() + body)

    def send_json(self, data: Any, status: int = 200) -> None:
        self.send(status, json.dumps(data).encode())

    def start_chunked(self, content_type: str = "application/x-ndjson") -> None:
        self.wfile.write(
            f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n"
            "Connection: close\r\n\r\n".encode()
        )

    def chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def end_chunked(self) -> None:
        self.wfile.write(b"0\r\n\r\n")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fault: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fault = fault
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.in_flight = 0
        self.requests: list[str] = []

    def respond(self, h: _Handler, method: str, path: str, body: dict[str, Any]) -> None:
        fault = self.fault
        self.requests.append(f"{method} {path}")
        if fault in ("endless", "trickle_all"):
            return self.never_ends(h, fault)
        if fault == "redirect":
            return h.send(301, b"", extra=f"Location: {REDIRECT_TO}\r\n")
        if fault == "html_404":
            return h.send(404, _HTML.replace("502 Bad Gateway", "404 Not Found").encode(), "text/html")
        if path == "/api/version":
            return h.send_json({"version": f"0.9.0{HOSTILE}" if fault == "hostile" else "0.9.0"})
        if path == "/api/tags":
            if fault == "tags_list":
                return h.send_json([{"name": MODEL}])
            name = {"escapes": "m\x1b[31m:latest", "markup": MARKUP_MODEL, "hostile": HOSTILE_MODEL}.get(
                fault, MODEL
            )
            return h.send_json({"models": [{"name": name, "model": name, "size": 1000}]})
        if path == "/api/show":
            if fault == "hostile":
                return h.send_json(
                    {"details": {"quantization_level": HOSTILE, "family": HOSTILE}, "model_info": {},
                     "parameters": f"num_ctx {HOSTILE}", "license": HOSTILE, "capabilities": [HOSTILE]}
                )  # fmt: skip
            return h.send_json({"details": {"quantization_level": "Q4_0"}, "model_info": {}})
        if path == "/api/ps" and fault == "hostile":
            return h.send_json({"models": [{"name": HOSTILE_MODEL, "model": HOSTILE_MODEL, "size": 1000,
                                            "expires_at": HOSTILE, "context_length": 4096}]})  # fmt: skip
        if path == "/api/generate":  # the benchmark's load request
            return h.send_json(_final())
        if path == "/api/pull":
            h.start_chunked()
            if fault == "pull_slow":
                until = time.monotonic() + 20
                done = 0
                while time.monotonic() < until and not self.stopping.wait(0.2):
                    done += 1_000_000
                    line = {"status": "pulling 6a0746a1ec1a", "digest": "sha256:6a07", "total": 100_000_000}
                    try:
                        h.chunk(json.dumps({**line, "completed": done}).encode() + b"\n")
                    except OSError:  # the client went away (a cancelled pull)
                        return None
                return h.end_chunked()
            if fault in PULL_ERRORS:
                name, _, tag = str(body.get("model", "")).partition(":")
                h.chunk(b'{"status":"pulling manifest"}\n')
                error = PULL_ERRORS[fault].format(name=name, tag=tag or "latest")
                h.chunk(json.dumps({"error": error}).encode() + b"\n")
            else:
                h.chunk(b'{"status":"success"}\n')
            return h.end_chunked()
        if path == "/api/create":
            if fault == "create_reset":  # RST rather than FIN: SO_LINGER on, zero seconds
                h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                h.connection.close()
                return None
            return h.send_json({"status": "success"})
        if path == "/api/chat":
            return self.chat(h)
        if path == "/v1/chat/completions":
            return self.openai(h)
        return h.send(404, b"404 page not found", "text/plain")

    def never_ends(self, h: _Handler, fault: str) -> None:
        h.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
        piece, pause = (b'{"models":[' + b" " * 65525, 0.0) if fault == "endless" else (b" ", 0.5)
        until = time.monotonic() + 60
        with contextlib.suppress(OSError):  # the client gave up, as it should
            while time.monotonic() < until and not self.stopping.wait(pause):
                h.wfile.write(piece)
                h.wfile.flush()

    def chat(self, h: _Handler) -> None:
        fault = self.fault
        token = b'{"message":{"role":"assistant","content":"Hi"},"done":false}\n'
        if fault == "bad_content_length":
            h.wfile.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nContent-Length: abc\r\n\r\n"
            )
            h.wfile.write(token)
            return None
        if fault == "huge_header":
            return h.send(200, token, extra=f"X-Pad: {'a' * 70_000}\r\n")
        if fault == "html_500":
            return h.send(500, _HTML.encode(), "text/html")
        if fault in ("escapes", "markup", "hostile"):
            error = {
                "error": {
                    "markup": "model crashed [/] at list[int]",
                    "hostile": f"model crashed{HOSTILE}\nsecond line",
                }.get(fault, "model crashed\x1b[31m\nsecond line\x1b]0;pwned\x07")
            }
            if self.requests.count("POST /api/chat") > 1:  # the first answer is fine, then an error
                return h.send_json(error, 500)
        if fault == "busy_503":
            with self.lock:
                busy = self.in_flight > 0
                self.in_flight += 0 if busy else 1
            if busy:
                return h.send_json(
                    {"error": "server busy, please try again.  maximum pending requests exceeded"}, 503
                )
            released = False

            def release() -> None:  # before the last chunk: a client may send its next request on it
                nonlocal released
                if not released:
                    released = True
                    with self.lock:
                        self.in_flight -= 1

            try:
                return self._stream(h, token, pause=0.3, before_final=release)
            finally:
                release()
        h.start_chunked()
        if fault == "content_not_string":
            return h.chunk(b'{"message":{"role":"assistant","content":123},"done":false}\n')
        if fault == "long_line":
            for _ in range(32):
                h.chunk(b"a" * 65536)
            return h.end_chunked()
        if fault == "huge_chunk":
            h.wfile.write(b"fffffffff\r\n")
            for _ in range(32):
                h.wfile.write(b"a" * 65536)
            return None
        if fault in ("trickle", "stall", "slow"):
            h.chunk(token)
            pause = {"trickle": 0.5, "stall": 60.0, "slow": 0.2}[fault]
            until = time.monotonic() + 60
            while time.monotonic() < until and not self.stopping.wait(min(pause, until - time.monotonic())):
                h.chunk(b" " if fault == "trickle" else token)
            return None
        text = {"escapes": _ESC_ANSWER, "markup": "It is list[int] [/] ok", "hostile": HOSTILE}.get(
            fault, "Hi there"
        )
        h.chunk(
            json.dumps({"message": {"role": "assistant", "content": text}, "done": False}).encode() + b"\n"
        )
        h.chunk(json.dumps(_final(model=HOSTILE_MODEL if fault == "hostile" else MODEL)).encode() + b"\n")
        return h.end_chunked()

    def _stream(
        self, h: _Handler, token: bytes, pause: float, before_final: Callable[[], None] = lambda: None
    ) -> None:
        h.start_chunked()
        for _ in range(3):
            h.chunk(token)
            time.sleep(pause / 3)
        before_final()
        h.chunk(json.dumps(_final()).encode() + b"\n")
        h.end_chunked()

    def openai(self, h: _Handler) -> None:
        h.start_chunked("text/event-stream")
        if self.fault == "sse_not_object":
            h.chunk(b'data: {"choices":["x"]}\n\n')
            return h.end_chunked()
        h.chunk(b'data: {"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n')
        h.chunk(b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],'
                b'"usage":{"prompt_tokens":5,"completion_tokens":1}}\n\n')  # fmt: skip
        h.chunk(b"data: [DONE]\n\n")
        return h.end_chunked()


class FaultServer:
    """The server in a background thread; ``url`` is where it listens (127.0.0.1, a free port)."""

    def __init__(self, fault: str = "none") -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
        self._server = _Server(fault)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def requests(self) -> list[str]:
        return list(self._server.requests)

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _main() -> None:  # python -m tests.faults.server FAULT: serve until Ctrl-C (for trying by hand)
    import sys

    with FaultServer(sys.argv[1] if len(sys.argv) > 1 else "none") as server:
        print(server.url, flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    _main()
