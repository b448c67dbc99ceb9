"""Fixtures for the share tests: the gateway test image, and a gateway in front of the test Ollama container.

"The LAN" is 127.0.0.2 (every 127.x address is loopback on Linux): the gateway listens there, the test
Ollama container on 127.0.0.1, so traffic never leaves the machine.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ollama_server.fixtures import ServerHandle, _docker_client, free_port
from toolkit.core.share.keys import ShareKey
from toolkit.services import share as service
from toolkit.settings import Settings

GATEWAY_IMAGE = os.environ.get("GPULESS_GATEWAY_IMAGE", "gpuless-test/gateway:local")
LAN = "127.0.0.2"


@dataclass
class Shared:
    """A running gateway: its settings, URL, and the keys made when it started."""

    settings: Settings
    url: str
    admin: ShareKey
    alice: ShareKey
    ollama: ServerHandle


@pytest.fixture(scope="session")
def gateway_image() -> str:
    client = _docker_client()
    try:
        client.images.get(GATEWAY_IMAGE)
    except Exception:
        pytest.skip(f"image {GATEWAY_IMAGE} not built: run scripts/prepare-test-machine.sh")
    return GATEWAY_IMAGE


def share_settings(data_dir: Path, ollama_url: str, image: str) -> Settings:
    return Settings(
        data_dir=data_dir,
        ollama_url=ollama_url,
        gateway_image=image,
        gateway_container_name=f"gpuless-test-gateway-{uuid.uuid4().hex[:8]}",
    )


@pytest.fixture(scope="module")
def shared(
    ollama_container: ServerHandle, gateway_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Shared]:
    """`gpuless share --listen 127.0.0.2:PORT --add-key alice --max-streams 1` before the test container."""
    settings = share_settings(tmp_path_factory.mktemp("share"), ollama_container.url, gateway_image)
    outcome = service.share(settings, listen=f"{LAN}:{free_port()}", add=["alice"], max_streams=1)
    assert outcome.action == "started" and outcome.listen is not None
    keys = {key.name: key for key in outcome.new_keys}
    try:
        yield Shared(settings, outcome.listen.url, keys["admin"], keys["alice"], ollama_container)
    finally:
        service.stop(settings)
