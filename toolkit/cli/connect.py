"""The ``connect`` subcommand: how an app reaches the model gpuless runs (URLs, env lines, snippets).

The server is found as ``bench`` and ``chat`` find it and asked which models it has, so what is printed
works right now; with ``--url`` and ``--model`` nothing has to answer (``toolkit.services.connecting``).
The text itself comes from ``toolkit.core.compose.connect_info``, which the wizard's Connect panel shows too.
"""

from __future__ import annotations

import click

from toolkit.cli.group import cli, current_settings
from toolkit.cli.output import emit_json, json_option
from toolkit.core.catalog.thinking import OFF_OLLAMA, OFF_OPENAI, served_thinking_warning
from toolkit.core.compose.connect_info import API_KEY, SNIPPET_IDS, ConnectInfo, server_root
from toolkit.core.safe_text import terminal_safe
from toolkit.settings import Settings


def format_info(info: ConnectInfo) -> list[str]:
    """The readable form: the three values to paste, the env lines, then every snippet."""
    why = "OpenAI clients need one; Ollama ignores it" if info.api_key == API_KEY else "the share's key"
    lines = [
        f"Ollama URL (native API)      {info.ollama_url}",
        f"OpenAI-compatible base URL   {info.openai_base_url}",
        f"model                        {info.model}",
        f"API key                      {info.api_key}  ({why})",
        *(f"from {who}: {url}/v1" for who, url in info.elsewhere),
        "",
        "Environment lines (for a .env file; every snippet reads them, so a new port needs no edit):",
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
@click.option(
    "--model",
    help="Model the app should use (default: the first one the server lists). With --url, no server needs "
    "to answer.",
)
@click.option(
    "--url",
    help="Server URL (default: GPULESS_OLLAMA_URL, else the joined share, else the container or native "
    "server `gpuless up` started, else http://127.0.0.1:11434).",
)
@click.option(
    "--snippet",
    type=click.Choice(SNIPPET_IDS),
    help="Print only this snippet, as is (e.g. `gpuless connect --snippet python > app.py`).",
)
def connect(as_json: bool, model: str | None, url: str | None, snippet: str | None) -> None:
    """How to connect an app: Ollama and OpenAI-compatible URLs, model name, env lines, snippets."""
    from toolkit.services.connecting import connection

    settings = current_settings()
    found = connection(settings, url, model)
    info = found.info
    if found.note is not None:
        click.echo(f"gpuless: note: {terminal_safe(found.note, one_line=True)}", err=True)
    if as_json:
        emit_json(info.snippet(snippet).to_dict() if snippet else info.to_dict())
    elif snippet:
        click.echo(terminal_safe(info.snippet(snippet).text), nl=False)
    else:
        for line in format_info(info) + _certificate_lines(info.ollama_url, settings):
            click.echo(terminal_safe(line))


def _certificate_lines(target: str, settings: Settings) -> list[str]:
    """For a joined HTTPS share pinned by its fingerprint: the lines that make other clients trust it."""
    from toolkit.services.join import current

    joined = current(settings)
    if joined is None or not joined.cert or server_root(joined.url) != server_root(target):
        return []
    return [
        "",
        f"The share's certificate is self-signed; it is pinned in {joined.cert}. Trust it in your app:",
        f"  SSL_CERT_FILE={joined.cert}   (openai and httpx clients read it)",
        f"  curl --cacert {joined.cert} ...",
    ]
