"""Streaming client for Ollama's native API (NDJSON) and the OpenAI-compatible API (SSE).

One client, two protocol adapters, so the same benchmark and chat run against Ollama, llama.cpp's
server, LM Studio or vLLM. It yields typed events stamped with ``time.perf_counter()`` at the moment
each line arrives; the arithmetic lives in ``toolkit.core.bench.metrics``. The hot path is deliberately
plain (bytes split into lines + ``json.loads``, no model validation per chunk) so the client stays far below
5% of one core while a model streams.

Every request goes through one seam (``toolkit.adapters.ollama.linestream``: transports, time and size
guards) and every failure leaves here as a ``toolkit.errors`` class, translated in one place
(``toolkit.adapters.ollama.errors.translate``). Request bodies and the checks on every piece of server
data are pure and live in ``toolkit.core.wire``: data of the wrong shape (a line that is not JSON, a
field of the wrong type, an ``{"error": ...}`` line mid-answer) becomes a StreamError there; server
text in messages is terminal-safe.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from toolkit.adapters import joined
from toolkit.adapters.ollama import linestream
from toolkit.adapters.ollama.errors import pull_error, translate
from toolkit.core.bench.metrics import RequestTrace, ServerTimings
from toolkit.core.catalog.thinking import model_thinks
from toolkit.core.safe_text import terminal_safe
from toolkit.core.wire import (
    Api,
    as_items,
    as_object,
    as_text,
    error_text,
    native_body,
    normalize_url,
    openai_body,
    stream_object,
    unexpected,
)
from toolkit.errors import GpulessError, ModelNotFoundError, NotOllamaError, StreamError

Message = Mapping[str, str]

#: Seconds a small whole-body answer (version, model list, show) may take in all, however it trickles.
METADATA_TOTAL = 30.0


@dataclass(frozen=True, slots=True)
class Chunk:
    """Content that arrived: ``text`` (non-empty) and the client clock ``t`` at arrival."""

    text: str
    t: float


@dataclass(frozen=True, slots=True)
class Thought:
    """Reasoning that arrived apart from the answer (a thinking model's ``thinking`` / ``reasoning``)."""

    text: str
    t: float


@dataclass(frozen=True, slots=True)
class Done:
    """The generation closed at client time ``t``; ``timings`` holds the server's counters."""

    t: float
    timings: ServerTimings


Event = Chunk | Thought | Done


def _pinned_context(cafile: str) -> ssl.SSLContext:
    """A TLS context trusting only ``cafile`` (a share's certificate, pinned by ``gpuless join``)."""
    try:
        return ssl.create_default_context(cafile=cafile)
    except (OSError, ssl.SSLError) as error:
        raise GpulessError(
            f"cannot read the pinned certificate {cafile}: {getattr(error, 'strerror', None) or error}",
            hint="Join the share again: gpuless join URL --key KEY --fingerprint SHA256:…",
        ) from None


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
        api_key: sent as ``Authorization: Bearer <key>`` on every request (a gpuless share's gateway);
            None: the joined share's key when ``url`` is that share (``toolkit.adapters.joined``),
            "": no key.
        cafile: the only certificate trusted for an https ``url`` (a share's pinned self-signed one);
            None: the joined share's pinned certificate when ``url`` is that share, else the system's.
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
        api_key: str | None = None,
        cafile: str | None = None,
    ):
        self.url = normalize_url(url)
        self.api: Api = api
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.total_timeout = total_timeout
        self.deadline = deadline
        self._transport: linestream.Transport
        parts = urlsplit(self.url)
        key = joined.key_for(self.url) if api_key is None else api_key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        if transport is None and parts.scheme == "http":
            self._transport = linestream.LeanTransport(
                parts.hostname or "127.0.0.1", parts.port or 80, parts.path, headers
            )
        else:
            pinned = (cafile or joined.cert_for(self.url)) if parts.scheme == "https" else None
            # trust_env=False: a proxy from HTTP_PROXY must never see loopback benchmark traffic.
            self._transport = linestream.HttpxTransport(
                httpx.AsyncClient(
                    base_url=self.url,
                    headers=headers,
                    trust_env=False,
                    limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
                    transport=transport,
                    # Plain http never uses TLS: skip loading the CA bundle (~30 ms of CPU per client).
                    verify=_pinned_context(pinned) if pinned else parts.scheme == "https",
                )
            )

    async def __aenter__(self) -> OllamaClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    # --- the one request path and the one error map ----------------------------------------------

    def _limits(self, total: float | None = None) -> linestream.Limits:
        deadline = self.deadline
        for seconds in (self.total_timeout, total):
            if seconds is not None:
                own = time.monotonic() + seconds
                deadline = own if deadline is None else min(deadline, own)
        return linestream.Limits(gap=self.timeout, connect=self.connect_timeout, deadline=deadline)

    def _metadata_total(self) -> float:
        return min(self.timeout, METADATA_TOTAL)

    @asynccontextmanager
    async def _request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        model: str | None,
        total: float | None = None,
    ) -> AsyncIterator[linestream.Response]:
        """One request through the transport; every failure leaves as a ``toolkit.errors`` class."""
        limits = self._limits(total)
        try:
            async with linestream.request(self._transport, method, path, body, limits) as response:
                yield response
        except linestream.LineStreamError as error:
            raise translate(error, self.url, path, model) from None

    @asynccontextmanager
    async def _line_stream(
        self, path: str, body: Mapping[str, Any], model: str | None
    ) -> AsyncIterator[AsyncIterator[str]]:
        """The response lines of a streaming POST, closed in the task that read them."""
        async with self._request("POST", path, body, model) as response, aclosing(response.lines()) as lines:
            yield lines

    async def request_json(
        self, method: str, path: str, body: Mapping[str, Any] | None = None, *, total: float | None = None
    ) -> Any:
        """One request whose answer is read whole (capped at ``linestream.MAX_BODY``) and parsed as JSON;
        ``total`` bounds it in seconds on top of the client's own bounds."""
        return await self._json(method, path, body, total)

    async def request_text(self, path: str) -> str:
        """A GET whose answer is read whole (capped) as text, within the metadata bound (a gateway's
        stub_status page)."""
        async with self._request("GET", path, None, None, self._metadata_total()) as response:
            return (await response.read()).decode("utf-8", "replace")

    async def _json(
        self, method: str, path: str, body: Mapping[str, Any] | None = None, total: float | None = None
    ) -> Any:
        model = body.get("model") if body else None
        async with self._request(method, path, body, model, total) as response:
            content = await response.read()
        try:
            return json.loads(content)
        except ValueError:
            raise unexpected(self.url, f"answer to {path} (not JSON)", error_text(content)) from None

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
        """Stream a chat answer as ``Chunk`` (and, with thinking on, ``Thought``) events closed by one
        ``Done``. ``think=False`` turns a thinking model's reasoning off on both APIs (``think: false``,
        ``reasoning_effort: "none"``); None leaves it to the server, which on Ollama means on."""
        if self.api == "openai":
            return self._stream_openai(model, messages, options or {}, think)
        body = native_body(model, {"messages": list(messages)}, options, think, keep_alive)
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
        body = native_body(model, {"prompt": prompt}, options, think, keep_alive)
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
                data = stream_object(line, url, "line")
                message = data.get("message")
                if message is None:
                    text, thought = data.get("response"), data.get("thinking")
                elif isinstance(message, dict):
                    text, thought = message.get("content"), message.get("thinking")
                else:
                    raise unexpected(url, "'message' (not an object)", message)
                if thought:
                    yield Thought(as_text(thought, url, "'thinking'") or "", t)
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
        self, model: str, messages: Sequence[Message], options: Mapping[str, Any], think: bool | None
    ) -> AsyncGenerator[Event, None]:
        body = openai_body(model, messages, options, think)
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
                data = stream_object(payload, url, "SSE data")
                for choice in as_items(data.get("choices"), url, "'choices'"):
                    choice = as_object(choice, url, "choice")
                    delta = as_object(choice.get("delta") or {}, url, "'delta'")
                    # Ollama sends reasoning as ``reasoning``; llama.cpp and vLLM as ``reasoning_content``.
                    thought = delta.get("reasoning") or delta.get("reasoning_content")
                    if thought:
                        yield Thought(as_text(thought, url, "'reasoning'") or "", t)
                    text = as_text(delta.get("content"), url, "'content'")
                    if text:
                        yield Chunk(text, t)
                    reason = choice.get("finish_reason")
                    if reason and t_finish is None:
                        t_finish = t
                        finish_reason = as_text(reason, url, "'finish_reason'")
                if data.get("usage"):
                    usage = as_object(data["usage"], url, "'usage'")
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
            data = await self._json("GET", "/api/version", total=self._metadata_total())
        except (ModelNotFoundError, NotOllamaError):
            return None
        version = data.get("version") if isinstance(data, dict) else None
        return terminal_safe(str(version), one_line=True) if version else None

    async def list_models(self) -> list[str]:
        """Names of the models the server has (``/api/tags``, or ``/v1/models`` for OpenAI servers)."""
        if self.api == "openai":
            data = await self._json("GET", "/v1/models", total=self._metadata_total())
            data = as_object(data, self.url, "answer to /v1/models")
            entries = as_items(data.get("data"), self.url, "'data' of /v1/models")
            return [str(m.get("id")) for m in entries if isinstance(m, dict)]
        return [str(m.get("name") or m.get("model")) for m in await self.tags()]

    async def tags(self) -> list[dict[str, Any]]:
        """The raw ``/api/tags`` entries (name, size in bytes, details)."""
        data = await self._json("GET", "/api/tags", total=self._metadata_total())
        data = as_object(data, self.url, "answer to /api/tags")
        return [
            m for m in as_items(data.get("models"), self.url, "'models' of /api/tags") if isinstance(m, dict)
        ]

    async def show(self, model: str) -> dict[str, Any]:
        """``/api/show`` for a model (details, model_info, capabilities); ModelNotFoundError if absent."""
        return as_object(
            await self._json("POST", "/api/show", {"model": model}, self._metadata_total()),
            self.url,
            "answer to /api/show",
        )

    async def thinks(self, model: str) -> bool | None:
        """Whether ``/api/show`` says ``model`` can think (``core.catalog.thinking.model_thinks``); None
        when the server cannot say (an older Ollama, an OpenAI-compatible server, a failed request)."""
        try:
            return model_thinks(await self.show(model))
        except GpulessError:
            return None

    async def load(
        self, model: str, *, keep_alive: str | int = "30m", options: Mapping[str, Any] | None = None
    ) -> ServerTimings:
        """Load a model into memory without generating (empty prompt) and keep it there."""
        body: dict[str, Any] = {"model": model, "prompt": "", "stream": False, "keep_alive": keep_alive}
        if options:
            body["options"] = dict(options)
        data = as_object(await self._json("POST", "/api/generate", body), self.url, "answer to /api/generate")
        return ServerTimings.from_ollama(data)

    async def pull(self, model: str, progress_cb: Callable[[Mapping[str, Any]], None] | None = None) -> None:
        """Pull a model, calling ``progress_cb`` with each status line; errors end as OllamaError."""
        async with self._line_stream("/api/pull", {"model": model, "stream": True}, model) as lines:
            async for line in lines:
                if not line:
                    continue
                try:
                    data = as_object(json.loads(line), self.url, "pull progress line")
                except ValueError:
                    raise unexpected(self.url, "pull progress line (not JSON)", line) from None
                if "error" in data:
                    raise pull_error(model, terminal_safe(str(data["error"]), one_line=True))
                if progress_cb is not None:
                    progress_cb(data)
                if data.get("status") == "success":
                    return
        raise StreamError(f"the pull of '{model}' ended without success")


class Recorder:
    """Drains one stream into a ``RequestTrace`` and keeps what arrived if the stream breaks.

    ``t_sent`` is read by the caller just before the request starts; ``partial()`` gives the trace so
    far (no end, no server counters) after a failure or a cancellation.
    """

    def __init__(self, t_sent: float) -> None:
        self.t_sent = t_sent
        self.times: list[float] = []
        self.parts: list[str] = []
        self.thought_times: list[float] = []

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
                elif isinstance(event, Thought):
                    self.thought_times.append(event.t)
                else:
                    return self._trace(event.t, event.timings)
        raise StreamError("the stream ended without a final event")

    def _trace(self, t_end: float | None, server: ServerTimings | None) -> RequestTrace:
        return RequestTrace(
            self.t_sent, tuple(self.times), t_end, server, "".join(self.parts), tuple(self.thought_times)
        )

    def partial(self) -> RequestTrace:
        return self._trace(None, None)
