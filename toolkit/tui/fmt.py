"""Short human formats for the wizard's tables: memory, download sizes, speeds, durations."""

from __future__ import annotations

from toolkit.core.hardware import GIB
from toolkit.core.units import gb

MIB = 1024**2


def size(n_bytes: float | None) -> str:
    if n_bytes is None:
        return "?"
    if n_bytes >= GIB:
        return f"{n_bytes / GIB:.1f} GiB"
    if n_bytes >= MIB:
        return f"{n_bytes / MIB:.0f} MiB"
    return f"{n_bytes / 1024:.0f} KiB"


def gib(n_bytes: float | None) -> str:
    """Memory (RAM, estimates, limits) always in GiB, as the CLI and the explanations say it."""
    return "?" if n_bytes is None else gb(n_bytes)


def rate(n_bytes_per_s: float | None) -> str:
    return "?" if n_bytes_per_s is None else f"{size(n_bytes_per_s)}/s"


def tps(tokens_per_s: float | None) -> str:
    return "–" if tokens_per_s is None else f"{tokens_per_s:.1f} tok/s"


def seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"
