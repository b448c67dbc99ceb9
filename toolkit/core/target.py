"""Where gpuless may send traffic at all: the target-safety policy bench, chat and ``up --url`` share.

A benchmark is load, so a URL picked up from a config or an environment variable must never point it
at somebody else's machine: loopback is always fine, anything else only when the user typed it. Pure:
it reads the URL's text and resolves no name (a hostname other than localhost counts as remote).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from toolkit.core.wire import normalize_url
from toolkit.errors import UnsafeTargetError, UsageError


def is_loopback_host(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_target(url: str, *, explicit: bool, command: str = "bench") -> str:
    """The normalised URL if gpuless may send traffic there (benchmark load, a chat, an attach).

    Loopback is always fine. Anything else (a LAN host, a 172.16/12 Docker bridge, a hostname) only
    when the user passed that URL themselves; a URL from a config or environment variable is refused.
    ``command`` names the subcommand in the message (bench, chat and ``up --url`` share this check).
    """
    normalized = normalize_url(url)
    parts = urlsplit(normalized)
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError:
        hint = "Use the form http://127.0.0.1:11434."
        raise UsageError(f"not a server URL: {url!r} (bad port)", hint=hint) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"not a server URL: {url!r}", hint="Use the form http://127.0.0.1:11434.")
    if explicit or is_loopback_host(parts.hostname):
        return normalized
    raise UnsafeTargetError(
        f"refusing to connect `gpuless {command}` to {normalized}: it is not a loopback address and was"
        " not given with --url",
        hint=f"If this is your own server, pass it explicitly: gpuless {command} --url {normalized}",
    )
