"""Sizes read and written: the command line's sizes mean the same however their unit is written."""

from __future__ import annotations

import pytest

from toolkit.core.units import GIB, MIB, parse_option_size, parse_size
from toolkit.errors import UsageError


@pytest.mark.parametrize(
    "text", ["16", "16G", "16g", "16GB", "16gb", "16GiB", " 16 GiB ", "16.0", "17179869184"]
)
def test_every_way_of_writing_16_gib_on_the_command_line_is_16_gib(text: str) -> None:
    assert parse_option_size(text) == 16 * GIB


@pytest.mark.parametrize(
    ("text", "size"), [("512m", 512 * MIB), ("512MiB", 512 * MIB), ("1.5g", int(1.5 * GIB))]
)
def test_units_below_a_gib(text: str, size: int) -> None:
    assert parse_option_size(text) == size == parse_size(text)


def test_a_compose_file_bare_number_stays_bytes() -> None:
    # compose.yaml writes mem_limit as Docker does: a bare number is a byte count, however small.
    assert parse_size("6442450944") == 6 * GIB
    assert parse_size("16") == 16


@pytest.mark.parametrize("text", ["0", "-8", "lots", "nan", "inf", "", "g", "16x"])
def test_not_a_size(text: str) -> None:
    with pytest.raises(UsageError):
        parse_option_size(text)
