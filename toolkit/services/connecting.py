"""What `gpuless connect` and the wizard's Connect panel ask the world before ``core.connect`` writes.

Which server (the rule ``bench`` and ``chat`` share), which of its models, whether that model thinks, the key
of a joined share, and who else can reach the server: the LAN address when ./compose.yaml exposes it, the
share's gateway when one runs. With both a URL and a model given, nothing has to answer: the snippets are
printed for when the server runs (an app written before the server starts, a laptop on another network).
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from toolkit.adapters.joined import key_for
from toolkit.adapters.ollama.client import OllamaClient
from toolkit.core.compose.connect_info import ConnectInfo, connect_info, server_root
from toolkit.errors import GpulessError, OllamaUnreachableError, UsageError
from toolkit.services.models import server_default_model
from toolkit.settings import Settings

#: Interfaces that never carry a teammate's traffic (Docker's bridges, virtual Ethernet pairs, VPN taps).
_VIRTUAL_PREFIXES = ("docker", "br-", "veth", "virbr", "lo", "tun", "tap", "cni", "flannel", "podman")


@dataclass(frozen=True)
class Connection:
    """``info`` for the app, and ``note``: a line for the user when nothing answered (else None)."""

    info: ConnectInfo
    note: str | None = None


def lan_address() -> str | None:
    """This laptop's IPv4 address on its LAN (a private address on a physical interface that is up), or
    None. Read from the interfaces (psutil): no packet is sent."""
    import psutil

    stats = psutil.net_if_stats()
    for name, addresses in sorted(psutil.net_if_addrs().items()):
        if name.startswith(_VIRTUAL_PREFIXES) or not (stats.get(name) and stats[name].isup):
            continue
        for address in addresses:
            try:
                ip = ipaddress.ip_address(address.address)
            except ValueError:
                continue
            if ip.version == 4 and ip.is_private and not ip.is_loopback and not ip.is_link_local:
                return str(ip)
    return None


def elsewhere(target: str, settings: Settings) -> tuple[tuple[str, str], ...]:
    """Who else reaches the server at ``target``: its LAN address when ./compose.yaml (gpuless's) publishes
    that port beyond loopback, and a running share's gateway."""
    from toolkit.adapters.compose_file import spec_here

    found: list[tuple[str, str]] = []
    port = urlsplit(target).port
    spec = spec_here()
    if spec is not None and spec.expose and spec.port == port:
        host = spec.listen_ip or lan_address()
        if host:
            found.append(("other machines on the LAN (exposed: no key)", f"http://{host}:{port}"))
    try:
        from toolkit.services.share import status

        gateway = status(settings)
    except GpulessError:  # no engine: no gateway either
        gateway = None
    if gateway is not None and gateway.running:
        found.append(("teammates, each with their key (gpuless share)", f"http://{gateway.listen}"))
    return tuple(found)


async def _ask(url: str, model: str | None, check: bool) -> tuple[str, bool | None]:
    """``model`` if the server has it (``name`` also matches ``name:latest``; not asked unless ``check``),
    else the one rule's default; and whether it thinks."""
    async with OllamaClient(url, timeout=10.0, connect_timeout=2.0) as client:
        if model is None:
            chosen = await server_default_model(client)
        elif not check:
            chosen = model
        else:
            served = await client.list_models()
            found = next((c for c in (model, f"{model}:latest") if c in served), None)
            if found is None:
                listed = ", ".join(served) if served else "none"
                raise UsageError(
                    f"{url} does not have {model} (it has: {listed})",
                    hint=f"Pull it first, e.g. `gpuless up --model {model}`.",
                )
            chosen = found
        return chosen, await client.thinks(chosen)


def connection(
    settings: Settings,
    url: str | None,
    model: str | None,
    *,
    resolved: str | None = None,
    check_model: bool = True,
) -> Connection:
    """What an app needs for ``model`` at ``url`` (either found as ``bench`` finds them when None;
    ``resolved``: the server URL already found; ``check_model``: refuse a model the server lacks). A URL
    and a model given need no answer from the server."""
    from toolkit.services.server_url import server_url

    target = server_root(resolved or server_url(url, settings))
    note = None
    try:
        chosen, thinks = asyncio.run(_ask(target, model, check_model))
    except OllamaUnreachableError:
        if url is None or model is None:
            raise
        chosen, thinks = model, None
        note = f"nothing answers at {target} now: these are for when it runs there"
    info = connect_info(target, chosen, thinks, key_for(target, settings), elsewhere(target, settings))
    return Connection(info, note)
