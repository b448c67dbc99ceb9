"""The ``share`` subcommand: this laptop's model for teammates, through a key-checking nginx gateway.

The work is ``toolkit.services.share``; this module parses the options and prints: the URL, each new key
once, the lines teammates paste, and the plain-HTTP warning.
"""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.cli.group import cli, current_settings
from toolkit.cli.output import emit_json, json_option
from toolkit.core.share.invite import PLAIN_HTTP_WARNING, key_lines, qr_code
from toolkit.core.share.keys import ShareKey
from toolkit.core.share.tls import TLS_NOTE, trust_lines
from toolkit.errors import UsageError


@cli.command()
@click.option("--listen", metavar="ADDR:PORT", help="Where teammates reach the gateway (a LAN address).")
@click.option("--add-key", "add_keys", multiple=True, metavar="NAME", help="Make a teammate's key.")
@click.option(
    "--pool-key",
    metavar="KEY",
    help="Accept KEY as this share's pool key (the key named pool), the one the other members of a pool "
    "accept (`--add-key pool` on the first made it).",
)
@click.option("--revoke", metavar="NAME", help="Remove a key; a running gateway refuses it from then on.")
@click.option("--list", "list_keys", is_flag=True, help="List the keys' names (never the keys).")
@click.option("--stop", is_flag=True, help="Remove the gateway; Ollama keeps running on loopback.")
@click.option(
    "--max-streams",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Requests one key may have in flight (the excess gets 429); applies when the gateway starts.",
)
@click.option(
    "--tls/--no-tls",
    default=None,
    help="Speak HTTPS with a self-signed certificate (its fingerprint is printed); default: as the "
    "running gateway does (plain HTTP for a new one).",
)
@click.option("--no-pull", is_flag=True, help="Do not pull the gateway image if it is missing.")
@click.option(
    "--file",
    "-f",
    "compose_path",
    type=click.Path(path_type=Path),
    help="The compose file to add the gateway service to (default: ./compose.yaml if gpuless wrote it).",
)
@json_option
def share(
    listen: str | None,
    add_keys: tuple[str, ...],
    pool_key: str | None,
    revoke: str | None,
    list_keys: bool,
    stop: bool,
    max_streams: int,
    tls: bool | None,
    no_pull: bool,
    compose_path: Path | None,
    as_json: bool,
) -> None:
    """Share this laptop's model with teammates: a gateway that checks a key on every request.

    \b
    Ollama stays on loopback; only the gateway (nginx) listens on the address
    you give. Teammate keys may chat, generate, embed, list models and fetch
    their files (`gpuless models fetch`); they get 403 on pull, push, create,
    copy, delete and blobs. The admin key may do all.
    """
    from toolkit.services import share as service

    settings = current_settings()
    compose_path = _compose_file(compose_path)
    chosen = [name for name, on in (("--revoke", revoke), ("--list", list_keys), ("--stop", stop)) if on]
    if len(chosen) > 1 or (chosen and (listen or add_keys or tls is not None or pool_key)):
        named = " and ".join(chosen or ["--listen/--add-key/--tls/--pool-key"])
        raise UsageError(f"{named} cannot be combined with other actions")
    if stop:
        removed = service.stop(settings, compose_path)
        if as_json:
            emit_json({"removed": removed})
            return
        click.echo("Gateway removed; Ollama keeps running on loopback." if removed else "No gateway runs.")
        return
    if list_keys:
        ring = service.list_keys(settings)
        state = service.status(settings)
        if as_json:
            listen = state.listen if state and state.running else None
            emit_json({"listen": listen, "keys": [_key_info(key, secret=False) for key in ring.keys]})
            return
        url = service.gateway_url(settings, state)
        where = f"running on {url}" if url else "not running"
        click.echo(f"Gateway: {where}")
        for key in ring.keys:
            click.echo(f"  {key.name:<20} {key.role:<9} made {key.created}")
        if not ring.keys:
            click.echo("  no keys yet: `gpuless share --listen ADDR:PORT` makes the admin key")
        return
    if revoke is not None:
        reloaded = service.revoke(settings, revoke)
        if as_json:
            emit_json({"revoked": revoke, "reloaded": reloaded})
            return
        tail = "the gateway refuses it from now on." if reloaded else "the gateway is not running."
        click.echo(f"Key {revoke!r} revoked; {tail}")
        return
    outcome = service.share(
        settings,
        listen=listen,
        add=add_keys,
        max_streams=max_streams,
        pull=not no_pull,
        compose_path=compose_path,
        tls=tls,
        pool_key=pool_key,
    )
    if as_json:
        emit_json(
            {
                "action": outcome.action,
                "url": outcome.url,
                "fingerprint": outcome.fingerprint,
                "certificate": str(outcome.cert_path) if outcome.cert_path else None,
                "new_keys": [_key_info(key, secret=True) for key in outcome.new_keys],
                "ollama_exposed": outcome.ollama_exposed,
                "warning": None if outcome.fingerprint else PLAIN_HTTP_WARNING,
            }
        )
        return
    if outcome.listen is None:
        click.echo("Keys saved; the gateway is not running (start it: `gpuless share --listen ADDR:PORT`).")
        url = "http://ADDR:PORT"
    else:
        url = outcome.url or outcome.listen.url
        verb = "started" if outcome.action == "started" else "running (keys reloaded)"
        click.echo(f"Gateway {verb}: {url}  (Ollama itself stays on loopback)")
        click.echo(f"  OPENAI_BASE_URL={url}/v1")
        click.echo(qr_code(url), nl=False)
        if compose_path is not None and outcome.action == "started":
            click.echo(
                f"  written into {compose_path} as the `gateway` service (docker compose up -d keeps both)"
            )
    if outcome.fingerprint and outcome.cert_path:
        click.echo("")
        for line in trust_lines(url, outcome.fingerprint, str(outcome.cert_path)):
            click.echo(line)
    for key in outcome.new_keys:
        click.echo("")
        for line in key_lines(url, key):
            click.echo(line)
    if not outcome.new_keys:
        click.echo("No new keys (make one with --add-key NAME; --list shows their names).")
    if outcome.ollama_exposed and outcome.listen is not None:
        click.echo(
            f"\nWARNING: Ollama itself answers on {outcome.listen.host} without a key (`up --expose`?). "
            "Run `gpuless up` without --expose so only the gateway is reachable."
        )
    click.echo("\n" + (TLS_NOTE if outcome.fingerprint else PLAIN_HTTP_WARNING))


def _compose_file(given: Path | None) -> Path | None:
    """The compose file to keep the gateway service in: ``--file``, else ./compose.yaml when gpuless
    wrote it (``toolkit.services.share.own_compose_file``), else none."""
    from toolkit.services.share import own_compose_file

    if given is not None:
        if not given.is_file():
            raise UsageError(f"{given} does not exist", "Pass the compose file `gpuless compose` wrote.")
        return given
    return own_compose_file(Path("compose.yaml"))


def _key_info(key: ShareKey, *, secret: bool) -> dict[str, str]:
    info = {"name": key.name, "role": key.role, "created": key.created}
    return {**info, "secret": key.secret} if secret else info
