"""`gpuless join`: a teammate's laptop uses a share (the gateway on 127.0.0.2 stands for Alice's laptop).

Join checks the URL is a share (401 without a key, models with it) and stores URL and key 0600; a wrong
key, Ollama itself (no key needed) or a closed port gives one line and stores nothing. While joined,
chat, bench and connect reach the share with ``Authorization: Bearer <key>``; ``--leave`` forgets it.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_run import run
from tests.ollama_server.fixtures import free_port
from tests.share.conftest import LAN, Shared
from toolkit.adapters import joined
from toolkit.core.target import check_target
from toolkit.errors import UnsafeTargetError
from toolkit.services.server_url import server_url, typed_by_user
from toolkit.settings import Settings

MODEL = "smollm2:135m"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh data dir and no GPULESS_OLLAMA_URL (it would win over the joined share)."""
    monkeypatch.setenv("GPULESS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("GPULESS_OLLAMA_URL", raising=False)
    yield tmp_path / "data"


def one_error_line(err: str) -> str:
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("gpuless: error:")]
    assert len(errors) == 1, err
    return errors[0]


@pytest.mark.docker
def test_join_checks_the_share_stores_it_0600_and_leave_forgets_it(
    shared: Shared, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = shared.alice.secret
    code, out, err = run(["join", shared.url, "--key", secret], capsys)
    assert code == 0, err
    assert f"joined {shared.url}" in out and MODEL in out
    assert secret not in out + err  # never printed back in full
    path = data_dir / "joined.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["joined"] == {"url": shared.url, "key": secret}
    code, out, _ = run(["join", "--show", "--json"], capsys)
    assert code == 0 and json.loads(out) == {"url": shared.url, "key": secret[:4] + "…"}
    assert server_url(None, Settings()) == shared.url  # joined ranks above the local server
    code, out, _ = run(["join", "--leave"], capsys)
    assert code == 0 and f"left {shared.url}" in out
    assert not path.exists()
    code, out, _ = run(["join", "--show"], capsys)
    assert code == 0 and "no share joined" in out


@pytest.mark.docker
def test_a_wrong_key_says_401_in_one_line_and_stores_nothing(
    shared: Shared, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["join", shared.url, "--key", "gpuless-not-a-key"], capsys)
    assert code != 0
    assert "refused the key (HTTP 401)" in one_error_line(err)
    assert not (data_dir / "joined.json").exists()


@pytest.mark.docker
def test_a_url_that_is_not_a_share_says_so_in_one_line_and_stores_nothing(
    shared: Shared, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Ollama itself answers without a key: not a share.
    code, _, err = run(["join", shared.ollama.url, "--key", shared.alice.secret], capsys)
    assert code != 0
    assert "is not a gpuless share: it answers without a key" in one_error_line(err)
    # A closed port on the "LAN" address.
    code, _, err = run(["join", f"http://{LAN}:{free_port()}", "--key", shared.alice.secret], capsys)
    assert code != 0
    line = one_error_line(err)
    assert "nothing answers" in line.lower() or "refused" in line.lower(), line
    assert not (data_dir / "joined.json").exists()


@pytest.mark.docker
def test_after_join_bench_chat_and_connect_go_through_the_gateway_with_the_key(
    shared: Shared, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["join", shared.url, "--key", shared.alice.secret], capsys)
    assert code == 0, err
    bench = ["bench", "--model", MODEL, "--reps", "1", "--num-predict", "8", "--shape", "chat"]
    code, out, err = run([*bench, "--concurrency", "1", "--no-history", "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["url"] == shared.url and result["error"] is None
    # The single-stream measurement streamed through the gateway (the concurrency sweep after it may
    # stop early on a busy machine, so it is not what this test checks).
    shape = result["shapes"][0]
    assert shape["shape"] == "chat" and shape["requests"] >= 1, out
    assert shape["output_tokens"] >= 1, out

    env = {**os.environ, "NO_COLOR": "1"}
    chat = subprocess.run(
        [sys.executable, "-m", "toolkit", "chat", "--model", MODEL, "--num-predict", "8"],
        input="Say hi.\n/exit\n",
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert chat.returncode == 0, chat.stderr
    assert "tok/s" in chat.stdout

    code, out, err = run(["connect", "--model", MODEL], capsys)
    assert code == 0, err
    assert f"OPENAI_BASE_URL={shared.url}/v1" in out
    assert f"OPENAI_API_KEY={shared.alice.secret}" in out

    run(["join", "--leave"], capsys)
    # Without the key the gateway refuses: the key above was really what let bench through.
    code, _, err = run([*bench, "--url", shared.url, "--concurrency", "1", "--no-history"], capsys)
    assert code != 0 and "HTTP 401" in one_error_line(err)


def test_a_joined_lan_url_counts_as_typed_but_an_environment_url_does_not(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings()
    lan = "http://192.168.1.5:8080"
    joined.save(settings, joined.Joined(lan, "k" * 32))
    resolved = server_url(None, settings)
    assert resolved == lan
    assert check_target(resolved, explicit=typed_by_user(None, resolved, settings), command="chat") == lan
    # The key goes to that server only: another port of the same host gets none.
    assert joined.key_for(lan, settings) == "k" * 32
    assert joined.key_for("http://192.168.1.5:8081", settings) is None
    # GPULESS_OLLAMA_URL still wins, and a LAN address from it is still refused.
    monkeypatch.setenv("GPULESS_OLLAMA_URL", "http://192.168.1.6:11434")
    settings = Settings()
    resolved = server_url(None, settings)
    assert resolved == "http://192.168.1.6:11434"
    with pytest.raises(UnsafeTargetError):
        check_target(resolved, explicit=typed_by_user(None, resolved, settings), command="chat")
