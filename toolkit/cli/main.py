"""The entry point of the ``gpuless`` command: every command module registered, errors to exit codes.

Every subcommand prints a readable table by default and a JSON document with ``--json``. Errors from
``toolkit.errors`` become one line on stderr (plus a hint) and the error's exit code: 2 for bad
input, 1 for everything else. No traceback reaches the user: anything unexpected is reported in one
line by ``main``, with the traceback written to a crash log in the cache directory. SIGTERM and SIGHUP
interrupt a command the way Ctrl-C does (``toolkit.adapters.interrupts``).
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import click

from toolkit import __version__
from toolkit.adapters import interrupts
from toolkit.adapters.interrupts import Terminated
from toolkit.cli.group import cli
from toolkit.cli.output import fail
from toolkit.core.safe_text import terminal_safe
from toolkit.errors import GpulessError


def write_crash_log(error: BaseException) -> Path | None:
    """Write the traceback of an unexpected error to a new file in the cache directory (or the
    temporary directory when that is not writable); None when neither can be written."""
    import tempfile

    from toolkit.settings import Settings

    text = f"gpuless {__version__}\nargv: {sys.argv!r}\n\n" + "".join(traceback.format_exception(error))
    name = f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{id(error) % 10000:04d}.log"
    places: list[Callable[[], Path]] = [
        lambda: Settings().ensure_cache_dir(),
        lambda: Path(tempfile.gettempdir()),
    ]
    for place in places:
        try:
            path = place() / name
            path.write_text(text, encoding="utf-8")
        except Exception:  # a broken setting or a full disk: try the next place
            continue
        return path
    return None


def _interrupted(cause: BaseException | None) -> NoReturn:
    """One line and the shell's exit code: 130 for Ctrl-C, 128 + N for signal N."""
    stop = cause if isinstance(cause, KeyboardInterrupt) else KeyboardInterrupt()  # click's Abort: as Ctrl-C
    if isinstance(stop, Terminated):
        click.echo(f"gpuless: stopped by {interrupts.named(stop)}", err=True)
    else:
        click.echo("gpuless: interrupted", err=True)
    sys.exit(interrupts.exit_code(stop))


def _click_error(error: click.ClickException) -> NoReturn:
    """One ``gpuless: error:`` line and where help is, instead of click's usage block."""
    click.echo(f"gpuless: error: {terminal_safe(error.format_message(), one_line=True)}", err=True)
    if isinstance(error, click.UsageError):
        ctx = error.ctx
        where = ctx.command_path if ctx is not None and ctx.command_path else "gpuless"
        click.echo(f"  hint: Try '{where} --help' for help.", err=True)
        sys.exit(2)
    sys.exit(error.exit_code)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``gpuless`` script: run the CLI and turn errors into exit codes."""
    interrupts.install()
    try:
        cli.main(args=argv, prog_name="gpuless", standalone_mode=False)
    except GpulessError as error:
        fail(error)
    except click.exceptions.Abort as abort:  # click turns KeyboardInterrupt (and Terminated) into Abort
        _interrupted(abort.__cause__)
    except click.ClickException as error:
        # click's own usage errors (bad option values, missing arguments) are bad input: exit 2,
        # said like every other error (click's own form takes three lines, the usage first).
        _click_error(error)
    except KeyboardInterrupt as stop:
        _interrupted(stop)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as error:  # the last resort: one line and a crash log, never a traceback
        log = write_crash_log(error)
        where = f"; details in {log}" if log else ""
        summary = terminal_safe(f"{type(error).__name__}: {error}", one_line=True)[:200]
        click.echo(f"gpuless: internal error: {summary}{where}", err=True)
        sys.exit(1)


# Each command module registers its subcommands on the group when imported (none imports another).
from toolkit.cli import (  # noqa: E402, F401
    bench,
    calibration,
    chat,
    connect,
    join,
    lifecycle,
    machine,
    models,
    pool,
    readback,
    share,
    tune,
)
