"""Streaming client for Ollama's native API (NDJSON) and the OpenAI-compatible API (SSE).

One client, two protocol adapters, so the same benchmark and chat run against Ollama, llama.cpp's
server, LM Studio or vLLM. It yields typed events stamped with ``time.perf_counter()`` at the moment
each line arrives; the arithmetic lives in ``toolkit.core.benchstats``. The hot path is deliberately
plain (bytes split into lines + ``json.loads``, no model validation per chunk) so the client stays far below
5% of one core while a model streams.

Every request goes through one seam (``toolkit.engine.linestream``: transports, time and size
guards) and every failure leaves here as a ``toolkit.errors`` class, translated in one place
(``_translate``): nothing listening → OllamaUnreachableError, a JSON 404 → ModelNotFoundError, a 404
that is not Ollama's → NotOllamaError, 503 → ServerBusyError, no bytes in time or past the deadline →
RequestTimeoutError, and a broken stream (``{"error": ...}`` line, unreadable framing, connection
dropped mid-answer) → StreamError. Data of the wrong shape (a line that is not JSON, a field of the
wrong type) becomes a StreamError through ``unexpected``; server text in messages is terminal-safe.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from toolkit.core.benchstats import RequestTrace, ServerTimings
from toolkit.core.pullfailure import pull_failure
from toolkit.core.safe_text import terminal_safe
from toolkit.engine import linestream
from toolkit.errors import (
    DiskFullError,
    ModelNotFoundError,
    NotOllamaError,
    OllamaError,
    OllamaUnreachableError,
    RegistryUnreachableError,
    RequestTimeoutError,
    ServerBusyError,
    StreamError,
)

Api = Literal["ollama", "openai"]
Message = Mapping[str, str]

#: Options that map onto OpenAI request fields; the rest (num_ctx, num_thread, ...) have no OpenAI form.
_OPENAI_FIELDS = {"temperature": "temperature", "seed": "seed", "num_predict": "max_tokens", "top_p": "top_p"}


@dataclass(frozen=True, slots=True)
class Chunk:
    """Content that arrived: ``text`` (non-empty) and the client clock ``t`` at arrival."""

    text: str
    t: float


@dataclass(frozen=True, slots=True)
class Done:
    """The generation closed at client time ``t``; ``timings`` holds the server's counters."""

    t: float
    timings: ServerTimings


Event = Chunk | Done


def normalize_url(url: str) -> str:
    """``127.0.0.1:11434`` → ``http://127.0.0.1:11434``; trailing slashes removed."""
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    return url.rstrip("/")


def _native_body(
    model: str,
    content: Mapping[str, Any],
    options: Mapping[str, Any] | None,
    think: bool | None,
    keep_alive: str | int | None,
) -> dict[str, Any]:
    """A streaming request body of Ollama's native API: ``content`` (messages or prompt) plus the
    options, think and keep_alive fields that were given."""
    body: dict[str, Any] = {"model": model, **content, "stream": True}
    if options:
        body["options"] = dict(options)
    if think is not None:
        body["think"] = think
    if keep_alive is not None:
        body["keep_alive"] = keep_alive
    return body


