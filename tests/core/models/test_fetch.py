"""toolkit.core.models.fetch: where a blob's download resumes, the Range header asked, and which answers
fit the blob (a 206 from the asked offset naming the blob's size, or a 200 with the whole of it)."""

from __future__ import annotations

import pytest

from toolkit.core.models.fetch import Resume, body_start, range_headers, resume_point
from toolkit.errors import ModelStoreError


@pytest.mark.parametrize(
    ("partial", "size", "expected"),
    [
        (0, 100, Resume(0, False)),  # nothing yet
        (40, 100, Resume(40, False)),  # resume at byte 40
        (100, 100, Resume(100, True)),  # whole: only hash it
        (150, 100, Resume(0, False)),  # longer than the blob: damaged, start again
    ],
)
def test_resume_point(partial: int, size: int, expected: Resume) -> None:
    assert resume_point(partial, size) == expected


def test_range_headers_ask_for_the_rest_or_nothing() -> None:
    assert range_headers(0) == {}
    assert range_headers(40) == {"Range": "bytes=40-"}


def test_a_206_from_the_offset_or_a_whole_200_fits() -> None:
    assert body_start(206, "bytes 40-99/100", 40, 100, "blob") == 40
    assert body_start(200, None, 40, 100, "blob") == 0  # a server that ignores ranges: start again


@pytest.mark.parametrize(
    ("status", "content_range"),
    [
        (206, "bytes 0-99/100"),  # not from the offset asked
        (206, "bytes 40-99/120"),  # another blob's size
        (206, None),  # no Content-Range
        (206, "bytes */100"),  # unparseable
        (416, "bytes */100"),  # range refused
        (404, None),
    ],
)
def test_any_other_answer_is_one_clear_error(status: int, content_range: str | None) -> None:
    with pytest.raises(ModelStoreError) as caught:
        body_start(status, content_range, 40, 100, "sha256-ab")
    assert f"HTTP {status}" in caught.value.message and "sha256-ab" in caught.value.message
