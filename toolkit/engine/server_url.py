"""Which Ollama server `bench`, `chat` and the wizard talk to when the user did not say.

The user's own ``--url`` first; then an explicit ``GPULESS_OLLAMA_URL``; then the container that
``gpuless up`` started here (it may listen on another ``--port`` than the default); then the default.
One rule for the CLI and the TUI, so both reach the same server; and one check (``check_target``)
of where gpuless may send traffic at all, shared by bench, chat and ``up --url``.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from toolkit.core.wire import normalize_url
from toolkit.errors import GpulessError, UnsafeTargetError, UsageError
from toolkit.settings import Settings


def server_url(url: str | None, settings: Settings) -> str:
    """--url; else GPULESS_OLLAMA_URL when set; else the running container of ./compose.yaml (or the
    configured container name); else the configured URL. Blocking (asks the Docker engine, ≤ 2 s)."""
    if url:
        return url
    if "ollama_url" in settings.model_fields_set:  # set explicitly (GPULESS_OLLAMA_URL)
        return settings.ollama_url
    from toolkit.engine.compose_file import managed_names
    from toolkit.engine.docker_runner import DockerRunner

    container, _ = managed_names(None, (settings.container_name, settings.volume_name))
    try:
        running = DockerRunner(timeout=2).running_url(container)
    except GpulessError:  # no engine, or it does not answer: nothing of ours runs there
        running = None
    return running or settings.ollama_url


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
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"not a server URL: {url!r}", hint="Use the form http://127.0.0.1:11434.")
    if explicit or is_loopback_host(parts.hostname):
        return normalized
    raise UnsafeTargetError(
        f"refusing to connect `gpuless {command}` to {normalized}: it is not a loopback address and was"
        " not given with --url",
        hint=f"If this is your own server, pass it explicitly: gpuless {command} --url {normalized}",
    )