def _preview(value: Any) -> str:
    """A short, one-line, terminal-safe picture of a value from the wire, for an error message."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = terminal_safe(text, one_line=True)
    return repr(text[:80] + ("…" if len(text) > 80 else ""))


def unexpected(url: str, what: str, value: Any) -> StreamError:
    """The one error for wire data of the wrong shape: a line that is not JSON, a field of the wrong
    type, an object where a list belongs. Callers raise it; nothing else inspects malformed data."""
    return StreamError(
        f"unexpected data from {url}: {what} {_preview(value)}",
        hint="The server is not speaking the API gpuless asked for; check --url and --api.",
    )


def _object(value: Any, url: str, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise unexpected(url, f"{what} (not an object)", value)
    return value


def _text(value: Any, url: str, what: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise unexpected(url, f"{what} (not a string)", value)
    return value


def _items(value: Any, url: str, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise unexpected(url, f"{what} (not a list)", value)
    return value


def _stream_object(text: str, url: str, what: str) -> dict[str, Any]:
    """One streamed JSON object (an NDJSON line or an SSE ``data:`` payload) of either protocol.

    A line that is not a JSON object, or an ``{"error": ...}`` object sent mid-answer, is a StreamError.
    """
    try:
        data = json.loads(text)
    except ValueError:
        raise unexpected(url, f"malformed {what} (not JSON)", text) from None
    data = _object(data, url, what)
    if "error" in data:
        raise StreamError(
            f"the server reported an error mid-answer: {_error_text(text.encode())}",
            hint="Check the server's logs; the answer so far was kept.",
        )
    return data


_TAGS = re.compile(r"<[^>]*>")


def _error_text(body: bytes, content_type: str = "") -> str:
    """One terminal-safe line saying what an error body says: the message of an Ollama
    ``{"error": "..."}`` or OpenAI ``{"error": {"message": ...}}`` body, the title of an HTML page,
    else the start of the text."""
    raw = body.decode("utf-8", "replace")
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
        if "html" in content_type.lower() or raw.lstrip()[:1] == "<":
            title = re.search(r"<title[^>]*>(.*?)</title>|<h1[^>]*>(.*?)</h1>", raw, re.I | re.S)
            found = _TAGS.sub(" ", next(g for g in title.groups() if g is not None)) if title else ""
            raw = f"an HTML page: {terminal_safe(found, one_line=True) or 'untitled'}"
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict):
            raw = str(err.get("message") or err)
        elif err is not None:
            raw = str(err)
        else:
            raw = str(data)
    elif data is not None:
        raw = str(data)
    text = terminal_safe(raw, one_line=True)
    return text[:200] + ("…" if len(text) > 200 else "")


def _is_json_error(body: bytes) -> bool:
    """Whether an error body is the JSON ``{"error": ...}`` Ollama and OpenAI servers answer with."""
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and "error" in data


#: For "nothing answers": the server may be down, or up on another port than the one asked.
UNREACHABLE_HINT = (
    "Is the server running? `gpuless status` shows the URL of the one gpuless started (pass it with"
    " --url); `gpuless up` starts one."
)
_TIMEOUT_HINT = "The model may be loading or the machine overloaded; retry or raise --timeout."


class OllamaClient:
    """Async client for one server. Use as ``async with OllamaClient(url) as client:``.

    Args:
        url: server base URL (no ``/api`` or ``/v1`` suffix).
        api: "ollama" (native NDJSON, server timings) or "openai" (SSE, counts only).
        timeout: seconds to wait for the next bytes of an answer (the gap, not the whole answer).
        connect_timeout: seconds to wait for the connection.
        transport: an httpx transport to use instead of the network (protocol tests only).
        total_timeout: seconds one request may last in all, however the bytes trickle; None for no bound.
        deadline: a ``time.monotonic()`` no request may run past (a benchmark's end), None for none.
    """

    def __init__(
        self,
        url: str,
        api: Api = "ollama",
        timeout: float = 120.0,
        connect_timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        total_timeout: float | None = None,
        deadline: float | None = None,
    ):
        self.url = normalize_url(url)
        self.api: Api = api
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.total_timeout = total_timeout
        self.deadline = deadline
        self._transport: linestream.Transport
        parts = urlsplit(self.url)
        if transport is None and parts.scheme == "http":
            self._transport = linestream.LeanTransport(
                parts.hostname or "127.0.0.1", parts.port or 80, parts.path
            )
        else:
            # trust_env=False: a proxy from HTTP_PROXY must never see loopback benchmark traffic.
            self._transport = linestream.HttpxTransport(
                httpx.AsyncClient(
                    base_url=self.url,
                    trust_env=False,
                    limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
                    transport=transport,
                    # Plain http never uses TLS: skip loading the CA bundle (~30 ms of CPU per client).
                    verify=parts.scheme == "https",
                )
            )

    async def __aenter__(self) -> OllamaClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    # --- the one request path and the one error map ----------------------------------------------

    def _limits(self) -> linestream.Limits:
        deadline = self.deadline
        if self.total_timeout is not None:
            own = time.monotonic() + self.total_timeout
            deadline = own if deadline is None else min(deadline, own)
        return linestream.Limits(gap=self.timeout, connect=self.connect_timeout, deadline=deadline)

    def _translate(self, error: linestream.LineStreamError, path: str, model: str | None) -> OllamaError:
        if isinstance(error, linestream.ConnectFailed):
            return OllamaUnreachableError(f"nothing answers at {self.url} ({error})", hint=UNREACHABLE_HINT)
        if isinstance(error, linestream.DeadlineExceeded):
            return RequestTimeoutError(
                f"{self.url} did not finish answering within the time limit",
                hint="The server may be trickling its answer; raise --timeout (or --max-seconds).",
            )
        if isinstance(error, linestream.ReadTimedOut):
            return RequestTimeoutError(f"{self.url} did not answer in time ({error})", hint=_TIMEOUT_HINT)
        if isinstance(error, linestream.HttpStatus):
            return self._status_error(error, path, model)
        if isinstance(error, linestream.BadResponse):
            return StreamError(
                f"{self.url} sent a response gpuless cannot read ({error})",
                hint="Check that --url is an Ollama (or OpenAI-compatible) server.",
            )
        return StreamError(
            f"the connection to {self.url} broke mid-answer ({error})",
            hint="The server may have crashed or run out of memory; check its logs.",
        )

    def _status_error(self, error: linestream.HttpStatus, path: str, model: str | None) -> OllamaError:
        status, body = error.status, error.body
        text = _error_text(body, error.content_type) or f"HTTP {status}, empty body"
        if status == 404 and _is_json_error(body):
            # Ollama (and OpenAI servers) say "model not found" in a JSON error body.
            name = f"model '{model}'" if model else "the requested resource"
            return ModelNotFoundError(
                f"{name} not found on {self.url} ({text})",
                hint=f"Pull it first: `gpuless up --url {self.url} --model {model or 'NAME'}`.",
            )
        if status == 404:
            return NotOllamaError(
                f"{self.url} has no {path} ({text})",
                hint="It does not look like an Ollama server; check --url (and --api for OpenAI servers).",
            )
        if status == 503:
            return ServerBusyError(
                f"{self.url} is busy: {text}",
                hint="The queue is full (OLLAMA_MAX_QUEUE); lower the concurrency or retry later.",
            )
        if status == 499:
            return StreamError(f"the request was cancelled: {text}")
        return OllamaError(f"{self.url} answered HTTP {status}: {text}")

    @asynccontextmanager
    async def _request(
        self, method: str, path: str, body: Mapping[str, Any] | None, model: str | None
    ) -> AsyncIterator[linestream.Response]:
        """One request through the transport; every failure leaves as a ``toolkit.errors`` class."""
        try:
            async with linestream.request(self._transport, method, path, body, self._limits()) as response:
                yield response
        except linestream.LineStreamError as error:
            raise self._translate(error, path, model) from None

    @asynccontextmanager
    async def _line_stream(
        self, path: str, body: Mapping[str, Any], model: str | None
    ) -> AsyncIterator[AsyncIterator[str]]:
        """The response lines of a streaming POST, closed in the task that read them."""
        async with self._request("POST", path, body, model) as response, aclosing(response.lines()) as lines:
            yield lines

    async def _json(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        model = body.get("model") if body else None
        async with self._request(method, path, body, model) as response:
            content = await response.read()
        try:
            return json.loads(content)
        except ValueError:
            raise unexpected(self.url, f"answer to {path} (not JSON)", _error_text(content)) from None

    # --- streaming ------------------------------------------------------------------------------------

    def stream_chat(
        self,
        model: str,
        messages: Sequence[Message],
        *,
        options: Mapping[str, Any] | None = None,
        think: bool | None = False,
        keep_alive: str | int | None = None,
    ) -> AsyncGenerator[Event, None]:
        """Stream a chat answer as ``Chunk`` events closed by one ``Done``."""
        if self.api == "openai":
            return self._stream_openai(model, messages, options or {})
        body = _native_body(model, {"messages": list(messages)}, options, think, keep_alive)
        return self._stream_ndjson("/api/chat", body, model)

    def stream_generate(
        self,
        model: str,
        prompt: str,
        *,
        options: Mapping[str, Any] | None = None,
        think: bool | None = False,
        keep_alive: str | int | None = None,
    ) -> AsyncGenerator[Event, None]:
        """Stream a completion from ``/api/generate`` (native API only)."""
        body = _native_body(model, {"prompt": prompt}, options, think, keep_alive)
        return self._stream_ndjson("/api/generate", body, model)

    async def _stream_ndjson(
        self, path: str, body: Mapping[str, Any], model: str
    ) -> AsyncGenerator[Event, None]:
        perf = time.perf_counter
        url = self.url
        async with self._line_stream(path, body, model) as lines:
            async for line in lines:
                t = perf()
                if not line:
                    continue
                data = _stream_object(line, url, "line")
                message = data.get("message")
                if message is None:
                    text = data.get("response")
                elif isinstance(message, dict):
                    text = message.get("content")
                else:
                    raise unexpected(url, "'message' (not an object)", message)
                if text:
                    if not isinstance(text, str):
                        raise unexpected(url, "'content' (not a string)", text)
                    yield Chunk(text, t)
                if data.get("done"):
                    yield Done(t, ServerTimings.from_ollama(data))
                    return
        raise StreamError(
            f"{url} ended the answer without its final statistics",
            hint="The server may have stopped mid-answer; check its logs.",
        )

    async def _stream_openai(
        self, model: str, messages: Sequence[Message], options: Mapping[str, Any]
    ) -> AsyncGenerator[Event, None]:
        body: dict[str, Any] = {
            "model": model,
            "messages": list(messages),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        for key, field in _OPENAI_FIELDS.items():
            if key in options:
                body[field] = options[key]
        perf = time.perf_counter
        url = self.url
        t_finish: float | None = None
        finish_reason: str | None = None
        usage: Mapping[str, Any] | None = None
        async with self._line_stream("/v1/chat/completions", body, model) as lines:
            async for line in lines:
                t = perf()
                if not line.startswith("data:"):
                    continue  # blank separators, ": keep-alive" comments, "event:" lines
                payload = line[5:].strip()
                if payload == "[DONE]":
                    break
                data = _stream_object(payload, url, "SSE data")
                for choice in _items(data.get("choices"), url, "'choices'"):
                    choice = _object(choice, url, "choice")
                    delta = _object(choice.get("delta") or {}, url, "'delta'")
                    text = _text(delta.get("content"), url, "'content'")
                    if text:
                        yield Chunk(text, t)
                    reason = choice.get("finish_reason")
                    if reason and t_finish is None:
                        t_finish = t
                        finish_reason = _text(reason, url, "'finish_reason'")
                if data.get("usage"):
                    usage = _object(data["usage"], url, "'usage'")
                    if t_finish is None:
                        t_finish = t
        if t_finish is None or usage is None:
            missing = "its usage counts" if t_finish is not None else "a finish_reason"
            raise StreamError(
                f"{url} ended the answer without {missing}",
                hint="The server may have stopped mid-answer, or ignores stream_options.include_usage.",
            )
        yield Done(t_finish, ServerTimings.from_openai_usage(usage, finish_reason))

    # --- helpers other steps reuse ------------------------------------------------------------------

    async def version(self) -> str | None:
        """Ollama's version string; None for servers without ``/api/version`` (llama.cpp, vLLM)."""
        try:
            data = await self._json("GET", "/api/version")
        except (ModelNotFoundError, NotOllamaError):
            return None
        version = data.get("version") if isinstance(data, dict) else None
        return terminal_safe(str(version), one_line=True) if version else None

    async def list_models(self) -> list[str]:
        """Names of the models the server has (``/api/tags``, or ``/v1/models`` for OpenAI servers)."""
        if self.api == "openai":
            data = _object(await self._json("GET", "/v1/models"), self.url, "answer to /v1/models")
            entries = _items(data.get("data"), self.url, "'data' of /v1/models")
            return [str(m.get("id")) for m in entries if isinstance(m, dict)]
        return [str(m.get("name") or m.get("model")) for m in await self.tags()]

    async def tags(self) -> list[dict[str, Any]]:
        """The raw ``/api/tags`` entries (name, size in bytes, details)."""
        data = _object(await self._json("GET", "/api/tags"), self.url, "answer to /api/tags")
        return [
            m for m in _items(data.get("models"), self.url, "'models' of /api/tags") if isinstance(m, dict)
        ]

    async def show(self, model: str) -> dict[str, Any]:
        """``/api/show`` for a model (details, model_info, capabilities); ModelNotFoundError if absent."""
        return _object(
            await self._json("POST", "/api/show", {"model": model}), self.url, "answer to /api/show"
        )

    async def load(
        self, model: str, *, keep_alive: str | int = "30m", options: Mapping[str, Any] | None = None
    ) -> ServerTimings:
        """Load a model into memory without generating (empty prompt) and keep it there."""
        body: dict[str, Any] = {"model": model, "prompt": "", "stream": False, "keep_alive": keep_alive}
        if options:
            body["options"] = dict(options)
        data = _object(await self._json("POST", "/api/generate", body), self.url, "answer to /api/generate")
        return ServerTimings.from_ollama(data)

    async def pull(self, model: str, progress_cb: Callable[[Mapping[str, Any]], None] | None = None) -> None:
        """Pull a model, calling ``progress_cb`` with each status line; errors end as OllamaError."""
        async with self._line_stream("/api/pull", {"model": model, "stream": True}, model) as lines:
            async for line in lines:
                if not line:
                    continue
                try:
                    data = _object(json.loads(line), self.url, "pull progress line")
                except ValueError:
                    raise unexpected(self.url, "pull progress line (not JSON)", line) from None
                if "error" in data:
                    raise pull_error(model, terminal_safe(str(data["error"]), one_line=True))
                if progress_cb is not None:
                    progress_cb(data)
                if data.get("status") == "success":
                    return
        raise StreamError(f"the pull of '{model}' ended without success")


def pull_error(model: str, text: str) -> OllamaError:
    """The error for a failed pull of ``model``: an unknown tag, an unreachable registry and a full
    disk each get their own class and advice (``toolkit.core.pullfailure``)."""
    failure = pull_failure(model, text)
    kind: type[OllamaError] = {
        "unknown_tag": ModelNotFoundError,
        "unreachable": RegistryUnreachableError,
        "disk_full": DiskFullError,
    }.get(failure.kind, OllamaError)
    return kind(failure.message, hint=failure.advice)


class Recorder:
    """Drains one stream into a ``RequestTrace`` and keeps what arrived if the stream breaks.

    ``t_sent`` is read by the caller just before the request starts; ``partial()`` gives the trace so
    far (no end, no server counters) after a failure or a cancellation.
    """

    def __init__(self, t_sent: float) -> None:
        self.t_sent = t_sent
        self.times: list[float] = []
        self.parts: list[str] = []

    async def consume(
        self, events: AsyncGenerator[Event, None], on_chunk: Callable[[Chunk], None] | None = None
    ) -> RequestTrace:
        times, parts = self.times, self.parts
        # aclosing: the stream's HTTP response is closed here, in this task, also on early exit.
        async with aclosing(events):
            async for event in events:
                if isinstance(event, Chunk):
                    times.append(event.t)
                    parts.append(event.text)
                    if on_chunk is not None:
                        on_chunk(event)
                else:
                    return RequestTrace(self.t_sent, tuple(times), event.t, event.timings, "".join(parts))
        raise StreamError("the stream ended without a final event")

    def partial(self) -> RequestTrace:
        return RequestTrace(self.t_sent, tuple(self.times), None, None, "".join(self.parts))
