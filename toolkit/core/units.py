"""How sizes are read and written, once for the whole program."""

from __future__ import annotations

from toolkit.core.hardware import GIB
from toolkit.errors import UsageError

MIB = 1024**2


def format_bytes(value: float, *, in_gib: bool = False) -> str:
    """Bytes for people, the one way gpuless writes a size.

    ``in_gib``: memory (RAM, estimates, limits), always in GiB as ``gpuless detect``, the wizard and
    ``free -h`` show it, with two decimals below 1 GiB so a small model does not read as zero. Otherwise
    the unit that fits: "7.5 GiB", "512 MiB", "12 KiB" (downloads, transfers, compose comments).
    """
    if in_gib:
        gib = value / GIB
        return f"{gib:.2f} GiB" if gib < 1 else f"{gib:.1f} GiB"
    if value >= GIB:
        return f"{value / GIB:.1f} GiB".replace(".0 GiB", " GiB")
    if value >= MIB:
        return f"{value / MIB:.0f} MiB"
    return f"{value / 1024:.0f} KiB"


def format_memory(value: float) -> str:
    """Memory in GiB: ``format_bytes(value, in_gib=True)``, short for the many memory sentences."""
    return format_bytes(value, in_gib=True)


def parse_size(text: str) -> int:
    """A memory size as Docker and compose write it ("4g", "512m", "1.5g", "2GiB", "123") → bytes."""
    cleaned = text.strip().lower().removesuffix("ib").removesuffix("b")
    units = {"k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
    factor = units.get(cleaned[-1:], 1) if cleaned else 1
    number = cleaned[:-1] if cleaned[-1:] in units else cleaned
    try:
        value = float(number)
    except ValueError:
        raise UsageError(f"cannot read the size {text!r}", "write it like 4g, 512m or 6442450944") from None
    if value <= 0:
        raise UsageError(f"the size {text!r} must be positive")
    return int(value * factor)
