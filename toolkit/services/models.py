"""The model a command talks to when the user named none: the server's list, chosen by the one rule."""

from __future__ import annotations

from toolkit.adapters.ollama.client import OllamaClient
from toolkit.core.recommend.model_choice import default_model
from toolkit.errors import UsageError


async def server_default_model(client: OllamaClient, prefer: str | None = None) -> str:
    """``core.model_choice.default_model`` over the server's models; UsageError when it has none."""
    chosen = default_model(await client.list_models(), prefer)
    if chosen is None:
        raise UsageError(f"{client.url} has no models", hint="Pull one first, e.g. `gpuless up --model ...`.")
    return chosen
