"""The ``status`` and ``verify`` subcommands: what runs, and which settings took effect.

Both read only. They look at the container of the compose file, or at the native ``ollama serve`` that
``gpuless up --runtime native`` started (``--runtime``, else ``toolkit.services.readback``'s rule: a
running container wins). What ``verify`` draws is ``toolkit.cli.render_lifecycle``'s.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from toolkit.cli.group import cli, current_settings
from toolkit.cli.options import file_option
from toolkit.cli.output import emit_json, json_option
from toolkit.cli.render_lifecycle import print_verify


def runtime_option(func: click.decorators.FC) -> click.decorators.FC:
    """--runtime: the container or the native server (default: whichever runs; the container first)."""
    return click.option(
        "--runtime",
        type=click.Choice(["docker", "native"]),
        default=None,
        help="The container, or the native `ollama serve` gpuless started (default: the one that runs; "
        "a running container first).",
    )(func)


@cli.command()
@file_option
@runtime_option
@json_option
def status(compose_path: Path | None, runtime: str | None, as_json: bool) -> None:
    """Show the Ollama server's state: the container's (and its health), or the native server's."""
    from toolkit.services.readback import status as read_status

    info = read_status(current_settings(), compose_path, runtime).to_dict()
    if as_json:
        emit_json(info)
    if info.get("exists", True) is False:
        if not as_json:
            click.echo(f"No container named {info['name']}. Start one with `gpuless up`.", err=True)
        sys.exit(1)  # as `docker inspect` does for a missing container: scripts can test for it
    if as_json:
        return
    for key, value in info.items():
        if key == "served_model":
            key = "clients use"  # the model with gpuless's settings, the name apps and chat should ask for
        if key == "health" and value == "starting" and info["ollama_version"]:
            # `up` returns once the API answers, before Docker's first healthcheck has run.
            value = "starting (Docker's first healthcheck is still to run; the API already answers)"
        if value is not None and key not in ("exists", "started_by_gpuless"):
            click.echo(f"  {key:<15}{value}")


@cli.command(name="verify")
@file_option
@runtime_option
@json_option
def verify_command(compose_path: Path | None, runtime: str | None, as_json: bool) -> None:
    """Show which settings of the running server really took effect (container or native)."""
    from toolkit.services.readback import verify

    report = verify(current_settings(), compose_path, runtime)
    if as_json:
        emit_json(report.to_dict())
        return
    print_verify(report)
