"""The one HTTP seam of the Ollama client: two transports, one set of guards, one set of errors.

Every request of ``toolkit.adapters.ollama.client`` goes through ``request()`` here, whichever transport
carries it, the way httpx puts its transports behind one client:

* ``LeanTransport`` — plain ``http://``, asyncio streams, one request per connection. It exists for the
  benchmark's hot path: httpx (httpcore + anyio + h11) costs about 0.5 ms of CPU per streamed token on
  the test machine, 6% of a core at 120 tokens/s, enough to disturb what the benchmark measures;
  asyncio's stream reader does the same job for about 0.2 ms.
* ``HttpxTransport`` — TLS and httpx test transports (``httpx.MockTransport``).

Each transport only turns its own library's failures into the ``LineStreamError`` classes below (like
httpx's ``map_httpcore_exceptions``). The guards that must hold whatever the server sends live once,
in ``Response``: a gap timeout per read, a total deadline per request, a cap on one line (split in
linear time), a cap on a body read whole, and on the response head; a redirect is an error that
names where it pointed (``Redirected``), never followed. A declared size (Content-Length,
a chunk size) is never allocated up front: bodies are read in pieces of at most 64 KiB.
``ollama.errors.translate`` turns ``LineStreamError`` into ``toolkit.errors`` in one place.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import httpx

from toolkit.core.units import format_bytes

T = TypeVar("T")

#: Longest line of a streamed body (an NDJSON line or an SSE field); Ollama's are well under 4 KiB.
MAX_LINE = 1 << 20
#: Largest body read whole (``/api/tags``, ``/api/show``): a show with a long license is ~100 KiB.
MAX_BODY = 32 << 20
#: Largest error body kept (the rest is not read): plenty for ``{"error": ...}`` or an HTML page.
MAX_ERROR_BODY = 64 << 10
#: Response head (status line and headers together), and one line of it.
MAX_HEAD = 64 << 10
_READ_SIZE = 64 << 10


class LineStreamError(Exception):
    """Base of the failures of one request."""


class ConnectFailed(LineStreamError):
    """Nothing accepted the connection (refused, unreachable, or the connect timed out)."""


class ReadTimedOut(LineStreamError):
    """No bytes arrived for the gap timeout."""


class DeadlineExceeded(LineStreamError):
    """The request as a whole ran past its deadline (bytes may still have been trickling in)."""


class Broken(LineStreamError):
    """The connection closed or reset before the response was complete."""


class BadResponse(LineStreamError):
    """The response is not HTTP this client can read: bad status line, framing, Content-Length."""


class TooLarge(BadResponse):
    """A line, a body or the response head went over its cap."""


class Redirected(LineStreamError):
    """The server answered with a redirect (3xx); redirects are not followed. ``location`` is where it
    pointed (its Location header, as sent), "" when it named none."""

    def __init__(self, status: int, location: str) -> None:
        super().__init__(f"HTTP {status} to {location or 'nowhere'}")
        self.status = status
        self.location = location


class HttpStatus(LineStreamError):
    """The server answered with an error status; ``body`` is the start of its body."""

    def __init__(self, status: int, body: bytes, content_type: str) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body
        self.content_type = content_type


@dataclass(frozen=True, slots=True)
class Limits:
    """The bounds of one request.

    Attributes:
        gap: seconds to wait for the next bytes (the head included).
        connect: seconds to wait for the connection.
        deadline: ``time.monotonic()`` by which the whole request must have ended; None for no bound.
        max_line: longest line ``Response.lines`` accepts, in bytes.
    """

    gap: float
    connect: float
    deadline: float | None = None
    max_line: int = MAX_LINE


@dataclass(frozen=True, slots=True)
class RawResponse:
    """What a transport hands over: the status, the content type, the body as byte pieces, and the
    Location header (for a redirect)."""

    status: int
    content_type: str
    chunks: AsyncIterator[bytes]
    location: str = ""


class Transport(Protocol):
    """Carries one request; raises only ``LineStreamError`` (its library's errors mapped)."""

    def open(
        self, method: str, path: str, body: Mapping[str, Any] | None, limits: Limits
    ) -> AbstractAsyncContextManager[RawResponse]: ...

    async def aclose(self) -> None: ...


# --- the guards ---------------------------------------------------------------------------------------


class LineSplitter:
    """Bytes in, complete lines out (decoded, CR stripped), in time linear in the bytes.

    An unfinished line is kept as a list of pieces, not re-concatenated per read (which cost quadratic
    time on a long line), and refused once it passes ``max_line``. "\\n" never occurs inside a UTF-8
    sequence, so each complete line decodes on its own.
    """

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self.max_line = max_line
        self._parts: list[bytes] = []
        self._size = 0

    def feed(self, data: bytes) -> list[str]:
        pieces = data.split(b"\n")
        rest = pieces.pop()
        if pieces and self._parts:
            self._parts.append(pieces[0])
            pieces[0] = b"".join(self._parts)
            self._parts, self._size = [], 0
        for piece in pieces:
            if len(piece) > self.max_line:
                raise TooLarge(f"a line longer than {format_bytes(self.max_line)}")
        if rest:
            self._size += len(rest)
            if self._size > self.max_line:
                raise TooLarge(f"a line longer than {format_bytes(self.max_line)}")
            self._parts.append(rest)
        return [piece.rstrip(b"\r").decode("utf-8", "replace") for piece in pieces]

    def finish(self) -> str | None:
        """The last line when the body did not end with a newline (None if it was blank)."""
        tail = b"".join(self._parts).rstrip(b"\r")
        self._parts, self._size = [], 0
        return tail.decode("utf-8", "replace") if tail.strip() else None


async def _guarded(awaitable: Awaitable[T], limits: Limits) -> T:
    # One timeout per read (the gap, shortened to what is left of the deadline), never one scope
    # around a generator: a scope would span its ``yield``s and could fire inside the consumer's code.
    timeout = limits.gap
    if limits.deadline is not None:
        timeout = min(timeout, limits.deadline - time.monotonic())
        if timeout <= 0:  # also when the data is already buffered and the await would not suspend
            close = getattr(awaitable, "close", None)
            if close is not None:
                close()  # never awaited: close it so Python does not warn
            raise DeadlineExceeded("the request ran past its time limit")
    try:
        async with asyncio.timeout(timeout):
            return await awaitable
    except TimeoutError:
        if limits.deadline is not None and time.monotonic() >= limits.deadline - 0.001:
            raise DeadlineExceeded("the request ran past its time limit") from None
        raise ReadTimedOut(f"no data for {limits.gap:g} s") from None


class Response:
    """An answer with a success status: its body as lines (``lines``) or whole (``read``)."""

    def __init__(self, raw: RawResponse, limits: Limits) -> None:
        self.status = raw.status
        self.content_type = raw.content_type
        self._chunks = raw.chunks
        self._limits = limits

    async def _next(self) -> bytes | None:
        try:
            return await _guarded(self._chunks.__anext__(), self._limits)
        except StopAsyncIteration:
            return None

    async def lines(self) -> AsyncGenerator[str, None]:
        """The body's lines (without line endings) as they arrive."""
        splitter = LineSplitter(self._limits.max_line)
        while (data := await self._next()) is not None:
            for line in splitter.feed(data):
                yield line
        tail = splitter.finish()
        if tail is not None:
            yield tail

    async def read(self, cap: int = MAX_BODY, *, truncate: bool = False) -> bytes:
        """The whole body; over ``cap`` bytes it is TooLarge (or cut at ``cap`` with ``truncate``)."""
        parts: list[bytes] = []
        size = 0
        while (data := await self._next()) is not None:
            size += len(data)
            if size > cap:
                if truncate:
                    parts.append(data[: cap - size])
                    break
                raise TooLarge(f"a body over {format_bytes(cap)}")
            parts.append(data)
        return b"".join(parts)


@asynccontextmanager
async def request(
    transport: Transport, method: str, path: str, body: Mapping[str, Any] | None, limits: Limits
) -> AsyncIterator[Response]:
    """Send one request; an error status becomes HttpStatus (with the start of its body)."""
    async with AsyncExitStack() as stack:
        raw = await _guarded(stack.enter_async_context(transport.open(method, path, body, limits)), limits)
        response = Response(raw, limits)
        if 300 <= raw.status < 400:
            raise Redirected(raw.status, raw.location)
        if raw.status >= 400:
            raise HttpStatus(raw.status, await response.read(MAX_ERROR_BODY, truncate=True), raw.content_type)
        yield response


# --- the lean transport -------------------------------------------------------------------------------


@contextlib.contextmanager
def _socket_errors() -> Iterator[None]:
    try:
        yield
    except asyncio.IncompleteReadError:
        raise Broken("the connection closed in the middle of the body") from None
    except (asyncio.LimitOverrunError, ValueError):  # ValueError: StreamReader.readline past its limit
        raise TooLarge(f"a response header or chunk-size line longer than {format_bytes(MAX_HEAD)}") from None
    except (ConnectionError, OSError) as error:
        raise Broken(str(error) or "the connection broke off") from None


class LeanTransport:
    """HTTP/1.1 over asyncio streams: plain http, ``Connection: close``, identity or chunked bodies;
    ``headers`` are sent with every request (a share's ``Authorization``)."""

    def __init__(
        self, host: str, port: int, base_path: str = "", headers: Mapping[str, str] | None = None
    ) -> None:
        self.host = host
        self.port = port
        self.base_path = base_path.rstrip("/")
        self.extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())

    async def aclose(self) -> None:
        """Nothing to close: every request has its own connection."""

    @asynccontextmanager
    async def open(
        self, method: str, path: str, body: Mapping[str, Any] | None, limits: Limits
    ) -> AsyncIterator[RawResponse]:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, limit=MAX_HEAD), limits.connect
            )
        except (OSError, TimeoutError) as error:
            raise ConnectFailed(str(error) or "the connection timed out") from None
        try:
            with _socket_errors():
                writer.write(self._head(method, path, body))
                await writer.drain()
                status, headers = await _read_head(reader)
            content_type, location = headers.get("content-type", ""), headers.get("location", "")
            yield RawResponse(status, content_type, _body(reader, headers), location)
        finally:
            writer.close()

    def _head(self, method: str, path: str, body: Mapping[str, Any] | None) -> bytes:
        authority = f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"
        head = (
            f"{method} {self.base_path}{path} HTTP/1.1\r\nHost: {authority}\r\n"
            "Accept: application/json, application/x-ndjson, text/event-stream\r\nConnection: close\r\n"
            + self.extra
        )
        if body is None:
            return (head + "\r\n").encode()
        payload = json.dumps(body).encode()
        head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        return head.encode() + payload


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    status_line = await reader.readline()
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        if not status_line:
            raise Broken("the connection closed before any answer")
        raise BadResponse(f"not an HTTP response: {status_line[:40]!r}")
    size = len(status_line)
    headers: dict[str, str] = {}
    while True:
        line = await reader.readline()
        size += len(line)
        if size > MAX_HEAD:
            raise TooLarge(f"response headers over {format_bytes(MAX_HEAD)}")
        if line in (b"\r\n", b"\n"):
            break
        if not line:
            raise Broken("the connection closed in the response headers")
        name, _, value = line.partition(b":")
        key = name.strip().lower().decode("latin-1")
        text = value.strip().decode("latin-1")
        if key == "content-length" and key in headers and headers[key] != text:
            raise BadResponse("two different Content-Length headers")
        headers[key] = text
    return int(parts[1]), headers


