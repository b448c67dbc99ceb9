"""The ``gpuless`` command line: one subcommand per wizard step; no subcommand opens the TUI.

Every subcommand prints a readable table by default and a JSON document with ``--json``. Errors from
``toolkit.errors`` become one line on stderr (plus a hint) and the error's exit code: 2 for bad
input, 1 for everything else. No traceback reaches the user.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from toolkit import __version__
from toolkit.errors import GpulessError, UsageError

F = TypeVar("F", bound=Callable[..., Any])


def emit_json(payload: Any) -> None:
    """Print a JSON document to stdout (the machine-readable output of every ``--json``)."""
    click.echo(json.dumps(payload, indent=2, sort_keys=False, default=str))


def json_option(func: F) -> F:
    """The ``--json`` flag every subcommand takes."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(func)


def fail(error: GpulessError) -> NoReturn:
    """Report an error the way every subcommand does and exit with its code."""
    click.echo(f"gpuless: error: {error.message}", err=True)
    if error.hint:
        click.echo(f"  hint: {error.hint}", err=True)
    sys.exit(error.exit_code)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gpuless")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """gpuless: pick, tune, start, benchmark and chat with a local LLM on a laptop with no GPU.

    Run without a subcommand to open the interactive wizard.
    """
    if ctx.invoked_subcommand is None:
        from toolkit.tui.app import run_app

        run_app()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``gpuless`` script: run the CLI and turn errors into exit codes."""
    try:
        cli.main(args=argv, prog_name="gpuless", standalone_mode=False)
    except GpulessError as error:
        fail(error)
    except click.exceptions.Abort:
        click.echo("gpuless: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        # click's own usage errors (bad option values, missing arguments) are bad input: exit 2.
        error.show()
        sys.exit(2 if isinstance(error, click.UsageError | click.BadParameter) else error.exit_code)
    except KeyboardInterrupt:
        click.echo("gpuless: interrupted", err=True)
        sys.exit(130)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except BrokenPipeError:
        sys.exit(0)


__all__ = ["UsageError", "cli", "emit_json", "fail", "json_option", "main"]
