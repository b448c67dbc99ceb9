"""The model a command talks to when none is named: the server's list through the one rule."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.faults.server import MODEL, FaultServer
from tests.ollama_server.fixtures import ServerHandle
from toolkit.adapters.ollama.client import OllamaClient
from toolkit.errors import UsageError
from toolkit.services.models import server_default_model


async def test_the_servers_model_is_chosen_and_a_preference_it_lacks_is_not() -> None:
    with FaultServer("none") as server:
        async with OllamaClient(server.url) as client:
            assert await server_default_model(client) == MODEL
            assert await server_default_model(client, prefer="other:1b") == MODEL


@pytest.mark.engine
async def test_a_server_without_models_is_a_usage_error_saying_what_to_do(
    ollama_server_factory: Callable[..., ServerHandle],
) -> None:
    empty = ollama_server_factory(pull=())
    async with OllamaClient(empty.url) as client:
        with pytest.raises(UsageError, match="has no models") as error:
            await server_default_model(client)
    assert error.value.hint == "Pull one first, e.g. `gpuless up --model ...`."