async def _body(reader: asyncio.StreamReader, headers: Mapping[str, str]) -> AsyncGenerator[bytes, None]:
    """The body in pieces of at most 64 KiB; a declared size bounds the reads, never a buffer."""
    with _socket_errors():
        if "chunked" in headers.get("transfer-encoding", "").lower():
            while True:
                size_line = await reader.readline()
                if not size_line:
                    raise Broken("the connection closed before the end of the chunked body")
                digits = size_line.split(b";", 1)[0].strip()
                if not digits or len(digits) > 16 or any(c not in b"0123456789abcdefABCDEF" for c in digits):
                    raise BadResponse(f"an invalid chunk size {size_line[:20]!r}")
                remaining = int(digits, 16)
                if remaining == 0:
                    return
                while remaining:
                    data = await reader.read(min(remaining, _READ_SIZE))
                    if not data:
                        raise Broken("the connection closed in the middle of a chunk")
                    remaining -= len(data)
                    yield data
                if await reader.readexactly(2) != b"\r\n":
                    raise BadResponse("a chunk longer than its declared size")
        declared = headers.get("content-length")
        if declared is None:
            while data := await reader.read(_READ_SIZE):
                yield data
            return
        if not declared.isdigit() or not declared.isascii():
            raise BadResponse(f"an invalid Content-Length {declared[:20]!r}")
        remaining = int(declared)
        while remaining:
            data = await reader.read(min(remaining, _READ_SIZE))
            if not data:
                raise Broken("the connection closed before the end of the body")
            remaining -= len(data)
            yield data


