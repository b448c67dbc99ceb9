"""Validation of option values where click parses them, so bad input is exit 2 with one line.

Kept apart from the commands: ``click.FloatRange`` lets ``nan`` and ``inf`` through (every comparison
with NaN is false), a size like ``nan`` would crash the arithmetic that follows, and a keep-alive
Ollama cannot parse is silently replaced by its 5-minute default. Each check here names the option
and says what a good value looks like.
"""

from __future__ import annotations

import math
import re
from typing import Any

import click

#: Go's time.ParseDuration grammar (what Ollama reads keep_alive with), or whole seconds (-1 = forever).
_GO_DURATION = re.compile(r"[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+|[-+]?0|-?\d+")


class FiniteFloat(click.ParamType[float]):
    """A float in [min, max] that is a real number (no nan, no inf)."""

    name = "float"

    def __init__(self, minimum: float, maximum: float) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number) or not self.minimum <= number <= self.maximum:
            self.fail(f"{value!r} is not a number from {self.minimum:g} to {self.maximum:g}", param, ctx)
        return number


def check_size(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A memory size like 4g, 512m or a byte count: finite and positive."""
    if value is None:
        return None
    number = value.strip().lower().removesuffix("ib").removesuffix("b").rstrip("kmgt")
    try:
        parsed = float(number)
    except ValueError:
        parsed = math.nan
    if not math.isfinite(parsed) or parsed <= 0:
        raise click.BadParameter(f"{value!r} is not a size; write it like 4g, 512m or 6442450944", ctx, param)
    return value


def check_duration(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A duration as Ollama reads it: Go syntax (30m, 1h30m, 90s, 0) or whole seconds (-1: forever)."""
    if value is None:
        return None
    if not _GO_DURATION.fullmatch(value.strip()):
        raise click.BadParameter(
            f"{value!r} is not a duration Ollama reads; write it like 30m, 1h30m, 90s, 0 or -1 (forever)",
            ctx,
            param,
        )
    return value.strip()


#: The most CPUs a container quota may name (Docker rejects more than the engine has anyway).
MAX_CPUS = 1024.0
CPUS = FiniteFloat(0.01, MAX_CPUS)
