"""The store helper's output (free space, blob sizes) read back."""

from __future__ import annotations

from toolkit.core.models.helper import parse_inspect


def test_the_helper_output_is_read() -> None:
    name = "sha256-" + "b" * 64
    output = (
        "--df\nFilesystem     1024-blocks     Used Available Capacity Mounted on\n"
        "overlay          264212084 31137204  75253708      30% /root/.ollama\n"
        f"--blobs\n98362432 {name}\n12 sha256-bad\n"
    )
    assert parse_inspect(output) == (75253708 * 1024, {f"blobs/{name}": 98362432})
