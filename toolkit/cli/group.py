"""The ``gpuless`` command group: the subcommands register on ``cli``; no subcommand opens the wizard.

The settings are read once per process, here, and reach every command through ``current_settings``
(and the wizard through ``run_app``), so all of them agree on directories, image and names.
"""

from __future__ import annotations

import click

from toolkit import __version__
from toolkit.settings import Settings


class _Obj:
    """What the group hands its commands (click's ``ctx.obj``)."""

    def __init__(self) -> None:
        self.settings = Settings()


def current_settings() -> Settings:
    """The settings of this run (read from the environment once, by the group)."""
    return click.get_current_context().ensure_object(_Obj).settings


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gpuless")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """gpuless: pick, tune, start, benchmark and chat with a local LLM on a laptop with no GPU.

    Run without a subcommand to open the interactive wizard.

    \b
    Environment variables gpuless reads:
      GPULESS_OLLAMA_URL      server for bench, chat, connect and the wizard
                              (default: the `gpuless up` container, else
                              http://127.0.0.1:11434)
      GPULESS_IMAGE           Ollama image (default: ollama/ollama:latest)
      GPULESS_CONTAINER_NAME  container name (default: gpuless-ollama)
      GPULESS_VOLUME_NAME     model volume (default: gpuless-ollama-models)
      GPULESS_DATA_DIR        benchmark history, saved chats, share keys
      GPULESS_GATEWAY_IMAGE   nginx image for `share` (default:
                              nginx:stable-alpine)
      GPULESS_GATEWAY_CONTAINER_NAME  the gateway's container name
      GPULESS_CACHE_DIR       bandwidth probe cache, native server log
      XDG_RUNTIME_DIR         per-user lock files of up, down, tune and bench
                              (else the user cache directory)
      DOCKER_HOST             Docker engine, as for the docker CLI (with
                              DOCKER_TLS_VERIFY, DOCKER_CERT_PATH)
      NO_COLOR                any value: no colours
      OLLAMA_*                passed on to `ollama serve` by
                              `up --runtime native` (compose settings win)
    """
    settings = ctx.ensure_object(_Obj).settings
    if ctx.invoked_subcommand is None:
        from toolkit.tui.app import run_app

        run_app(settings)
