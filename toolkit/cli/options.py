"""The options several commands share, and validation of option values where click parses them.

``spec_options`` shape the Ollama service (``compose``, ``up``), ``file_option`` names the compose
file a command acts on, ``server_options`` the server ``bench`` and ``chat`` talk to. Values are
checked here, so bad input is exit 2 with one line.

Kept apart from the commands: ``click.FloatRange`` lets ``nan`` and ``inf`` through (every comparison
with NaN is false), a size like ``nan`` would crash the arithmetic that follows, and a keep-alive
Ollama cannot parse is silently replaced by its 5-minute default. Each check here names the option
and says what a good value looks like.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import click

from toolkit import defaults
from toolkit.cli.output import F
from toolkit.core.units import parse_option_size
from toolkit.errors import UsageError

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


class SizeType(click.ParamType[int]):
    """A memory size: 16, 16G, 16GB and 16GiB all mean 16 GiB; a byte count (from 1 MiB up) is bytes."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        name = param.opts[0] if param is not None and param.opts else "the size"
        try:
            return parse_option_size(str(value))
        except UsageError:
            hint = "write it like 16, 16G, 512m or 16GiB"
            raise UsageError(f"{name} {value!r} is not a size", hint) from None


SIZE = SizeType()


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


def spec_options(func: F) -> F:
    """The options that shape the Ollama service, shared by ``compose`` and ``up``."""
    options = [
        click.option(
            "--model",
            help="Ollama model tag to serve and pull, e.g. qwen2.5:1.5b "
            "(default: what `gpuless recommend` picks).",
        ),
        click.option(
            "--ctx",
            type=click.IntRange(256),
            default=defaults.CONTEXT_LENGTH,
            show_default=True,
            help="Context length (tokens).",
        ),
        click.option(
            "--users",
            type=click.IntRange(1, 64),
            default=1,
            show_default=True,
            help="Concurrent requests (OLLAMA_NUM_PARALLEL).",
        ),
        click.option("--mem-limit", type=SIZE, help="Memory limit, e.g. 4g or 4 (GiB; no swap)."),
        click.option("--cpus", type=CPUS, help="CPU quota in cores."),
        click.option(
            "--kv-cache",
            type=click.Choice(["f16", "q8_0", "q4_0"]),
            default="f16",
            show_default=True,
            help="KV cache type (quantized turns flash attention on).",
        ),
        click.option(
            "--keep-alive",
            default="30m",
            show_default=True,
            callback=check_duration,
            help="Idle time before unload (30m, 1h, 0, -1 = never).",
        ),
        click.option(
            "--port",
            type=click.IntRange(1, 65535),
            default=defaults.OLLAMA_PORT,
            show_default=True,
            help="Host port Ollama answers on.",
        ),
        click.option("--expose", is_flag=True, help="Listen beyond loopback (Ollama has NO authentication)."),
        click.option("--image", help="Container image (default: GPULESS_IMAGE or ollama/ollama:latest)."),
        click.option(
            "--network",
            type=click.Choice(["host", "ports"]),
            help="host networking, or ports published on 127.0.0.1 [default: ports where the engine has a "
            "bridge network, else host].",
        ),
        click.option(
            "--memlock/--no-memlock",
            default=None,
            help="Force `ulimits: memlock: -1` (off by default: Ollama >= 0.7 never calls mlock, and "
            "rootless, Podman and some engines refuse it).",
        ),
        click.option(
            "--swappiness/--no-swappiness",
            default=None,
            help="Force `mem_swappiness: 0` on or off [default: on for cgroup v1 engines, where it works].",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


#: The parameters of ``spec_options``: a compose file replaces all of them.
SPEC_PARAMS = (
    "model",
    "ctx",
    "users",
    "mem_limit",
    "cpus",
    "kv_cache",
    "keep_alive",
    "port",
    "expose",
    "image",
    "network",
    "memlock",
    "swappiness",
)


def file_option(func: F) -> F:
    """``--file/-f``: the compose file whose container to act on (default: ./compose.yaml when gpuless
    wrote it, else the configured container name)."""
    return click.option(
        "--file",
        "-f",
        "compose_path",
        type=click.Path(path_type=Path),
        help="The gpuless compose file whose container to use (default: ./compose.yaml if gpuless wrote it).",
    )(func)


def think_option(func: F) -> F:
    """--think: let a thinking model think (bench and chat ask for thinking off by default)."""
    return click.option(
        "--think",
        is_flag=True,
        help='Let a thinking model think (default: off, sent as "think": false, or '
        '"reasoning_effort": "none" with --api openai); TTFT is always to the first answer token.',
    )(func)


def server_options(func: F) -> F:
    """--url and --api: which server bench and chat talk to, and in which protocol."""
    func = click.option(
        "--api",
        type=click.Choice(["ollama", "openai"]),
        default="ollama",
        show_default=True,
        help="Ollama's native API or its OpenAI-compatible one (/v1).",
    )(func)
    return click.option(
        "--url",
        help="Server URL (default: GPULESS_OLLAMA_URL, else the joined share, else the container or "
        "native server `gpuless up` started, else http://127.0.0.1:11434).",
    )(func)
