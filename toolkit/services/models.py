"""The model a command talks to when the user named none: the server's list, chosen by the one rule."""

from __future__ import annotations

from typing import Any

from toolkit.adapters.ollama.client import OllamaClient
from toolkit.core.recommend.model_choice import default_model
from toolkit.errors import UsageError


async def server_default_model(client: OllamaClient, prefer: str | None = None) -> str:
    """``core.model_choice.default_model`` over the server's models; UsageError when it has none."""
    chosen = default_model(await client.list_models(), prefer)
    if chosen is None:
        raise UsageError(f"{client.url} has no models", hint="Pull one first, e.g. `gpuless up --model ...`.")
    return chosen


async def default_model_at(url: str, prefer: str | None = None, **client_options: Any) -> str:
    """``server_default_model`` of the server at ``url`` (``client_options``: ``OllamaClient``'s)."""
    async with OllamaClient(url, **client_options) as client:
        return await server_default_model(client, prefer)


async def server_models(url: str, **client_options: Any) -> list[str]:
    """The names of the models the server at ``url`` has (``/api/tags`` order)."""
    async with OllamaClient(url, **client_options) as client:
        return await client.list_models()


async def model_thinks(url: str, model: str, **client_options: Any) -> bool | None:
    """Whether the server says ``model`` can think (its ``/api/show`` capabilities); None if it cannot
    say."""
    async with OllamaClient(url, **client_options) as client:
        return await client.thinks(model)
