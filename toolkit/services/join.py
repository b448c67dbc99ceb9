"""``gpuless join``: check that a URL is a gpuless share and that the key opens it, then remember both.

A share's gateway answers ``/api/tags`` with a valid key and 401 without one; anything else (Ollama
itself, which needs no key; a closed port; a wrong key) is refused before anything is written.
"""

from __future__ import annotations

import asyncio

from toolkit.adapters import joined
from toolkit.adapters.ollama.client import OllamaClient
from toolkit.core.target import check_target
from toolkit.errors import KeyRefusedError, UsageError
from toolkit.settings import Settings


async def _models(url: str, key: str) -> list[str]:
    async with OllamaClient(url, timeout=10.0, connect_timeout=3.0, api_key=key) as client:
        return await client.list_models()


def join(settings: Settings, url: str, key: str) -> tuple[joined.Joined, list[str]]:
    """Check ``url`` and ``key``, then store them; returns what was stored and the share's models."""
    key = key.strip()
    if not key:
        raise UsageError("the key is empty", hint="Pass the key the share printed: --key KEY.")
    target = check_target(url, explicit=True, command="join")  # typed by the user: may be on the LAN
    try:
        asyncio.run(_models(target, ""))
    except KeyRefusedError:
        pass  # a share: it wants a key
    else:
        raise UsageError(
            f"{target} is not a gpuless share: it answers without a key",
            hint="Use the URL `gpuless share` printed (the gateway's, not Ollama's own port).",
        )
    try:
        models = asyncio.run(_models(target, key))
    except KeyRefusedError:
        raise KeyRefusedError(
            f"{target} refused the key (HTTP 401); nothing was stored",
            hint="Check the key with whoever shares it (`gpuless share --list` shows the names).",
        ) from None
    share = joined.Joined(target, key)
    joined.save(settings, share)
    return share, models


def joined_share(settings: Settings) -> joined.Joined | None:
    """The share joined with ``gpuless join``, None when none is."""
    return joined.load(settings)


def leave(settings: Settings) -> bool:
    """Forget the joined share; whether one was."""
    return joined.forget(settings)


def key_for(url: str, settings: Settings) -> str | None:
    """The key of the joined share when ``url`` is its server, else None."""
    return joined.key_for(url, settings)


def is_joined(url: str, settings: Settings) -> bool:
    """Whether ``url`` is the joined share (the user typed it at join time)."""
    return joined.is_joined(url, settings)
