"""Fetching a model from a teammate's share, as rules over numbers and headers (the I/O is
``toolkit.adapters.gateway.model_files``; the order of work is ``toolkit.services.model_fetch``).

A blob is fetched into a partial file named for its digest. A later run asks for the rest with
``Range: bytes=<size of the partial>-``; the answer must be 206 with a ``Content-Range`` starting there
and naming the blob's size, or a 200 with the whole blob (a server that ignores ranges), after which
the partial is started again. A partial as long as the blob, or longer, is only hashed: longer is
damaged. Whatever the route, the bytes are trusted only when their sha256 is the digest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from toolkit.errors import ModelStoreError

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")
#: How many times a blob whose bytes hash wrong is fetched again from its first byte.
REFETCHES = 1


@dataclass(frozen=True)
class Resume:
    """Where a blob's download starts: ``offset`` bytes are kept from the partial file (0: none)."""

    offset: int
    #: True when the partial already holds the whole blob (nothing to download; only hash it).
    complete: bool


def resume_point(partial_size: int, blob_size: int) -> Resume:
    """What to do with a partial file of ``partial_size`` bytes for a blob of ``blob_size``."""
    if partial_size == blob_size:
        return Resume(blob_size, True)
    if 0 < partial_size < blob_size:
        return Resume(partial_size, False)
    return Resume(0, False)  # none, or longer than the blob: damaged, start again


def range_headers(offset: int) -> dict[str, str]:
    """The request headers that ask for the blob from ``offset`` on (none for the whole blob)."""
    return {"Range": f"bytes={offset}-"} if offset else {}


def body_start(status: int, content_range: str | None, offset: int, blob_size: int, what: str) -> int:
    """Where the answer's body starts in the blob: ``offset`` for a 206 that starts there, 0 for a 200
    (the whole blob); ModelStoreError for any answer that does not fit the blob."""
    if status == 200:
        return 0
    if status == 206 and content_range is not None:
        match = _CONTENT_RANGE.fullmatch(content_range.strip())
        if match and int(match.group(1)) == offset and int(match.group(3)) == blob_size:
            return offset
    raise ModelStoreError(
        f"the share answered the request for {what} with HTTP {status} "
        f"({content_range or 'no Content-Range'}), not the bytes from {offset} of {blob_size}",
        "Make sure the URL is a gpuless share (`gpuless share` prints it), then run the fetch again.",
    )
