"""A teammate's share, read over HTTP: its model manifests and blobs (``toolkit.core.share.model_files``).

The standard library's ``http.client``, one connection per file, the key as ``Authorization: Bearer``.
A blob is read with ``readinto`` into one reused 1 MiB buffer, written to a partial file (created
user-only) and hashed from that same buffer: one copy per byte (httpx's chunking copied each several
times and ran at half of ``curl``; this runs about as fast, docs/bench-fetch.txt, hashing included).
A partial from an earlier run is hashed first and continued with a Range request
(``toolkit.core.models.fetch``). Network and file errors come out as one line (``KeyRefusedError``,
``ModelStoreError``), saying whether a rerun resumes.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from toolkit.core.models.fetch import body_start, range_headers, resume_point
from toolkit.core.models.layout import ModelRef
from toolkit.core.models.manifest import MAX_MANIFEST_BYTES, Layer
from toolkit.core.share.model_files import blob_url, manifest_url
from toolkit.errors import KeyRefusedError, ModelStoreError

CHUNK = 1024 * 1024
#: The socket's receive buffer, set before the handshake. A fixed 1 MiB (not the kernel's autotuned
#: several) bounds what is in flight when a download is cut, so a resumed fetch re-sends little; it is
#: still many round trips of a LAN (256 KiB stalled the sender whenever a busy machine was slow to read).
RECEIVE_BUFFER = 1024 * 1024
#: Called with each chunk's byte count before it is written; returns how many of them may be written
#: (fewer: the fetch is being stopped, and ``FetchStopped`` ends the blob after writing those).
Gate = Callable[[int], int]
_RESUME_HINT = "Run the same command again: it resumes where it stopped."
_NETWORK_ERRORS = (http.client.HTTPException, ConnectionError, TimeoutError, socket.gaierror)


class FetchStopped(Exception):
    """A blob's download was stopped on purpose (Ctrl-C, or a byte budget); its partial file is kept."""


