"""How sizes are written for people, once for the whole program."""

from __future__ import annotations


def format_bytes(value: int) -> str:
    """Bytes for people: "7.5 GiB", "512 MiB"."""
    if value >= 1024**3:
        return f"{value / 1024**3:.1f} GiB".replace(".0 GiB", " GiB")
    return f"{value / 1024**2:.0f} MiB"
