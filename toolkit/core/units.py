"""How sizes are read and written, once for the whole program."""

from __future__ import annotations

from toolkit.core.hardware import GIB
from toolkit.errors import UsageError


def format_bytes(value: int) -> str:
    """Bytes for people: "7.5 GiB", "512 MiB"."""
    if value >= 1024**3:
        return f"{value / 1024**3:.1f} GiB".replace(".0 GiB", " GiB")
    return f"{value / 1024**2:.0f} MiB"


def gb(n_bytes: float) -> str:
    """Bytes as "5.3 GiB" ("0.04 GiB" below 1 GiB, so small sizes do not read as zero): binary units, as
    ``gpuless detect``, the TUI and ``free -h`` show memory."""
    value = n_bytes / GIB
    return f"{value:.2f} GiB" if value < 1 else f"{value:.1f} GiB"


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
