"""Fixtures for the pool tests: two laptops, each a stand-in Ollama limited to one CPU behind its own share.

Laptop A (the pooling one) shares on 127.0.0.2, laptop B on 127.0.0.3, both Ollama containers on
127.0.0.1 (every 127.x address is loopback on Linux: traffic never leaves the machine). B's share has a
key named "pool"; A's pool holds B. A container limited to one CPU stands for one laptop.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ollama_server.fixtures import ServerHandle, _docker_client, free_port, pull, wait_until_up
from tests.share.conftest import gateway_image, share_settings  # noqa: F401  (a fixture, used here)
from toolkit.core.share.keys import ShareKey
from toolkit.services import pool as pool_service
from toolkit.services import share as share_service
from toolkit.settings import Settings

MODEL = "smollm2:135m"
LAN_A = "127.0.0.2"
LAN_B = "127.0.0.3"


@dataclass
class Laptop:
    """One laptop: its settings, its Ollama container, its share's URL and the keys made there."""

    settings: Settings
    ollama: ServerHandle
    url: str
    keys: dict[str, ShareKey]


def start_member(image: str, models: tuple[str, ...] = (MODEL,)) -> ServerHandle:
    """The stand-in Ollama image on 127.0.0.1:<free port>, one CPU, four slots, ``models`` pulled."""
    port = free_port()
    container = _docker_client().containers.run(
        image,
        detach=True,
        name=f"gpuless-test-member-{uuid.uuid4().hex[:8]}",
        network_mode="host",
        nano_cpus=1_000_000_000,
        environment={
            "OLLAMA_HOST": f"127.0.0.1:{port}",
            "OLLAMA_NUM_PARALLEL": "4",
            "OLLAMA_KEEP_ALIVE": "-1",
            "OLLAMA_TEST_NUM_THREAD": "1",
        },
    )
    url = f"http://127.0.0.1:{port}"
    handle = ServerHandle(url, f"127.0.0.1:{port}", port, Path("/root/.ollama/models"), container=container)
    try:
        wait_until_up(url, 60, handle.alive)
        for model in models:
            pull(url, model)
    except BaseException:
        handle.stop()
        raise
    return handle


def start_laptop(
    image: str, gateway: str, data_dir: Path, lan: str, add: list[str], models: tuple[str, ...] = (MODEL,)
) -> Laptop:
    ollama = start_member(image, models)
    settings = share_settings(data_dir, ollama.url, gateway)
    try:
        outcome = share_service.share(settings, listen=f"{lan}:{free_port()}", add=add, max_streams=16)
    except BaseException:
        ollama.stop()
        raise
    assert outcome.listen is not None
    return Laptop(settings, ollama, outcome.listen.url, {key.name: key for key in outcome.new_keys})


def stop_laptop(laptop: Laptop) -> None:
    share_service.stop(laptop.settings)
    laptop.ollama.stop()


def chat_body(words: int, content: str = "Tell me a story about a lighthouse.") -> dict[str, Any]:
    return {
        "model": MODEL,
        "messages": [{"role": "user", "content": content}],
        "stream": True,
        "options": {"num_predict": words, "temperature": 0},
    }


async def stream_chat(url: str, key: str, words: int, first: asyncio.Event | None = None) -> dict[str, Any]:
    """One streamed chat through ``url``; its last line (``done``) or raises what the client raised."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with (
        httpx.AsyncClient(timeout=120, trust_env=False) as client,
        client.stream("POST", f"{url}/api/chat", json=chat_body(words), headers=headers) as response,
    ):
        assert response.status_code == 200, await response.aread()
        last: dict[str, Any] = {}
        async for line in response.aiter_lines():
            if line.strip():
                import json

                last = json.loads(line)
                if first is not None:
                    first.set()
        return last


def chat_count(laptop: Laptop) -> int:
    """Chat requests this laptop's Ollama has logged so far."""
    return len([line for line in laptop.ollama.log_text().splitlines() if '"/api/chat"' in line])


def wait_chats(laptop: Laptop, at_least: int, timeout_s: float = 10.0) -> int:
    """The chat count once it reaches ``at_least`` (Docker copies a log on its own schedule) or at timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        count = chat_count(laptop)
        if count >= at_least or time.monotonic() >= deadline:
            return count
        time.sleep(0.1)


@dataclass
class Rig:
    """Laptop A pooling laptop B; ``key`` is A's admin key (clients use it), ``pool_key`` B's pool key."""

    a: Laptop
    b: Laptop

    @property
    def key(self) -> str:
        return self.a.keys["admin"].secret

    @property
    def pool_key(self) -> str:
        return self.b.keys["pool"].secret


@pytest.fixture(scope="session")
def rig(
    ollama_test_image: str,
    gateway_image: str,  # noqa: F811  (the share tests' fixture, imported above)
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Rig]:
    b = start_laptop(ollama_test_image, gateway_image, tmp_path_factory.mktemp("b"), LAN_B, ["pool"])
    try:
        a = start_laptop(ollama_test_image, gateway_image, tmp_path_factory.mktemp("a"), LAN_A, ["alice"])
    except BaseException:
        stop_laptop(b)
        raise
    rig = Rig(a, b)
    try:
        pool_service.add(a.settings, b.url, rig.pool_key)
        for url, key in ((a.ollama.url, ""), (b.url, rig.pool_key)):  # load the model on both
            asyncio.run(stream_chat(url, key, 2))
        yield rig
    finally:
        stop_laptop(a)
        stop_laptop(b)
