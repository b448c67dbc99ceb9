"""`gpuless pool` from the command line on a third laptop C: bad input is one line and changes nothing, the
pool survives a gateway restart, a failed move or start leaves it whole; `bench --url` measures the pool.

C serves two models (smollm2 and gemma3) behind its own share on 127.0.0.4; it pools laptop B of the
session rig (tests/pool/conftest.py).
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_run import run
from tests.ollama_server.fixtures import free_port
from tests.pool.conftest import MODEL, Laptop, Rig, start_laptop, stop_laptop
from tests.share.conftest import gateway_image  # noqa: F401  (a fixture, used here)

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("pool")]
LAN_C = "127.0.0.4"
OTHER_MODEL = "gemma3:270m"


@pytest.fixture(scope="module")
def laptop_c(
    ollama_test_image: str,
    gateway_image: str,  # noqa: F811  (the share tests' fixture, imported above)
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Laptop]:
    data = tmp_path_factory.mktemp("c")
    c = start_laptop(ollama_test_image, gateway_image, data, LAN_C, ["alice"], (MODEL, OTHER_MODEL))
    yield c
    stop_laptop(c)


def use(monkeypatch: pytest.MonkeyPatch, laptop: Laptop, image: str | None = None) -> None:
    """The CLI acts as ``laptop`` (its data directory, Ollama, gateway image and container)."""
    values = {
        "GPULESS_DATA_DIR": str(laptop.settings.data_dir),
        "GPULESS_OLLAMA_URL": laptop.settings.ollama_url,
        "GPULESS_GATEWAY_IMAGE": image or laptop.settings.gateway_image,
        "GPULESS_GATEWAY_CONTAINER_NAME": laptop.settings.gateway_container_name,
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)


def files(laptop: Laptop) -> tuple[bool, str]:
    share = laptop.settings.share_dir
    return (share / "pool.json").exists(), (share / "gateway" / "nginx.conf").read_text()


def one_line_error(code: int, err: str, message: str) -> None:
    assert code != 0, err
    assert message in err, err
    assert "Traceback" not in err
    assert err.startswith("gpuless: error: ") and len(err.strip().splitlines()) <= 2, err  # message + hint


def test_pool_add_refuses_bad_input_in_one_line_and_changes_nothing(
    rig: Rig, laptop_c: Laptop, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use(monkeypatch, laptop_c)
    before = files(laptop_c)
    assert before[0] is False
    cases = [
        ([rig.b.ollama.url, "--key", rig.pool_key], "is not a gpuless share: it answers without a key"),
        ([f"http://{LAN_C}:{free_port()}", "--key", rig.pool_key], "nothing answers at"),
        ([rig.b.url, "--key", "gpl_" + "x" * 32], "refused the pool key (HTTP 401)"),
        ([rig.b.url, "--key", rig.b.keys["admin"].secret], "accepts that key, but it is not its pool key"),
        (
            [rig.b.url, "--key", rig.pool_key, "--model", OTHER_MODEL],
            f"serves {MODEL}, not this pool's model {OTHER_MODEL}",
        ),
        (["ftp://example/x", "--key", rig.pool_key], "not a share URL"),
        ([laptop_c.url, "--key", rig.pool_key], "is this laptop"),
    ]
    for args, message in cases:
        code, _, err = run(["pool", "add", *args], capsys)
        one_line_error(code, err, message)
        assert files(laptop_c) == before, args


def test_the_pool_survives_a_failed_move_a_missing_image_and_a_restart(
    rig: Rig, laptop_c: Laptop, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use(monkeypatch, laptop_c)
    code, out, err = run(["pool", "add", rig.b.url, "--key", rig.pool_key], capsys)
    assert code == 0, err
    assert f"added {rig.b.url} to the pool (model {MODEL})" in out
    pooled = files(laptop_c)
    assert rig.b.url.removeprefix("http://") in pooled[1]
    with socket.socket() as taken:  # a port in use: the running gateway keeps serving the pool
        taken.bind((LAN_C, 0))
        taken.listen()
        busy = taken.getsockname()[1]
        code, _, err = run(["share", "--listen", f"{LAN_C}:{busy}"], capsys)
    one_line_error(code, err, f"port {busy} on {LAN_C} is already in use")
    assert files(laptop_c) == pooled
    code, out, err = run(["pool", "status", "--json"], capsys)
    assert code == 0, err
    assert [row["up"] for row in json.loads(out)["members"]] == [True, True]
    assert run(["share", "--stop"], capsys)[0] == 0
    code, _, err = run(["pool", "status"], capsys)
    one_line_error(code, err, "this laptop's gateway is not running")
    listen = laptop_c.url.removeprefix("http://")
    use(monkeypatch, laptop_c, image="gpuless-test/gateway:absent")
    code, _, err = run(["share", "--listen", listen, "--no-pull"], capsys)
    one_line_error(code, err, "the gateway image is missing")
    assert (laptop_c.settings.share_dir / "pool.json").exists()
    use(monkeypatch, laptop_c)
    code, _, err = run(["share", "--listen", listen], capsys)
    assert code == 0, err
    code, out, err = run(["pool", "status", "--json"], capsys)
    assert code == 0, err
    state = json.loads(out)
    assert [row["name"] for row in state["members"]] == ["this laptop", rig.b.url]
    assert all(row["up"] and row["serves_model"] for row in state["members"])
    code, out, err = run(["pool", "remove", rig.b.url], capsys)
    assert code == 0 and "1 member(s) left" in out, err
    assert not (laptop_c.settings.share_dir / "pool.json").exists()


def test_bench_url_measures_the_pool_with_a_joined_key(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("GPULESS_DATA_DIR", str(tmp_path / "teammate"))
    monkeypatch.delenv("GPULESS_OLLAMA_URL", raising=False)
    code, _, err = run(["join", rig.a.url, "--key", rig.a.keys["alice"].secret], capsys)
    assert code == 0, err
    args = ["--concurrency", "1,2", "--reps", "1", "--num-predict", "8", "--shape", "chat", "--no-history"]
    args += ["--max-seconds", "300", "--max-requests", "20"]  # the sweep is what is checked: no time cut
    code, out, err = run(["bench", "--url", rig.a.url, "--model", MODEL, *args, "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["url"] == rig.a.url and result["status"] == "complete"
    assert [(row["streams"], row["errors"]) for row in result["concurrency"]] == [(1, 0), (2, 0)]


def test_a_second_member_accepts_the_same_pool_key_and_joins_the_pool(
    rig: Rig, laptop_c: Laptop, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use(monkeypatch, laptop_c)
    code, out, err = run(["share", "--pool-key", rig.pool_key], capsys)
    assert code == 0, err
    assert f"on the pooling laptop: gpuless pool add {laptop_c.url} --key {rig.pool_key}" in out
    use(monkeypatch, rig.a)
    code, out, err = run(["pool", "add", laptop_c.url], capsys)  # the pool's stored key
    assert code == 0, err
    code, out, err = run(["pool", "status", "--json"], capsys)
    assert code == 0, err
    rows = json.loads(out)["members"]
    assert [row["name"] for row in rows] == ["this laptop", rig.b.url, laptop_c.url]
    assert all(row["up"] and row["serves_model"] for row in rows)
    code, out, err = run(["pool", "status"], capsys)
    assert code == 0 and f"pool at {rig.a.url}  model {MODEL}" in out, err
    assert len([line for line in out.splitlines() if re.search(r" up +yes ", line)]) == 3, out
    code, out, err = run(["pool", "plan", "--users", "50"], capsys)
    assert code == 0, err
    assert "The pool does not hold 50 users at grade C, 15+ tok/s: reading pace" in out
    assert "  - fewer users: the pool holds" in out
    code, out, err = run(["pool", "remove", laptop_c.url], capsys)
    assert code == 0 and "2 member(s) left" in out, err
