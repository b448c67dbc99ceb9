"""``gpuless join``: use a teammate's ``gpuless share`` from this laptop (``chat``, ``bench``, ``connect``).

The checks and the file live in ``toolkit.services.join`` and ``toolkit.adapters.joined``; this module
parses the options and prints. The key is never printed back in full.
"""

from __future__ import annotations

import click

from toolkit.cli.group import cli, current_settings
from toolkit.cli.output import emit_json, json_option
from toolkit.core.safe_text import terminal_safe
from toolkit.errors import UsageError


@cli.command()
@json_option
@click.argument("url", required=False)
@click.option("--key", help="The key the share gave you (its owner ran `gpuless share --add-key NAME`).")
@click.option(
    "--fingerprint",
    metavar="SHA256:…",
    help="Pin the HTTPS certificate of a share started with --tls (the fingerprint its owner printed).",
)
@click.option("--leave", is_flag=True, help="Forget the joined share (back to this laptop's server).")
@click.option("--show", is_flag=True, help="Say which share is joined.")
def join(
    as_json: bool, url: str | None, key: str | None, fingerprint: str | None, leave: bool, show: bool
) -> None:
    """Use a teammate's shared server: `gpuless join URL --key KEY` (chat, bench, connect then use it)."""
    from toolkit.services import join as sharing

    settings = current_settings()
    if leave or show or (as_json and url is None):
        if url is not None or key is not None or fingerprint is not None or (leave and show):
            raise UsageError("--leave and --show take no URL or key", hint="e.g. `gpuless join --leave`.")
        current = sharing.current(settings)
        if leave:
            left = sharing.leave(settings)
            if as_json:
                emit_json({"left": current.url if current else None})
            else:
                done = f"left {terminal_safe(current.url)}" if current and left else "no share was joined"
                click.echo(done)
            return
        if as_json:
            emit_json({"url": current.url, "key": current.masked_key()} if current else {"url": None})
        elif current is None:
            click.echo("no share joined (join one with `gpuless join URL --key KEY`)")
        else:
            click.echo(f"joined {terminal_safe(current.url)} with key {terminal_safe(current.masked_key())}")
        return
    if url is None or key is None:
        raise UsageError("join needs a URL and a key", hint="gpuless join http://HOST:PORT --key KEY")
    from toolkit.services.join import join as join_share

    share, models = join_share(settings, url, key, fingerprint)
    if as_json:
        emit_json({"url": share.url, "key": share.masked_key(), "models": models, "cert": share.cert or None})
        return
    masked = terminal_safe(share.masked_key())
    click.echo(f"joined {terminal_safe(share.url)} (key {masked} stored, mode 0600)")
    click.echo(f"models: {terminal_safe(', '.join(models) or 'none yet')}")
    if share.cert:
        url_text, cert = terminal_safe(share.url), terminal_safe(share.cert)
        click.echo(f"certificate pinned and kept in {cert}; other clients on this laptop can trust it:")
        click.echo(f"  SSL_CERT_FILE={cert}   (openai and httpx clients read it)")
        click.echo(f'  curl --cacert {cert} -H "Authorization: Bearer $OPENAI_API_KEY" {url_text}/v1/models')
    click.echo("chat, bench and connect now use it (an explicit --url or GPULESS_OLLAMA_URL still wins);")
    click.echo("`gpuless join --leave` forgets it.")
