"""Typed, located reads of the fields in gpuless's TOML/JSON data (the catalog and hardware profiles).

Both parsers need the same checks (present, of the right type, positive) and the same one-line
``ProfileError`` naming the table and key at fault, so those checks live here once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from toolkit.errors import ProfileError


def where(context: str, key: str) -> str:
    """``context: key`` for an error line, or the key alone at the top level."""
    return f"{context}: {key}" if context else key


def required(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], context: str) -> Any:
    """``data[key]`` of type ``kind``; missing or mistyped → ``ProfileError``."""
    if key not in data:
        raise ProfileError(f"{where(context, key)} is missing")
    return optional(data, key, kind, context, None)


def optional(
    data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], context: str, default: Any
) -> Any:
    """``data[key]`` of type ``kind``, or ``default`` when absent; an int is accepted for a float, a bool
    is not accepted for a number."""
    value = data.get(key, default)
    if value is None:
        return default
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        raise ProfileError(f"{where(context, key)} must be a number, not {value!r}")
    if float in kinds and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise ProfileError(f"{where(context, key)} must be {names}, not {value!r}")
    return value


def positive(value: float, key: str, context: str) -> None:
    """``ProfileError`` unless ``value`` is above zero."""
    if value <= 0:
        raise ProfileError(f"{where(context, key)} must be positive, not {value!r}")


__all__ = ["optional", "positive", "required", "where"]
