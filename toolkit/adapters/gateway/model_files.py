"""A teammate's share, read over HTTP: its model manifests and blobs (``toolkit.core.share.model_files``).

One ``httpx`` client with the key as ``Authorization: Bearer``, one connection per blob in flight. A blob
lands in a partial file (created user-only) and is hashed as it lands; a partial from an earlier run is
hashed first and continued with a Range request (``toolkit.core.models.fetch``). httpx's and the
file system's errors come out as one line (``KeyRefusedError``, ``ModelStoreError``), saying whether a
rerun resumes.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import httpx

from toolkit.core.models.fetch import body_start, range_headers, resume_point
from toolkit.core.models.layout import ModelRef
from toolkit.core.models.manifest import MAX_MANIFEST_BYTES, Layer
from toolkit.core.share.model_files import blob_url, manifest_url
from toolkit.errors import KeyRefusedError, ModelStoreError

CHUNK = 1024 * 1024
#: The socket's receive buffer. A fixed 1 MiB (not the kernel's autotuned several) bounds what is in
#: flight when a download is cut, so a resumed fetch re-sends little; it is many round trips of a LAN.
RECEIVE_BUFFER = 1024 * 1024
#: Called with each chunk's byte count before it is written; returns how many of them may be written
#: (fewer: the fetch is being stopped, and ``FetchStopped`` ends the blob after writing those).
Gate = Callable[[int], int]


class FetchStopped(Exception):
    """A blob's download was stopped on purpose (Ctrl-C, or a byte budget); its partial file is kept."""


_RESUME_HINT = "Run the same command again: it resumes where it stopped."


class ShareFiles:
    """The model files of the share at ``base`` (its gateway's URL), read with ``key``."""

    def __init__(self, base: str, key: str, connections: int, timeout_s: float = 30.0) -> None:
        self.base = base.rstrip("/")
        self._has_key = bool(key)
        headers = {"Accept-Encoding": "identity"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        transport = httpx.HTTPTransport(
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            socket_options=[(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)],
        )
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=5.0),
            transport=transport,
            follow_redirects=False,
            trust_env=False,  # a teammate on the LAN, never through a configured proxy
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ShareFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except httpx.ConnectError as error:
            raise ModelStoreError(
                f"cannot reach {self.base} while fetching {what}: {error}",
                "Check the URL (`gpuless share` prints it) and that the share runs; a rerun resumes.",
            ) from None
        except (httpx.TimeoutException, httpx.TransportError) as error:
            raise ModelStoreError(
                f"the connection to {self.base} broke while fetching {what} "
                f"({type(error).__name__}: {error or 'no detail'})",
                _RESUME_HINT,
            ) from None
        except OSError as error:
            raise ModelStoreError(
                f"cannot write {what} to the staging folder: {error.strerror or error}", _RESUME_HINT
            ) from None

    def _refused(self, response: httpx.Response, what: str) -> None:
        if response.status_code == 401 and not self._has_key:
            raise KeyRefusedError(
                f"{self.base} wants a key (HTTP 401); nothing was fetched",
                "Pass the key the share printed: --key KEY (or `gpuless join URL --key KEY` once).",
            )
        if response.status_code == 401:
            raise KeyRefusedError(
                f"{self.base} refused the key (HTTP 401); nothing was fetched",
                "Check the key with whoever shares it (`gpuless share --list` shows the names).",
            )
        if response.status_code == 404:
            raise ModelStoreError(
                f"{self.base} does not share {what} (HTTP 404)",
                "Ask the teammate to run `gpuless models list`; names are as Ollama writes them.",
            )

    def manifest(self, ref: ModelRef) -> bytes:
        """The manifest file of ``ref`` as the share holds it."""
        with self._errors(f"the manifest of {ref.short}"):
            response = self._client.get(manifest_url(self.base, ref))
            self._refused(response, ref.short)
            if response.status_code != 200:
                raise ModelStoreError(
                    f"{self.base} answered HTTP {response.status_code} for the manifest of {ref.short}",
                    "Make sure the URL is a gpuless share (`gpuless share` prints it).",
                )
            if len(response.content) > MAX_MANIFEST_BYTES:
                raise ModelStoreError(f"{self.base} sent {len(response.content)} bytes as a manifest")
            return response.content

    def download(self, layer: Layer, partial: Path, gate: Gate) -> str:
        """Bring ``partial`` to the whole blob (continuing what it holds) and return the sha256 hex of
        its bytes; the caller compares it with the digest. ``gate`` sees every chunk received."""
        what = layer.digest[:19]
        with self._errors(what):
            fd = os.open(partial, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
            with os.fdopen(fd, "r+b") as file:
                resume = resume_point(os.fstat(fd).st_size, layer.size)
                digest = _hash_prefix(file, resume.offset)
                if not resume.complete:
                    digest = self._stream(layer, file, resume.offset, digest, gate)
                return str(digest.hexdigest())

    def _stream(self, layer: Layer, file: IO[bytes], offset: int, digest: Any, gate: Gate) -> Any:
        """Append the answer's bytes to ``file`` from where it starts; the sha256 of the whole file."""
        what = layer.digest[:19]
        request = self._client.build_request(
            "GET", blob_url(self.base, layer.digest), headers=range_headers(offset)
        )
        response = self._client.send(request, stream=True)
        try:
            self._refused(response, f"blob {what}")
            start = body_start(
                response.status_code, response.headers.get("Content-Range"), offset, layer.size, what
            )
            if start != offset:  # the server sent the whole blob: the partial starts again
                digest = hashlib.sha256()
            file.seek(start)
            file.truncate(start)
            written = start
            for chunk in response.iter_raw(CHUNK):
                allowed = gate(len(chunk))
                file.write(chunk[:allowed])
                digest.update(chunk[:allowed])
                written += allowed
                if allowed < len(chunk):
                    raise FetchStopped
            if written != layer.size:
                raise ModelStoreError(
                    f"the share sent {written} of the {layer.size} bytes of blob {what}", _RESUME_HINT
                )
        finally:
            response.close()
            file.flush()
        return digest


def _hash_prefix(file: IO[bytes], length: int) -> Any:
    """sha256 over the first ``length`` bytes of ``file`` (what a resumed download keeps)."""
    digest = hashlib.sha256()
    left = length
    while left > 0:
        block = file.read(min(CHUNK, left))
        if not block:
            break
        digest.update(block)
        left -= len(block)
    return digest
