"""The ``connect`` subcommand: how an app reaches the model gpuless runs (URLs, env lines, snippets).

The server is found as ``bench`` and ``chat`` find it (``toolkit.services.server_url``) and asked which
models it has, so what is printed works right now; the text itself comes from ``core.compose.connect_info``,
which the wizard's Connect panel shows too.
"""

from __future__ import annotations

import asyncio

import click

from toolkit.cli.group import cli, current_settings
from toolkit.cli.output import emit_json, json_option
from toolkit.core.catalog.thinking import OFF_OLLAMA, OFF_OPENAI, served_thinking_warning
from toolkit.core.compose.connect_info import API_KEY, SNIPPET_IDS, ConnectInfo, connect_info, server_root
from toolkit.core.recommend.model_choice import default_model
from toolkit.core.safe_text import terminal_safe
from toolkit.errors import UsageError


def _thinks(url: str, model: str) -> bool | None:
    """Whether the server says ``model`` can think (its ``/api/show`` capabilities); None if it cannot say."""
    from toolkit.services.models import model_thinks

    return asyncio.run(model_thinks(url, model, timeout=10.0, connect_timeout=2.0))


def _served_model(url: str, model: str | None) -> str:
    """``model`` if the server has it (``name`` also matches ``name:latest``), else the one rule's default
    (``core.model_choice.default_model``: a served model gpuless made first)."""
    from toolkit.services.models import server_models

    served = asyncio.run(server_models(url, timeout=10.0, connect_timeout=2.0))
    if model is None:
        chosen = default_model(served)
        if chosen is None:
            raise UsageError(f"{url} has no models", hint="Pull one first, e.g. `gpuless up --model ...`.")
        return chosen
    for candidate in (model, f"{model}:latest"):
        if candidate in served:
            return candidate
    listed = ", ".join(served) if served else "none"
    raise UsageError(
        f"{url} does not have {model} (it has: {listed})",
        hint=f"Pull it first, e.g. `gpuless up --model {model}`.",
    )


def format_info(info: ConnectInfo) -> list[str]:
    """The readable form: the three values to paste, the env lines, then every snippet."""
    why = "OpenAI clients need one; Ollama ignores it" if info.api_key == API_KEY else "the share's key"
    lines = [
        f"Ollama URL (native API)      {info.ollama_url}",
        f"OpenAI-compatible base URL   {info.openai_base_url}",
        f"model                        {info.model}",
        f"API key                      {info.api_key}  ({why})",
        "",
        "Environment lines (for a .env file):",
        *info.env_lines.splitlines(),
        "",
        f"Thinking: every snippet turns it off ({OFF_OPENAI}; Ollama's own API: {OFF_OLLAMA}).",
    ]
    if info.thinks:
        lines.append(served_thinking_warning(info.model))
    for snippet in info.snippets:
        if snippet.id == "env":
            continue  # the same variables as the lines above
        setup = f" (first: {snippet.setup})" if snippet.setup else ""
        lines += ["", f"{snippet.title}{setup}:", *snippet.text.splitlines()]
    return lines


@cli.command()
@json_option
@click.option("--model", help="Model the app should use (default: the first one the server lists).")
@click.option(
    "--url",
    help="Server URL (default: GPULESS_OLLAMA_URL, else the container `gpuless up` started, "
    "else http://127.0.0.1:11434).",
)
@click.option(
    "--snippet",
    type=click.Choice(SNIPPET_IDS),
    help="Print only this snippet, as is (e.g. `gpuless connect --snippet python > app.py`).",
)
def connect(as_json: bool, model: str | None, url: str | None, snippet: str | None) -> None:
    """How to connect an app: Ollama and OpenAI-compatible URLs, model name, env lines, snippets."""
    from toolkit.services.join import key_for
    from toolkit.services.server_url import server_url

    settings = current_settings()
    target = server_root(server_url(url, settings))
    chosen = _served_model(target, model)
    info = connect_info(target, chosen, _thinks(target, chosen), key_for(target, settings))
    if as_json:
        emit_json(info.snippet(snippet).to_dict() if snippet else info.to_dict())
    elif snippet:
        click.echo(terminal_safe(info.snippet(snippet).text), nl=False)
    else:
        for line in format_info(info):
            click.echo(terminal_safe(line))
