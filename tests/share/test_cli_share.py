"""`gpuless share` from the command line: what it prints, --list, --stop, and bad input that leaves nothing.

Bad input (a port in use, a missing gateway image, no --listen, an address not on this machine) must give
one clear line and exit non-zero, with no container, no key file and no gateway files left behind.
"""

from __future__ import annotations

import json
import re
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.cli_run import run
from tests.ollama_server.fixtures import ServerHandle, _docker_client, free_port
from tests.share.conftest import LAN
from toolkit.core.share.invite import qr_code

pytestmark = pytest.mark.docker


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ollama_container: ServerHandle, gateway_image: str
) -> Iterator[dict[str, str]]:
    name = f"gpuless-test-gateway-{tmp_path.name[-12:].lower()}".replace("_", "-")
    values = {
        "GPULESS_DATA_DIR": str(tmp_path / "data"),
        "GPULESS_OLLAMA_URL": ollama_container.url,
        "GPULESS_GATEWAY_IMAGE": gateway_image,
        "GPULESS_GATEWAY_CONTAINER_NAME": name,
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    yield values
    client = _docker_client()
    for container in client.containers.list(all=True, filters={"name": name}):
        container.remove(force=True)


def nothing_left(env: dict[str, str]) -> None:
    share_dir = Path(env["GPULESS_DATA_DIR"]) / "share"
    assert not (share_dir / "keys.json").exists()
    assert not (share_dir / "gateway").exists()
    client = _docker_client()
    assert client.containers.list(all=True, filters={"name": env["GPULESS_GATEWAY_CONTAINER_NAME"]}) == []


def test_share_prints_the_url_each_key_once_the_openai_lines_and_the_warning(
    env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    ollama_container: ServerHandle,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    compose = tmp_path / "compose.yaml"
    original = (Path(__file__).resolve().parents[2] / "compose" / "laptop-16gb-ddr5.yaml").read_text()
    compose.write_text(original)
    listen = f"{LAN}:{free_port()}"
    code, out, err = run(["share", "--listen", listen, "--add-key", "alice"], capsys)
    assert code == 0, err
    assert f"Gateway started: http://{listen}" in out
    assert qr_code(f"http://{listen}") in out  # the URL as a QR code, for a phone
    gateway = yaml.safe_load(compose.read_text())["services"]["gateway"]
    assert gateway["labels"]["io.gpuless.gateway.listen"] == listen
    secrets = re.findall(r"OPENAI_API_KEY=(gpl_[A-Za-z0-9_-]+)", out)
    assert len(secrets) == 2  # admin and alice
    assert f"OPENAI_BASE_URL=http://{listen}/v1" in out
    assert "plain HTTP" in out and "can read" in out
    keys_file = Path(env["GPULESS_DATA_DIR"]) / "share" / "keys.json"
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    for secret in secrets:
        response = httpx.get(f"http://{listen}/api/tags", headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 200

    code, out, _ = run(["share", "--list"], capsys)
    assert code == 0 and "alice" in out and "admin" in out and f"running on http://{listen}" in out
    assert not any(secret in out for secret in secrets)  # shown once, never listed
    code, out, _ = run(["share"], capsys)  # again: nothing new to show
    assert code == 0 and "gpl_" not in out and "No new keys" in out
    code, out, _ = run(["share", "--add-key", "carol", "--json"], capsys)
    added = json.loads(out)
    assert code == 0 and added["action"] == "reloaded" and added["url"] == f"http://{listen}"
    assert [key["name"] for key in added["new_keys"]] == ["carol"]
    carol = {"Authorization": f"Bearer {added['new_keys'][0]['secret']}"}
    assert httpx.get(f"http://{listen}/api/tags", headers=carol).status_code == 200
    code, out, _ = run(["share", "--list", "--json"], capsys)
    assert [key["name"] for key in json.loads(out)["keys"]] == ["admin", "alice", "carol"]
    assert "gpl_" not in out

    code, out, _ = run(["share", "--stop"], capsys)
    assert code == 0 and "Ollama keeps running on loopback" in out
    assert compose.read_text() == original  # the gateway service is taken out again
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://{listen}/api/tags")
    assert httpx.get(f"{ollama_container.url}/api/version").status_code == 200


def test_a_port_in_use_is_one_line_and_leaves_nothing(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind((LAN, 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run(["share", "--listen", f"{LAN}:{port}"], capsys)
    assert code != 0
    assert f"port {port} on {LAN} is already in use" in err and "Traceback" not in err
    nothing_left(env)


def test_a_missing_gateway_image_is_one_line_and_leaves_nothing(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GPULESS_GATEWAY_IMAGE", "gpuless-test/gateway:absent")
    code, _, err = run(["share", "--listen", f"{LAN}:{free_port()}", "--no-pull"], capsys)
    assert code != 0
    assert "the gateway image is missing" in err and "Traceback" not in err
    nothing_left(env)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "the gateway is not running: say where teammates reach this laptop"),
        (["--listen", "192.0.2.77:8080"], "192.0.2.77 is not an address of this machine"),
        (["--listen", "lan:8080"], "is not an IPv4 address"),
        (["--listen", f"{LAN}:8080", "--add-key", "Bad Name"], "invalid key name"),
        (["--revoke", "nobody"], "no key named 'nobody'"),
    ],
)
def test_bad_input_is_one_line_and_leaves_nothing(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = run(["share", *args], capsys)
    assert code == 2, err
    assert message in err and "Traceback" not in err
    nothing_left(env)


def test_moving_to_a_port_in_use_keeps_the_running_gateway_and_stores_no_new_key(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    listen = f"{LAN}:{free_port()}"
    code, out, err = run(["share", "--listen", listen, "--json"], capsys)
    assert code == 0, err
    admin = {"Authorization": f"Bearer {json.loads(out)['new_keys'][0]['secret']}"}
    keys_map = Path(env["GPULESS_DATA_DIR"]) / "share" / "gateway" / "keys.map"
    map_before = keys_map.read_text()
    with socket.socket() as taken:
        taken.bind((LAN, 0))
        taken.listen()
        busy = taken.getsockname()[1]
        code, _, err = run(["share", "--listen", f"{LAN}:{busy}", "--add-key", "dave"], capsys)
    assert code != 0 and f"port {busy} on {LAN} is already in use" in err
    assert httpx.get(f"http://{listen}/api/tags", headers=admin).status_code == 200  # still serving
    assert keys_map.read_text() == map_before
    code, out, _ = run(["share", "--list"], capsys)
    assert "dave" not in out
