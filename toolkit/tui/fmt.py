"""Short human formats for the wizard's tables: memory, download sizes, speeds, durations.

Sizes go through ``toolkit.core.units.format_bytes``, the one byte formatter; this module only adds
the wizard's placeholder for an unknown value.
"""

from __future__ import annotations

from toolkit.core.units import format_bytes, format_memory


def size(n_bytes: float | None) -> str:
    """A download or transfer size, in the unit that fits."""
    return "?" if n_bytes is None else format_bytes(n_bytes)


def gib(n_bytes: float | None) -> str:
    """Memory (RAM, estimates, limits) always in GiB, as the CLI and the explanations say it."""
    return "?" if n_bytes is None else format_memory(n_bytes)


def rate(n_bytes_per_s: float | None) -> str:
    return "?" if n_bytes_per_s is None else f"{size(n_bytes_per_s)}/s"


def tps(tokens_per_s: float | None) -> str:
    return "–" if tokens_per_s is None else f"{tokens_per_s:.1f} tok/s"


def seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"