class ShareFiles:
    """The model files of the share at ``base`` (its gateway's URL), read with ``key``; over https the
    certificate is checked against ``cafile`` alone when given (the one ``gpuless join`` pinned for a
    share's self-signed certificate), else against the system's authorities."""

    def __init__(self, base: str, key: str, timeout_s: float = 30.0, cafile: str | None = None) -> None:
        self.base = base.rstrip("/")
        self._key = key
        self._timeout = timeout_s
        self._cafile = cafile
        parts = urlsplit(self.base)
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname or "", parts.port or (443 if self._https else 80)

    def _tls(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=self._cafile)
        except (OSError, ssl.SSLError) as error:  # the pinned file is gone or damaged
            reason = getattr(error, "strerror", None) or error
            raise ModelStoreError(
                f"cannot read the pinned certificate {self._cafile}: {reason}",
                "Join the share again: gpuless join URL --key KEY --fingerprint SHA256:…",
            ) from None

    def _unreachable(self, what: str, error: OSError) -> ModelStoreError:
        return ModelStoreError(
            f"cannot reach {self.base} to fetch {what}: {error}",
            "Check the URL (`gpuless share` prints it) and that the share runs; a rerun resumes.",
        )

    def _connect(self, what: str) -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        context = self._tls() if self._https else None
        try:
            sock = _open_socket(self._host, self._port, self._timeout)
        except OSError as error:
            raise self._unreachable(what, error) from None
        if context is not None:
            try:
                sock = context.wrap_socket(sock, server_hostname=self._host)
            except ssl.SSLCertVerificationError as error:
                sock.close()
                raise ModelStoreError(
                    f"cannot fetch {what}: {self.base} presented a certificate this laptop does not trust"
                    f" ({error.verify_message})",
                    f"A share's own certificate is trusted once joined: gpuless join {self.base} --key KEY"
                    " --fingerprint SHA256:… (the line `gpuless share` printed), then fetch again.",
                ) from None
            except OSError as error:  # ssl.SSLError included: plain HTTP on the port, a cut handshake
                sock.close()
                raise self._unreachable(what, error) from None
        connection.sock = sock  # http.client sends on it (it connects only when it has none)
        return connection

    @contextmanager
    def _get(self, url: str, what: str, headers: dict[str, str]) -> Iterator[http.client.HTTPResponse]:
        """An answer to GET ``url``, refused keys and missing files already said in one line."""
        connection = self._connect(what)
        sent = {"Accept-Encoding": "identity", **headers}
        if self._key:
            sent["Authorization"] = f"Bearer {self._key}"
        try:
            with self._errors(what):
                connection.request("GET", urlsplit(url).path, headers=sent)
                response = connection.getresponse()
                self._refused(response.status, what)
                yield response
        finally:
            connection.close()

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except _NETWORK_ERRORS as error:
            raise ModelStoreError(
                f"the connection to {self.base} broke while fetching {what} "
                f"({type(error).__name__}: {error or 'no detail'})",
                _RESUME_HINT,
            ) from None
        except OSError as error:
            raise ModelStoreError(
                f"cannot write {what} to the staging folder: {error.strerror or error}", _RESUME_HINT
            ) from None

    def _refused(self, status: int, what: str) -> None:
        if status == 401 and not self._key:
            raise KeyRefusedError(
                f"{self.base} wants a key (HTTP 401); nothing was fetched",
                "Pass the key the share printed: --key KEY (or `gpuless join URL --key KEY` once).",
            )
        if status == 401:
            raise KeyRefusedError(
                f"{self.base} refused the key (HTTP 401); nothing was fetched",
                "Check the key with whoever shares it (`gpuless share --list` shows the names).",
            )
        if status == 404:
            raise ModelStoreError(
                f"{self.base} does not share {what} (HTTP 404)",
                "Ask the teammate to run `gpuless models list`; names are as Ollama writes them.",
            )

    def manifest(self, ref: ModelRef) -> bytes:
        """The manifest file of ``ref`` as the share holds it."""
        with self._get(manifest_url(self.base, ref), ref.short, {}) as response:
            if response.status != 200:
                raise ModelStoreError(
                    f"{self.base} answered HTTP {response.status} for the manifest of {ref.short}",
                    "Make sure the URL is a gpuless share (`gpuless share` prints it).",
                )
            data = response.read(MAX_MANIFEST_BYTES + 1)
        if len(data) > MAX_MANIFEST_BYTES:
            raise ModelStoreError(f"{self.base} sent more than {MAX_MANIFEST_BYTES} bytes as a manifest")
        return data

    def download(self, layer: Layer, partial: Path, gate: Gate) -> str:
        """Bring ``partial`` to the whole blob (continuing what it holds) and return the sha256 hex of
        its bytes; the caller compares it with the digest. ``gate`` sees every chunk received."""
        what = f"blob {layer.digest[:19]}"
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
        what = f"blob {layer.digest[:19]}"
        with self._get(blob_url(self.base, layer.digest), what, range_headers(offset)) as response:
            start = body_start(response.status, response.getheader("Content-Range"), offset, layer.size, what)
            if start != offset:  # the server sent the whole blob: the partial starts again
                digest = hashlib.sha256()
            file.seek(start)
            file.truncate(start)
            written = start
            buffer = bytearray(CHUNK)
            view = memoryview(buffer)
            try:
                while count := response.readinto(buffer):
                    allowed = gate(count)
                    file.write(view[:allowed])
                    digest.update(view[:allowed])
                    written += allowed
                    if allowed < count:
                        raise FetchStopped
            finally:
                file.flush()
            if written != layer.size:
                raise ModelStoreError(
                    f"the share sent {written} of the {layer.size} bytes of {what}", _RESUME_HINT
                )
        return digest


def _open_socket(host: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection whose receive buffer is set before the handshake (the window it offers is
    fixed then; set later, the kernel may already have grown it)."""
    last: OSError = OSError(f"no address for {host}")
    for family, kind, proto, _name, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
            sock.settimeout(timeout)
            sock.connect(address)
            return sock
        except OSError as error:
            sock.close()
            last = error
    raise last


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
