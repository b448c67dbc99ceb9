"""Streaming client for Ollama's native API (NDJSON) and the OpenAI-compatible API (SSE).

One client, two protocol adapters, so the same benchmark and chat run against Ollama, llama.cpp's
server, LM Studio or vLLM. It yields typed events stamped with ``time.perf_counter()`` at the moment
each line arrives; the arithmetic lives in ``toolkit.core.benchstats``. The hot path is deliberately
plain (bytes split into lines + ``json.loads``, no model validation per chunk) so the client stays far below
5% of one core while a model streams.

Every failure leaves here as a ``toolkit.errors`` class: nothing listening → OllamaUnreachableError,
HTTP 404 → ModelNotFoundError, 503 → ServerBusyError, a timeout → RequestTimeoutError, and a broken
stream (``{"error": ...}`` line, malformed line, connection dropped mid-answer) → StreamError.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from toolkit.core.benchstats import RequestTrace, ServerTimings
from toolkit.engine import linestream
from toolkit.engine.linestream import post_lines
from toolkit.errors import (
    ModelNotFoundError,
    OllamaError,
    OllamaUnreachableError,
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


async def _split_lines(response: httpx.Response) -> AsyncGenerator[str, None]:
    # Bytes split by ``linestream.split_lines`` rather than ``aiter_lines``: httpx's text and line
    # decoder layers are a measurable share of the client's CPU per token.
    pending = b""
    async for data in response.aiter_bytes():
        complete, pending = linestream.split_lines(pending, data)
        for line in complete:
            yield line
    if pending.strip():
        yield pending.rstrip(b"\r").decode("utf-8", "replace")


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


def _lines(response: httpx.Response) -> aclosing[AsyncGenerator[str, None]]:
    """The response's lines, closed in the task that read them (also when the reader stops early)."""
    return aclosing(_split_lines(response))


def _stream_object(text: str, url: str, what: str, api: str) -> dict[str, Any]:
    """One streamed JSON object (an NDJSON line or an SSE ``data:`` payload) of either protocol.

    A line that is not a JSON object, or an ``{"error": ...}`` object sent mid-answer, is a StreamError.
    """
    try:
        data = json.loads(text)
    except ValueError:
        raise StreamError(
            f"malformed {what} from {url}: {text[:80]!r}",
            hint=f"The server is not speaking {api}; check --url and --api.",
        ) from None
    if not isinstance(data, dict):
        raise StreamError(f"unexpected {what} from {url}: {text[:80]!r}")
    if "error" in data:
        raise StreamError(
            f"the server reported an error mid-answer: {_error_text(text.encode())}",
            hint="Check the server's logs; the answer so far was kept.",
        )
    return data


