"""Typed reads of catalog and profile fields: one ProfileError line naming the table and key at fault."""

from __future__ import annotations

import pytest

from toolkit.core.fields import optional, positive, required, where
from toolkit.errors import ProfileError


def test_where_names_the_table_unless_at_the_top() -> None:
    assert where("model x:1b", "layers") == "model x:1b: layers"
    assert where("", "ram_gb") == "ram_gb"


def test_required_and_optional_read_the_right_type() -> None:
    data = {"layers": 16, "ram_gb": 8, "name": "x"}
    assert required(data, "layers", int, "m") == 16
    # An int is a float where a float is asked for; the value comes back as a float.
    value = required(data, "ram_gb", float, "")
    assert value == 8.0 and isinstance(value, float)
    assert optional(data, "missing", str, "m", "dflt") == "dflt"
    assert optional({"k": None}, "k", int, "m", 3) == 3
    assert optional(data, "name", (int, str), "m", None) == "x"


def test_missing_mistyped_and_boolean_numbers_are_one_line_errors() -> None:
    with pytest.raises(ProfileError, match=r"^m: layers is missing$"):
        required({}, "layers", int, "m")
    with pytest.raises(ProfileError, match=r"^m: layers must be int, not '16'$"):
        required({"layers": "16"}, "layers", int, "m")
    with pytest.raises(ProfileError, match=r"^ram_gb must be a number, not True$"):
        optional({"ram_gb": True}, "ram_gb", float, "", None)
    with pytest.raises(ProfileError, match="must be int or str"):
        optional({"k": 1.5}, "k", (int, str), "m", None)
    assert optional({"flag": True}, "flag", bool, "m", None) is True


def test_positive() -> None:
    positive(0.1, "gbps", "p")
    for bad in (0, -1.0):
        with pytest.raises(ProfileError, match=rf"^p: gbps must be positive, not {bad!r}$"):
            positive(bad, "gbps", "p")
