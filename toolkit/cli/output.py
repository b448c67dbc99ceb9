"""How every command speaks: JSON with ``--json``, one error line with a hint, exit codes.

Errors from ``toolkit.errors`` become one line on stderr (plus a hint) and the error's exit code: 2 for
bad input, 1 for everything else. What a server or a file said is made terminal-safe first.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from toolkit.core.safe_text import terminal_safe
from toolkit.errors import GpulessError

F = TypeVar("F", bound=Callable[..., Any])


def emit_json(payload: Any) -> None:
    """Print a JSON document to stdout (the machine-readable output of every ``--json``)."""
    click.echo(json.dumps(payload, indent=2, sort_keys=False, default=str))


def json_option(func: F) -> F:
    """The ``--json`` flag every subcommand takes."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(func)


def fail(error: GpulessError) -> NoReturn:
    """Report an error the way every subcommand does and exit with its code.

    The message may quote a server or a file, so it is made terminal-safe and kept on one line.
    """
    click.echo(f"gpuless: error: {terminal_safe(error.message, one_line=True)}", err=True)
    if error.hint:
        click.echo(f"  hint: {terminal_safe(error.hint, one_line=True)}", err=True)
    sys.exit(error.exit_code)