def _error_text(body: bytes) -> str:
    """The message of an Ollama ``{"error": "..."}`` or OpenAI ``{"error": {"message": ...}}`` body."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace").strip()[:200]
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict):
            return str(err.get("message") or err)
        if err is not None:
            return str(err)
    return str(data)[:200]


#: For "nothing answers": the server may be down, or up on another port than the one asked.
UNREACHABLE_HINT = (
    "Is the server running? `gpuless status` shows the URL of the one gpuless started (pass it with"
    " --url); `gpuless up` starts one."
)


class OllamaClient:
    """Async client for one server. Use as ``async with OllamaClient(url) as client:``.

    Args:
        url: server base URL (no ``/api`` or ``/v1`` suffix).
        api: "ollama" (native NDJSON, server timings) or "openai" (SSE, counts only).
        timeout: seconds to wait for the next bytes of an answer (the gap, not the whole answer).
        connect_timeout: seconds to wait for the connection.
        transport: an httpx transport to use instead of the network (protocol tests only).
    """

    def __init__(
        self,
        url: str,
        api: Api = "ollama",
        timeout: float = 120.0,
        connect_timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.url = normalize_url(url)
        self.api: Api = api
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        # Streams over plain http use the lean reader (see toolkit.engine.linestream); TLS and test
        # transports go through httpx.
        self._lean = transport is None and self.url.startswith("http://")
        # trust_env=False: a proxy from HTTP_PROXY must never see loopback benchmark traffic.
        self._http = httpx.AsyncClient(
            base_url=self.url,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            trust_env=False,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
            transport=transport,
            # Plain http never uses TLS: skip loading the CA bundle (~30 ms of CPU per client here).
            verify=self.url.startswith("https://"),
        )

    async def __aenter__(self) -> OllamaClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- transport and error translation ----------------------------------------------------------

    def _translate(self, error: httpx.HTTPError, model: str | None = None) -> OllamaError:
        if isinstance(error, httpx.ConnectTimeout):
            return OllamaUnreachableError(
                f"no answer from {self.url} (connection timed out)",
                hint=UNREACHABLE_HINT,
            )
        if isinstance(error, httpx.TimeoutException):
            return RequestTimeoutError(
                f"{self.url} did not answer in time",
                hint="The model may be loading or the machine overloaded; retry or raise --timeout.",
            )
        if isinstance(error, httpx.ConnectError):
            return OllamaUnreachableError(
                f"nothing answers at {self.url}",
                hint=UNREACHABLE_HINT,
            )
        if isinstance(error, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
            return StreamError(
                f"the connection to {self.url} broke mid-answer ({type(error).__name__})",
                hint="The server may have crashed or run out of memory; check its logs.",
            )
        return OllamaError(f"talking to {self.url} failed: {error}")

    def _status_error(self, status: int, body: bytes, model: str | None) -> OllamaError:
        text = _error_text(body) or f"HTTP {status}, empty body"
        if status == 404:
            name = f"model '{model}'" if model else "the requested resource"
            return ModelNotFoundError(
                f"{name} not found on {self.url} ({text})",
                hint=f"Pull it first: `gpuless up --url {self.url} --model {model or 'NAME'}`.",
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
    async def _stream(
        self, path: str, body: Mapping[str, Any], model: str | None
    ) -> AsyncIterator[httpx.Response]:
        try:
            async with self._http.stream("POST", path, json=body) as response:
                if response.status_code >= 400:
                    raise self._status_error(response.status_code, await response.aread(), model)
                yield response
        except httpx.HTTPError as error:
            raise self._translate(error, model) from None

    @asynccontextmanager
    async def _line_stream(
        self, path: str, body: Mapping[str, Any], model: str | None
    ) -> AsyncIterator[AsyncIterator[str]]:
        """The response lines of a streaming POST, with every transport failure translated."""
        if not self._lean:
            async with self._stream(path, body, model) as response, _lines(response) as lines:
                yield lines
            return
        parts = urlsplit(self.url)
        host = parts.hostname or "127.0.0.1"
        port = parts.port or 80
        lines = post_lines(
            host,
            port,
            parts.path + path,
            body,
            timeout=self.timeout,
            connect_timeout=self.connect_timeout,
        )
        try:
            async with aclosing(lines):
                yield lines
        except linestream.ConnectFailed as error:
            raise OllamaUnreachableError(
                f"nothing answers at {self.url} ({error})",
                hint=UNREACHABLE_HINT,
            ) from None
        except linestream.ReadTimedOut:
            raise RequestTimeoutError(
                f"{self.url} did not answer in time",
                hint="The model may be loading or the machine overloaded; retry or raise --timeout.",
            ) from None
        except linestream.HttpStatus as error:
            raise self._status_error(error.status, error.body, model) from None
        except linestream.Broken as error:
            raise StreamError(
                f"the connection to {self.url} broke mid-answer ({error})",
                hint="The server may have crashed or run out of memory; check its logs.",
            ) from None

    async def _json(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        model = body.get("model") if body else None
        try:
            response = await self._http.request(method, path, json=body)
        except httpx.HTTPError as error:
            raise self._translate(error) from None
        if response.status_code >= 400:
            raise self._status_error(response.status_code, response.content, model)
        try:
            return response.json()
        except ValueError:
            raise OllamaError(f"{self.url}{path} answered something that is not JSON") from None

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
        async with self._line_stream(path, body, model) as lines:
            try:
                async for line in lines:
                    t = perf()
                    if not line:
                        continue
                    data = _stream_object(line, self.url, "line", "Ollama's API")
                    message = data.get("message")
                    text = message.get("content") if isinstance(message, dict) else data.get("response")
                    if text:
                        yield Chunk(text, t)
                    if data.get("done"):
                        yield Done(t, ServerTimings.from_ollama(data))
                        return
            except httpx.HTTPError as error:
                raise self._translate(error, model) from None
        raise StreamError(
            f"{self.url} ended the answer without its final statistics",
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
        t_finish: float | None = None
        finish_reason: str | None = None
        usage: Mapping[str, Any] | None = None
        async with self._line_stream("/v1/chat/completions", body, model) as lines:
            try:
                async for line in lines:
                    t = perf()
                    if not line.startswith("data:"):
                        continue  # blank separators, ": keep-alive" comments, "event:" lines
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        break
                    data = _stream_object(payload, self.url, "SSE data", "the OpenAI API")
                    for choice in data.get("choices") or ():
                        delta = choice.get("delta") or {}
                        text = delta.get("content")
                        if text:
                            yield Chunk(text, t)
                        if choice.get("finish_reason") and t_finish is None:
                            t_finish, finish_reason = t, choice["finish_reason"]
                    if data.get("usage"):
                        usage = data["usage"]
                        if t_finish is None:
                            t_finish = t
            except httpx.HTTPError as error:
                raise self._translate(error, model) from None
        if t_finish is None or usage is None:
            missing = "its usage counts" if t_finish is not None else "a finish_reason"
            raise StreamError(
                f"{self.url} ended the answer without {missing}",
                hint="The server may have stopped mid-answer, or ignores stream_options.include_usage.",
            )
        yield Done(t_finish, ServerTimings.from_openai_usage(usage, finish_reason))

    # --- helpers other steps reuse ------------------------------------------------------------------

    async def version(self) -> str | None:
        """Ollama's version string; None for servers without ``/api/version`` (llama.cpp, vLLM)."""
        try:
            data = await self._json("GET", "/api/version")
        except ModelNotFoundError:
            return None
        return str(data.get("version")) if isinstance(data, dict) and data.get("version") else None

    async def list_models(self) -> list[str]:
        """Names of the models the server has (``/api/tags``, or ``/v1/models`` for OpenAI servers)."""
        if self.api == "openai":
            data = await self._json("GET", "/v1/models")
            return [str(m.get("id")) for m in data.get("data", []) if isinstance(m, dict)]
        data = await self._json("GET", "/api/tags")
        return [str(m.get("name") or m.get("model")) for m in data.get("models", []) if isinstance(m, dict)]

    async def tags(self) -> list[dict[str, Any]]:
        """The raw ``/api/tags`` entries (name, size in bytes, details)."""
        data = await self._json("GET", "/api/tags")
        return [m for m in data.get("models", []) if isinstance(m, dict)] if isinstance(data, dict) else []

    async def show(self, model: str) -> dict[str, Any]:
        """``/api/show`` for a model (details, model_info, capabilities); ModelNotFoundError if absent."""
        data = await self._json("POST", "/api/show", {"model": model})
        if not isinstance(data, dict):
            raise OllamaError(f"{self.url}/api/show answered something that is not an object")
        return data

    async def load(
        self, model: str, *, keep_alive: str | int = "30m", options: Mapping[str, Any] | None = None
    ) -> ServerTimings:
        """Load a model into memory without generating (empty prompt) and keep it there."""
        body: dict[str, Any] = {"model": model, "prompt": "", "stream": False, "keep_alive": keep_alive}
        if options:
            body["options"] = dict(options)
        data = await self._json("POST", "/api/generate", body)
        return ServerTimings.from_ollama(data if isinstance(data, dict) else {})

    async def pull(self, model: str, progress_cb: Callable[[Mapping[str, Any]], None] | None = None) -> None:
        """Pull a model, calling ``progress_cb`` with each status line; errors end as OllamaError."""
        async with (
            self._stream("/api/pull", {"model": model, "stream": True}, model) as response,
            _lines(response) as lines,
        ):
            try:
                async for line in lines:
                    if not line:
                        continue
                    try:
                        data = json.loads(line)
                    except ValueError:
                        raise StreamError(f"malformed pull progress from {self.url}: {line[:80]!r}") from None
                    if "error" in data:
                        text = str(data["error"])
                        if "does not exist" in text or "not found" in text:
                            raise ModelNotFoundError(
                                f"model '{model}' is not in the registry ({text})",
                                hint="Check the name and tag on ollama.com/library.",
                            )
                        raise OllamaError(f"pulling '{model}' failed: {text}")
                    if progress_cb is not None:
                        progress_cb(data)
                    if data.get("status") == "success":
                        return
            except httpx.HTTPError as error:
                raise self._translate(error, model) from None
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