# --- the httpx transport ------------------------------------------------------------------------------


def httpx_failure(error: httpx.HTTPError) -> str:
    """One line for an httpx failure: a timeout in words, else its own first line, else in words what
    its class means (a ``ReadError`` from a reset connection often carries no text)."""
    if isinstance(error, httpx.ConnectTimeout):
        return "the connection timed out"
    if isinstance(error, httpx.TimeoutException):
        return "no data in time"
    text = str(error).strip().splitlines()
    if text:
        return text[0]
    if isinstance(error, httpx.ConnectError):
        return "the connection was refused"
    if isinstance(error, (httpx.ReadError, httpx.WriteError, httpx.CloseError)):
        return "the connection broke off before the answer ended"
    return "the answer broke the HTTP protocol"


@contextlib.contextmanager
def _httpx_errors() -> Iterator[None]:
    """httpx's exceptions as this module's (the map ``map_httpcore_exceptions`` is to httpcore)."""
    try:
        yield
    except (httpx.ConnectTimeout, httpx.ConnectError) as error:
        raise ConnectFailed(httpx_failure(error)) from None
    except httpx.TimeoutException as error:
        raise ReadTimedOut(httpx_failure(error)) from None
    except (httpx.ReadError, httpx.WriteError, httpx.CloseError) as error:
        raise Broken(httpx_failure(error)) from None
    except httpx.HTTPError as error:  # RemoteProtocolError, DecodingError, ...
        raise BadResponse(httpx_failure(error)) from None


class HttpxTransport:
    """Requests through an ``httpx.AsyncClient`` (TLS; ``httpx.MockTransport`` in protocol tests);
    the client must not follow redirects (httpx's default), so ``request`` sees them."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def aclose(self) -> None:
        await self._client.aclose()

    @asynccontextmanager
    async def open(
        self, method: str, path: str, body: Mapping[str, Any] | None, limits: Limits
    ) -> AsyncIterator[RawResponse]:
        timeout = httpx.Timeout(limits.gap, connect=limits.connect)
        with _httpx_errors():
            stream = self._client.stream(method, path, json=body, timeout=timeout)
            response = await stream.__aenter__()
        try:
            chunks = _httpx_chunks(response)
            headers = response.headers
            yield RawResponse(
                response.status_code, headers.get("content-type", ""), chunks, headers.get("location", "")
            )
        finally:
            with _httpx_errors():
                await stream.__aexit__(None, None, None)


async def _httpx_chunks(response: httpx.Response) -> AsyncGenerator[bytes, None]:
    with _httpx_errors():
        async for data in response.aiter_bytes():
            if data:
                yield data
