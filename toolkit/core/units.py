"""How sizes are read and written, once for the whole program."""

from __future__ import annotations

import math

from toolkit.errors import UsageError

MIB = 1024**2
GIB = 1024**3


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


def format_fixed(value: float | None, digits: int = 1, missing: str = "—") -> str:
    """A measured figure with ``digits`` decimals ("12.3"), or ``missing`` when it was not measured."""
    return missing if value is None else f"{value:.{digits}f}"


def format_memory(value: float) -> str:
    """Memory in GiB: ``format_bytes(value, in_gib=True)``, short for the many memory sentences."""
    return format_bytes(value, in_gib=True)


#: The smallest bare number ``parse_option_size`` reads as bytes: no memory size is a million GiB.
BARE_BYTES_FROM = MIB

_UNITS = {"k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def _split(text: str) -> tuple[float, int | None]:
    """The number and the unit's factor (None when bare) of "4g", "512MiB", "1.5GB", "123"."""
    cleaned = text.strip().lower().removesuffix("ib").removesuffix("b")
    factor = _UNITS.get(cleaned[-1:]) if cleaned else None
    number = cleaned[:-1] if factor is not None else cleaned
    try:
        value = float(number)
    except ValueError:
        raise UsageError(f"cannot read the size {text!r}", "write it like 16, 16G, 512m or 16GiB") from None
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"the size {text!r} must be a positive number")
    return value, factor


def parse_size(text: str) -> int:
    """A memory size as Docker and compose write it ("4g", "512m", "1.5g", "2GiB", "123") → bytes: a bare
    number is bytes, as in a compose file."""
    value, factor = _split(text)
    return int(value * (factor or 1))


def parse_option_size(text: str) -> int:
    """A memory size typed on the command line → bytes. ``16``, ``16G``, ``16GB`` and ``16GiB`` all mean
    16 GiB (sizes of memory are binary, whichever way they are written); a bare number from
    ``BARE_BYTES_FROM`` up is a byte count, as Docker writes it."""
    value, factor = _split(text)
    if factor is None:
        factor = 1 if value >= BARE_BYTES_FROM else GIB
    return int(value * factor)
