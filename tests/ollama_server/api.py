"""Ollama's HTTP API over the scheduler and store: routes, status codes, NDJSON and SSE streaming.

Pure stdlib (`http.server`), so the container needs only python3, xllamacpp and this package.
Streams use chunked transfer encoding as Ollama (Gin) does; errors are `{"error": "..."}` with Ollama's
status codes, and an error after streaming began is a final `{"error": ...}` line under HTTP 200.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .config import FOREVER, VERSION, Settings, parse_duration
from .gguf import read_gguf
from .log import log
from .options import KNOWN_PARAMETERS, OptionError, check_options, llama_body
from .registry import ModelName, Registry, Store, StoredModel, UnknownModel
from .runner import RunnerError
from .scheduler import QueueFull, Scheduler
from .thinking import generate, reasoning_effort_think, wants_thinking
from .wire import Metrics, created_at, dumps_line, put_metrics


class ApiError(Exception):
    """An error answered with `status` and `{"error": message}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ClientGone(Exception):
    """The client closed the connection."""


@dataclass(frozen=True)
class Outcome:
    """How a generation ended: done_reason and the six metrics."""

    done_reason: str
    metrics: Metrics


class OllamaServer(ThreadingHTTPServer):
    """The HTTP server and the state its handlers share."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, settings: Settings, registry: Registry | None) -> None:
        self.settings = settings
        self.store = Store(settings.models_dir)
        self.registry = registry
        self.scheduler = Scheduler(settings)
        self._seq = 0
        if ":" in settings.host:
            self.address_family = socket.AF_INET6
        super().__init__((settings.host, settings.port), Handler)

    def next_id(self) -> int:
        self._seq += 1
        return self._seq

    def server_close(self) -> None:
        super().server_close()
        self.scheduler.close()


def _done_reason(stop_type: str) -> str:
    return "length" if stop_type == "limit" else "stop"


def _model_name(body: dict[str, Any]) -> ModelName:
    raw = body.get("model") or body.get("name")
    if not raw or not isinstance(raw, str):
        raise ApiError(400, "model is required")
    try:
        return ModelName.parse(raw)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    #: TCP_NODELAY on each accepted connection, as Ollama's Go server has: Go's net package sets it on every
    #: TCP connection (``newTCPConn`` in src/net/tcpsock.go calls ``setNoDelay(fd, true)``). Without it a
    #: streamed chunk waits on Nagle's algorithm and the reader's delayed ACK (tens of ms per chunk).
    disable_nagle_algorithm = True
    server: OllamaServer
    server_version = "ollama-test"
    sys_version = ""

    # ------------------------------------------------------------------ plumbing

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one [GIN]-style line per request is written by _log_request instead

    def _log_request(self, status: int, started: float) -> None:
        elapsed = time.monotonic() - started
        log(
            f"[GIN] | {status} | {elapsed * 1000:.3f}ms | {self.client_address[0]} | "
            f'{self.command} "{self.path}"',
            source="routes.go",
        )

    def _read_body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw.strip():
            raise ApiError(400, "missing request body")
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise ApiError(400, f"invalid request body: {exc}") from None
        if not isinstance(body, dict):
            raise ApiError(400, "invalid request body")
        return body

    def _send(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self._status = status

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj, separators=(",", ":")).encode(), "application/json; charset=utf-8")

    def _start_stream(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._status = 200

    def _chunk(self, data: bytes) -> None:
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            raise ClientGone from None

    def _end_stream(self) -> None:
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _dispatch(self, routes: dict[str, Callable[[], None]]) -> None:
        started = time.monotonic()
        self._status = 0
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        route = routes.get(path)
        try:
            if route is None:
                self._send(404, b"404 page not found", "text/plain")
            else:
                route()
        except ApiError as exc:
            if path.startswith("/v1/"):
                kind = {400: "invalid_request_error", 404: "not_found_error"}.get(exc.status, "api_error")
                self._json(
                    exc.status, {"error": {"message": exc.message, "type": kind, "param": None, "code": None}}
                )
            else:
                self._json(exc.status, {"error": exc.message})
        except ClientGone:
            self.close_connection = True
        except Exception as exc:  # a bug must not kill the connection silently
            log("request failed", level="ERROR", error=repr(exc))
            self.close_connection = True
            if self._status == 0:
                self._json(500, {"error": str(exc)})
        self._log_request(self._status, started)

    def do_GET(self) -> None:
        self._dispatch(
            {
                "/": self._root,
                "/api/version": self._version,
                "/api/tags": self._tags,
                "/api/ps": self._ps,
                "/v1/models": self._v1_models,
            }
        )

    do_HEAD = do_GET

    def do_POST(self) -> None:
        self._dispatch(
            {
                "/api/show": self._show,
                "/api/pull": self._pull,
                "/api/create": self._create,
                "/api/generate": self._generate,
                "/api/chat": self._chat,
                "/v1/chat/completions": self._v1_chat,
            }
        )

    def do_DELETE(self) -> None:
        self._dispatch({"/api/delete": self._delete})

    # ------------------------------------------------------------------ simple routes

    def _root(self) -> None:
        self._send(200, b"Ollama is running", "text/plain; charset=utf-8")

    def _version(self) -> None:
        self._json(200, {"version": VERSION})

    def _entry(self, stored: StoredModel) -> dict[str, Any]:
        return {
            "name": stored.name,
            "model": stored.name,
            "modified_at": created_at(stored.modified_at),
            "size": stored.size,
            "digest": stored.digest,
            "details": stored.details(),
        }

    def _tags(self) -> None:
        self._json(200, {"models": [self._entry(m) for m in self.server.store.list()]})

    def _v1_models(self) -> None:
        data = [
            {
                "id": m.name,
                "object": "model",
                "created": int(m.modified_at.timestamp()),
                "owned_by": "library",
            }
            for m in self.server.store.list()
        ]
        self._json(200, {"object": "list", "data": data})

    def _ps(self) -> None:
        now_wall, now_mono = datetime.now(UTC), time.monotonic()
        models = []
        for lm in self.server.scheduler.loaded():
            if lm.refs or lm.expires_at == FOREVER:
                remaining = lm.keep_alive if lm.keep_alive != FOREVER else None
            else:
                remaining = max(lm.expires_at - now_mono, 0.0)
            expires = now_wall + (
                timedelta(seconds=remaining) if remaining is not None else timedelta(days=106_751)
            )
            entry = self._entry(lm.model)
            entry.update(
                {
                    "size": max(lm.runner.rss_bytes(), lm.model.size),
                    "expires_at": created_at(expires),
                    "size_vram": 0,
                    "context_length": lm.runner.options.num_ctx,
                }
            )
            entry.pop("modified_at")
            models.append(entry)
        self._json(200, {"models": models})

    def _stored(self, name: ModelName) -> StoredModel:
        stored = self.server.store.get(name)
        if stored is None:
            raise ApiError(404, f"model '{name.short}' not found")
        return stored

    def _show(self) -> None:
        body = self._read_body()
        stored = self._stored(_model_name(body))
        info = (
            read_gguf(stored.blob, verbose=bool(body.get("verbose"))) if body.get("verbose") else stored.info
        )
        model_info = dict(info.metadata)
        model_info.pop("tokenizer.chat_template", None)
        model_info["general.parameter_count"] = info.parameter_count
        template = stored.template or str(stored.info.metadata.get("tokenizer.chat_template", ""))
        self._json(
            200,
            {
                "license": str(info.metadata.get("general.license", "")),
                "modelfile": f'# Modelfile generated by "ollama show"\nFROM {stored.blob}\n'
                + "".join(f"PARAMETER {key} {value}\n" for key, value in sorted(stored.params.items())),
                # fmt.Sprintf("%-*s %#v", 30, name, value), a line per list item (routes.go:1497-1509)
                "parameters": "\n".join(
                    f"{key:<30} {go_value(item)}"
                    for key, value in sorted(stored.params.items())
                    for item in (value if isinstance(value, list) else [value])
                ),
                "template": template,
                "details": stored.details(),
                "model_info": model_info,
                "capabilities": stored.capabilities(),
                "modified_at": created_at(stored.modified_at),
            },
        )

    def _delete(self) -> None:
        body = self._read_body()
        name = _model_name(body)
        stored = self._stored(name)
        self.server.scheduler.unload(stored)
        self.server.store.delete(name)
        self._send(200, b"", "text/plain")

    def _create(self) -> None:
        """``POST /api/create`` with ``from`` an existing model and ``parameters`` (a Modelfile's
        ``FROM`` and ``PARAMETER`` lines, as the ollama CLI sends them since v0.5.5)."""
        body = self._read_body()
        name = _model_name(body)
        source = body.get("from")
        if not isinstance(source, str) or not source.strip():
            raise ApiError(400, "neither 'from' or 'files' was specified")
        try:
            source_name = ModelName.parse(source)
        except ValueError:
            raise ApiError(400, f"invalid model name {source!r}") from None
        if self.server.store.get(source_name) is None:
            self._pull_quietly(source_name)  # Ollama pulls a `from` it does not have (server/create.go)
        base = self._stored(source_name)
        raw = body.get("parameters") or {}
        if not isinstance(raw, dict):
            raise ApiError(400, "parameters must be an object")
        # Stored as given: unknown names are ignored and wrong types fail when the model is loaded.
        params = {key: value for key, value in raw.items() if value is not None}
        for key in sorted(set(params) - KNOWN_PARAMETERS):
            log("invalid option provided", source="types.go", option=key)
        steps = self.server.store.create(name, base, params)
        if body.get("stream") is False:
            for _ in steps:
                pass
            self._json(200, {"status": "success"})
            return
        self._start_stream("application/x-ndjson")
        for step in steps:
            self._chunk(dumps_line(step))
        self._end_stream()

    def _pull_quietly(self, name: ModelName) -> None:
        try:
            for _ in self.server.store.pull(name, self.server.registry):
                pass
        except UnknownModel:
            raise ApiError(500, "pull model manifest: file does not exist") from None
        except (OSError, RuntimeError) as exc:
            raise ApiError(500, str(exc)) from None

    def _pull(self) -> None:
        body = self._read_body()
        name = _model_name(body)
        steps = self.server.store.pull(name, self.server.registry)
        if body.get("stream") is False:
            try:
                for _ in steps:
                    pass
            except UnknownModel:
                raise ApiError(500, "pull model manifest: file does not exist") from None
            except (OSError, RuntimeError) as exc:
                raise ApiError(500, str(exc)) from None
            self._json(200, {"status": "success"})
            return
        self._start_stream("application/x-ndjson")
        try:
            for step in steps:
                self._chunk(dumps_line(step))
        except UnknownModel:
            self._chunk(dumps_line({"error": "pull model manifest: file does not exist"}))
        except (OSError, RuntimeError) as exc:
            self._chunk(dumps_line({"error": str(exc)}))
        self._end_stream()

    # ------------------------------------------------------------------ generation

    def _think(self, stored: StoredModel, value: Any) -> bool | None:
        """Thinking for this request: None for a model that cannot think (server/routes.go:455-464)."""
        if not stored.thinks:
            if wants_thinking(value, False):
                raise ApiError(400, f'"{stored.name}" does not support thinking')
            return None
        return wants_thinking(value, True)

    def _common(self, body: dict[str, Any]) -> tuple[StoredModel, dict[str, Any], float]:
        name = _model_name(body)
        stored = self._stored(name)
        try:
            keep_alive = parse_duration(body.get("keep_alive"), self.server.settings.keep_alive)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        return stored, self._options(stored, body.get("options")), keep_alive

    def _options(self, stored: StoredModel, request: Any) -> dict[str, Any]:
        """The model's parameters overridden by the request's options. Both are checked when the runner
        is scheduled (server/routes.go:218): a wrong type is a 500 there (handleScheduleError, :3117),
        an unknown name a warning in the log (api/types.go FromMap), also for a created model's stored
        parameters."""
        try:
            return {**check_options(stored.params), **check_options(request)}
        except OptionError as exc:
            raise ApiError(500, str(exc)) from None

    def _load_or_unload(
        self, stored: StoredModel, opts: dict[str, Any], keep_alive: float, base: dict[str, Any]
    ) -> None:
        sched = self.server.scheduler
        if keep_alive == 0:
            sched.unload(stored)
            self._json(200, {**base, "done": True, "done_reason": "unload"})
            return
        try:
            sched.load_only(
                stored, sched.options_for(stored, opts.get("num_ctx"), opts.get("num_thread")), keep_alive
            )
        except QueueFull as exc:
            raise ApiError(503, str(exc)) from None
        except RunnerError as exc:
            raise ApiError(500, str(exc)) from None
        self._json(200, {**base, "done": True, "done_reason": "load"})

    def _run(
        self,
        stored: StoredModel,
        messages: list[dict[str, Any]] | None,
        prompt: str | None,
        opts: dict[str, Any],
        fmt: Any,
        keep_alive: float,
        started: float,
        on_token: Callable[[str], None],
        think: bool | None = None,
        on_thought: Callable[[str], None] = lambda _text: None,
    ) -> Outcome:
        """Generate with the model, calling on_token per piece of the answer and on_thought per piece of
        reasoning (``think`` None: a model that cannot think); returns how it ended."""
        sched = self.server.scheduler
        options = sched.options_for(stored, opts.get("num_ctx"), opts.get("num_thread"))
        try:
            with sched.lease(stored, options, keep_alive) as held:
                runner = held.loaded.runner
                try:
                    text = prompt
                    if messages is not None:
                        text = str(runner.post_json("/apply-template", {"messages": messages})["prompt"])
                    final = generate(runner, str(text), llama_body(opts, fmt), think, on_token, on_thought)
                except RunnerError:
                    sched.forget_dead(held.loaded)
                    raise
                timings = final.get("timings", {})
                log(
                    "llama.cpp timings",
                    source="llama_server.go",
                    model=stored.name,
                    cache_n=timings.get("cache_n", 0),
                    prompt_n=timings.get("prompt_n", 0),
                    prompt_ms=timings.get("prompt_ms", 0),
                    predicted_n=timings.get("predicted_n", 0),
                    predicted_ms=timings.get("predicted_ms", 0),
                    stop_type=final.get("stop_type", ""),
                )
                metrics = Metrics(
                    total_duration=int((time.monotonic() - started) * 1e9),
                    load_duration=int(held.load_seconds * 1e9),
                    # v0.30+ semantics: count includes cached tokens, duration covers only the evaluated ones.
                    prompt_eval_count=int(timings.get("cache_n", 0)) + int(timings.get("prompt_n", 0)),
                    prompt_eval_duration=round(float(timings.get("prompt_ms", 0)) * 1e6),
                    eval_count=int(timings.get("predicted_n", 0)),
                    eval_duration=round(float(timings.get("predicted_ms", 0)) * 1e6),
                )
                return Outcome(_done_reason(str(final.get("stop_type", ""))), metrics)
        except QueueFull as exc:
            raise ApiError(503, str(exc)) from None

    def _native(self, chat: bool) -> None:
        started = time.monotonic()
        body = self._read_body()
        stored, opts, keep_alive = self._common(body)
        base: dict[str, Any] = {"model": stored.name, "created_at": created_at()}
        if chat:
            raw_messages = body.get("messages") or []
            if not isinstance(raw_messages, list):
                raise ApiError(400, "messages must be an array")
            messages: list[dict[str, Any]] | None = [
                {"role": str(m.get("role", "user")), "content": str(m.get("content") or "")}
                for m in raw_messages
            ]
            prompt = None
            empty = not messages
            base["message"] = {"role": "assistant", "content": ""}
        else:
            prompt = str(body.get("prompt") or "")
            empty = prompt == ""
            messages = None
            if not body.get("raw"):
                system = body.get("system")
                messages = ([{"role": "system", "content": str(system)}] if system else []) + [
                    {"role": "user", "content": prompt}
                ]
            base["response"] = ""
        if empty:
            self._load_or_unload(stored, opts, keep_alive, base)
            return
        stream = body.get("stream") is not False
        fmt = body.get("format")
        think = self._think(stored, body.get("think")) if messages is not None else None

        def chunk(text: str, thought: str = "") -> dict[str, Any]:
            obj: dict[str, Any] = {"model": stored.name, "created_at": created_at()}
            if chat:
                obj["message"] = {"role": "assistant", "content": text}
                if thought:
                    obj["message"]["thinking"] = thought  # api/types.go:202 Message.Thinking
            else:
                obj["response"] = text
                if thought:
                    obj["thinking"] = thought
            return obj

        if not stream:
            outcome, text, thought = self._run_whole(
                stored, messages, prompt, opts, fmt, keep_alive, started, think, None
            )
            final = chunk(text, thought)
            final.update({"done": True, "done_reason": outcome.done_reason})
            self._json(200, put_metrics(final, outcome.metrics))
            return

        started_stream = False

        def emit(text: str, thought: str = "") -> None:
            nonlocal started_stream
            if not started_stream:
                self._start_stream("application/x-ndjson")
                started_stream = True
            self._chunk(dumps_line({**chunk(text, thought), "done": False}))

        try:
            outcome = self._run(
                stored, messages, prompt, opts, fmt, keep_alive, started, emit, think, lambda t: emit("", t)
            )
        except RunnerError as exc:
            if not started_stream:
                raise ApiError(exc.status, str(exc)) from None
            self._chunk(dumps_line({"error": str(exc)}))
            self._end_stream()
            return
        if not started_stream:
            self._start_stream("application/x-ndjson")
        final = chunk("")
        final.update({"done_reason": outcome.done_reason, "done": True})
        self._chunk(dumps_line(put_metrics(final, outcome.metrics)))
        self._end_stream()

    def _run_whole(
        self,
        stored: StoredModel,
        messages: list[dict[str, Any]] | None,
        prompt: str | None,
        opts: dict[str, Any],
        fmt: Any,
        keep_alive: float,
        started: float,
        think: bool | None,
        status: int | None,
    ) -> tuple[Outcome, str, str]:
        """A generation not streamed: its outcome, text and thinking; a runner error becomes an API error
        with the runner's status (native API) or ``status`` (the OpenAI-compatible API answers 500)."""
        pieces: list[str] = []
        thoughts: list[str] = []
        try:
            outcome = self._run(
                stored,
                messages,
                prompt,
                opts,
                fmt,
                keep_alive,
                started,
                pieces.append,
                think,
                thoughts.append,
            )
        except RunnerError as exc:
            raise ApiError(status or exc.status, str(exc)) from None
        return outcome, "".join(pieces), "".join(thoughts)

    def _generate(self) -> None:
        self._native(chat=False)

    def _chat(self) -> None:
        self._native(chat=True)

    # ------------------------------------------------------------------ OpenAI-compatible

    def _v1_chat(self) -> None:
        started = time.monotonic()
        body = self._read_body()
        name = _model_name(body)
        stored = self._stored(name)
        opts: dict[str, Any] = {}
        for src, dst in (
            ("max_tokens", "num_predict"),
            ("max_completion_tokens", "num_predict"),
            ("temperature", "temperature"),
            ("top_p", "top_p"),
            ("seed", "seed"),
            ("stop", "stop"),
            ("frequency_penalty", "frequency_penalty"),
            ("presence_penalty", "presence_penalty"),
        ):
            if body.get(src) is not None:
                opts[dst] = body[src]
        opts = self._options(stored, opts)  # the model's parameters, as Ollama applies them
        messages = [
            {"role": str(m.get("role", "user")), "content": _text_content(m.get("content"))}
            for m in body.get("messages") or []
        ]
        if not messages:
            raise ApiError(400, "[] is too short - 'messages'")
        try:
            think = self._think(stored, reasoning_effort_think(body))
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        keep_alive = self.server.settings.keep_alive
        cid = f"chatcmpl-{self.server.next_id()}"
        created = int(time.time())
        head = {"id": cid, "created": created, "model": stored.name, "system_fingerprint": "fp_ollama"}
        fmt = None
        response_format = body.get("response_format") or {}
        if isinstance(response_format, dict) and response_format.get("type") == "json_object":
            fmt = "json"

        if not body.get("stream"):
            outcome, text, thought = self._run_whole(
                stored, messages, None, opts, fmt, keep_alive, started, think, 500
            )
            m = outcome.metrics
            message = {"role": "assistant", "content": text}
            if thought:
                message["reasoning"] = thought  # openai/openai.go:35 Message.Reasoning
            self._json(
                200,
                {
                    **head,
                    "object": "chat.completion",
                    "choices": [
                        {
                            "index": 0,
                            "message": message,
                            "finish_reason": outcome.done_reason,
                        }
                    ],
                    "usage": {
                        "prompt_tokens": m.prompt_eval_count,
                        "completion_tokens": m.eval_count,
                        "total_tokens": m.prompt_eval_count + m.eval_count,
                    },
                },
            )
            return

        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        started_stream = False

        def sse(obj: dict[str, Any]) -> None:
            nonlocal started_stream
            if not started_stream:
                self._start_stream("text/event-stream")
                started_stream = True
            self._chunk(
                b"data: " + json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"
            )

        def delta(text: str, field: str = "content") -> None:
            # openai/openai.go:46 Delta.Reasoning: reasoning arrives apart from the content (both omitempty).
            sse(
                {
                    **head,
                    "object": "chat.completion.chunk",
                    "choices": [
                        {"index": 0, "delta": {"role": "assistant", field: text}, "finish_reason": None}
                    ],
                }
            )

        try:
            outcome = self._run(
                stored,
                messages,
                None,
                opts,
                fmt,
                keep_alive,
                started,
                delta,
                think,
                lambda t: delta(t, "reasoning"),
            )
        except RunnerError as exc:
            if not started_stream:
                raise ApiError(500, str(exc)) from None
            sse({"error": {"message": str(exc), "type": "api_error", "param": None, "code": None}})
            self._end_stream()
            return
        sse(
            {
                **head,
                "object": "chat.completion.chunk",
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": ""},
                        "finish_reason": outcome.done_reason,
                    }
                ],
            }
        )
        if include_usage:
            m = outcome.metrics
            sse(
                {
                    **head,
                    "object": "chat.completion.chunk",
                    "choices": [],
                    "usage": {
                        "prompt_tokens": m.prompt_eval_count,
                        "completion_tokens": m.eval_count,
                        "total_tokens": m.prompt_eval_count + m.eval_count,
                    },
                }
            )
        self._chunk(b"data: [DONE]\n\n")
        self._end_stream()


def go_value(value: Any) -> str:
    """Go's ``%#v`` of a JSON-decoded value: a string quoted, a number (float64) in shortest form with
    an exponent from 1e6 up or below 1e-4 (strconv 'g', shortest), a bool as true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if not isinstance(value, int | float):
        return str(value)
    number = float(value)
    digits = repr(abs(number)).replace("e", "E")
    mantissa, _, exp_text = digits.partition("E")
    whole, _, frac = mantissa.partition(".")
    shown = (whole + frac).lstrip("0") or "0"
    lead = whole.lstrip("0")
    exp = int(exp_text or 0) + (len(lead) - 1 if lead else -(len(frac) - len(frac.lstrip("0")) + 1))
    sign = "-" if number < 0 else ""
    if number == 0:
        return "0"
    if exp < -4 or exp >= 6:
        body = shown.rstrip("0") or "0"
        mant = body[0] + ("." + body[1:] if len(body) > 1 else "")
        return f"{sign}{mant}e{'+' if exp >= 0 else '-'}{abs(exp):02d}"
    return sign + (str(int(number)) if number.is_integer() else repr(abs(number)))


def _text_content(content: Any) -> str:
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


def iter_settings_log(settings: Settings) -> Iterator[tuple[str, dict[str, Any]]]:
    """The start-up lines Ollama logs, as (msg, fields)."""
    yield "server config", {"env": settings.env_map()}
    total = avail = 0
    try:
        with open("/proc/meminfo") as f:
            mem = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in f}
        total, avail = mem.get("MemTotal", 0), mem.get("MemAvailable", 0)
    except OSError:
        pass
    yield (
        "inference compute",
        {
            "id": "cpu",
            "library": "cpu",
            "compute": "",
            "name": "cpu",
            "description": "cpu",
            "total": f"{total / 2**30:.1f} GiB",
            "available": f"{avail / 2**30:.1f} GiB",
        },
    )
