"""A lean HTTP/1.1 POST whose response is read line by line: the benchmark's hot path.

Why not httpx here: on the test machine httpx (httpcore + anyio + h11) costs about 0.5 ms of CPU per
streamed token, which is 6% of a core at 120 tokens/s and would make the benchmark client disturb
what it measures. asyncio's own stream reader does the same job for about 0.2 ms. This module only
handles plain ``http://`` (loopback or the user's own server), one request per connection
(``Connection: close``), identity or chunked bodies, and no redirects; everything else — TLS, the
non-streaming helpers, test transports — stays on httpx.

Failures are reported as the ``LineStreamError`` subclasses below; ``ollama_client`` translates them
into ``toolkit.errors`` next to its httpx translation.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Awaitable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")


class LineStreamError(Exception):
    """Base of the failures of one streamed request."""


class ConnectFailed(LineStreamError):
    """Nothing accepted the connection (refused, unreachable, or the connect timed out)."""


class ReadTimedOut(LineStreamError):
    """No bytes arrived for ``timeout`` seconds."""


class Broken(LineStreamError):
    """The connection closed or reset before the response was complete, or the framing was invalid."""


class HttpStatus(LineStreamError):
    """The server answered with an error status; ``body`` is its (short) body."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body


def split_lines(pending: bytes, data: bytes) -> tuple[list[str], bytes]:
    """The complete lines of ``pending + data`` (decoded, CR stripped) and the unfinished rest.

    Splitting bytes rather than text skips a decoder layer per token; "\n" never occurs inside a
    UTF-8 sequence, so each complete line decodes on its own.
    """
    *complete, rest = (pending + data if pending else data).split(b"\n")
    return [line.rstrip(b"\r").decode("utf-8", "replace") for line in complete], rest


async def post_lines(
    host: str,
    port: int,
    path: str,
    body: Mapping[str, Any],
    *,
    timeout: float,
    connect_timeout: float,
) -> AsyncGenerator[str, None]:
    """POST ``body`` as JSON and yield the response body's lines (without line endings) as they arrive."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), connect_timeout)
    except (OSError, TimeoutError) as error:
        raise ConnectFailed(str(error) or type(error).__name__) from None
    try:
        payload = json.dumps(body).encode()
        authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n"
            f"Accept: application/x-ndjson, text/event-stream\r\nContent-Length: {len(payload)}\r\n"
            "Connection: close\r\n\r\n".encode()
            + payload
        )
        await asyncio.wait_for(writer.drain(), timeout)
        status_line = await _timed(reader.readline(), timeout)
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise Broken(f"not an HTTP response: {status_line[:60]!r}")
        status = int(parts[1])
        headers: dict[bytes, bytes] = {}
        while True:
            line = await _timed(reader.readline(), timeout)
            if line in (b"\r\n", b"\n"):
                break
            if not line:
                raise Broken("connection closed in the response headers")
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip().lower()
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"")
        length = int(headers[b"content-length"]) if b"content-length" in headers and not chunked else None

        if status >= 400:
            error_body = await _timed(_read_small_body(reader, chunked, length), timeout)
            raise HttpStatus(status, error_body)

        pending = b""
        remaining = length
        while True:
            if chunked:
                size_line = await _timed(reader.readline(), timeout)
                if not size_line:
                    raise Broken("connection closed before the end of the chunked body")
                try:
                    size = int(size_line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise Broken(f"invalid chunk size {size_line[:20]!r}") from None
                if size == 0:
                    break
                data = (await _timed(reader.readexactly(size + 2), timeout))[:-2]
            else:
                if remaining == 0:
                    break
                want = 65536 if remaining is None else min(65536, remaining)
                data = await _timed(reader.read(want), timeout)
                if not data:
                    if remaining is not None:
                        raise Broken("connection closed before the end of the body")
                    break
                if remaining is not None:
                    remaining -= len(data)
            complete, pending = split_lines(pending, data)
            for text in complete:
                yield text
        if pending.strip():
            yield pending.rstrip(b"\r").decode("utf-8", "replace")
    except TimeoutError:
        raise ReadTimedOut(f"no data for {timeout:g} s") from None
    except asyncio.IncompleteReadError:
        raise Broken("connection closed in the middle of a chunk") from None
    except (ConnectionError, OSError) as error:
        raise Broken(str(error) or type(error).__name__) from None
    finally:
        writer.close()


async def _timed(awaitable: Awaitable[T], timeout: float) -> T:
    # A timeout per read, not one scope around the generator: a scope would span the ``yield``s and
    # could fire inside the consumer's code.
    async with asyncio.timeout(timeout):
        return await awaitable


async def _read_small_body(reader: asyncio.StreamReader, chunked: bool, length: int | None) -> bytes:
    """An error body (bounded to 64 KiB, which is plenty for ``{"error": ...}``)."""
    if length is not None:
        return await reader.readexactly(min(length, 65536))
    if not chunked:
        return await reader.read(65536)
    out = b""
    while len(out) < 65536:
        size_line = await reader.readline()
        try:
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        except ValueError:
            break
        if size == 0:
            break
        out += (await reader.readexactly(size + 2))[:-2]
    return out
