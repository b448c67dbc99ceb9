"""`gpuless share --tls`: the gateway speaks HTTPS with a self-signed certificate teammates pin.

Real nginx (the gateway test image) on 127.0.0.2 in front of the test Ollama container. The official
`openai` client streams through https trusting the certificate the way `share` tells teammates
(SSL_CERT_FILE); `join --fingerprint` pins it, and a wrong fingerprint or plain http to the HTTPS port
gets one clear line and stores nothing.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.cli_run import one_error_line, run
from tests.ollama_server.fixtures import ServerHandle, free_port
from tests.share.conftest import LAN, share_settings
from toolkit.adapters.gateway import certificate
from toolkit.core.share.keys import ShareKey
from toolkit.core.share.nginx_conf import GatewayConfig, Member, render_nginx_conf
from toolkit.core.share.tls import parse_fingerprint
from toolkit.errors import PortInUseError, UsageError
from toolkit.services import share as service
from toolkit.settings import Settings

MODEL = "smollm2:135m"


@dataclass
class TlsShare:
    settings: Settings
    url: str
    fingerprint: str
    cert_path: Path
    alice: ShareKey


@pytest.fixture(scope="module")
def tls_share(
    ollama_container: ServerHandle, gateway_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TlsShare]:
    """`gpuless share --listen 127.0.0.2:PORT --add-key alice --tls`."""
    settings = share_settings(tmp_path_factory.mktemp("share-tls"), ollama_container.url, gateway_image)
    outcome = service.share(settings, listen=f"{LAN}:{free_port()}", add=["alice"], tls=True)
    assert outcome.url is not None and outcome.url.startswith("https://")
    assert outcome.fingerprint is not None and outcome.cert_path is not None
    alice = next(key for key in outcome.new_keys if key.name == "alice")
    try:
        yield TlsShare(settings, outcome.url, outcome.fingerprint, outcome.cert_path, alice)
    finally:
        service.stop(settings)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The teammate's laptop: a fresh data dir, no GPULESS_OLLAMA_URL."""
    monkeypatch.setenv("GPULESS_DATA_DIR", str(tmp_path / "teammate"))
    monkeypatch.delenv("GPULESS_OLLAMA_URL", raising=False)
    return tmp_path / "teammate"


def host_port(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("https://").removeprefix("http://").rsplit(":", 1)
    return host, int(port)


@pytest.mark.docker
def test_the_certificate_is_kept_private_and_its_fingerprint_is_what_the_gateway_presents(
    tls_share: TlsShare,
) -> None:
    presented = certificate.presented(*host_port(tls_share.url))
    assert certificate.pem_fingerprint(presented) == tls_share.fingerprint
    assert tls_share.cert_path.read_text() == presented
    key_file = tls_share.cert_path.with_name("tls-key.pem")
    for path in (tls_share.cert_path, key_file, tls_share.settings.share_dir / "keys.json"):
        assert path.parent == tls_share.settings.share_dir  # beside the key file
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # The same certificate comes back when the gateway is configured again: pinned fingerprints stay good.
    assert certificate.ensure(tls_share.settings.share_dir, LAN).fingerprint == tls_share.fingerprint


@pytest.mark.docker
def test_the_openai_client_streams_through_https_with_the_certificate_trusted(
    tls_share: TlsShare, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openai

    monkeypatch.setenv("SSL_CERT_FILE", str(tls_share.cert_path))  # the line `share --tls` prints
    client = openai.OpenAI(base_url=f"{tls_share.url}/v1", api_key=tls_share.alice.secret, max_retries=0)
    stream = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Say hi."}], max_tokens=8, stream=True
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text.strip()
    monkeypatch.delenv("SSL_CERT_FILE")  # the system's authorities do not vouch for a laptop
    untrusting = openai.OpenAI(base_url=f"{tls_share.url}/v1", api_key=tls_share.alice.secret, max_retries=0)
    with pytest.raises(openai.APIConnectionError):
        untrusting.models.list()


@pytest.mark.docker
def test_curl_with_the_printed_cacert_line_lists_the_models(tls_share: TlsShare) -> None:
    auth = f"Authorization: Bearer {tls_share.alice.secret}"
    url = f"{tls_share.url}/v1/models"
    done = subprocess.run(
        ["curl", "-sS", "--cacert", str(tls_share.cert_path), "-H", auth, url],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert MODEL in {model["id"] for model in json.loads(done.stdout)["data"]}
    refused = subprocess.run(["curl", "-sS", "-H", auth, url], capture_output=True, text=True, timeout=30)
    assert refused.returncode == 60, refused.stderr  # curl: the peer's certificate is not trusted


@pytest.mark.docker
def test_join_with_the_fingerprint_pins_the_certificate_and_bench_uses_it(
    tls_share: TlsShare, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typed = tls_share.fingerprint.removeprefix("SHA256:").replace(":", "").lower()  # as pasted, any form
    code, out, err = run(
        ["join", tls_share.url, "--key", tls_share.alice.secret, "--fingerprint", typed], capsys
    )
    assert code == 0, err
    assert f"joined {tls_share.url}" in out and MODEL in out
    pinned = data_dir / "joined-cert.pem"
    assert f"SSL_CERT_FILE={pinned}" in out and f"curl --cacert {pinned}" in out
    assert json.loads((data_dir / "joined.json").read_text())["joined"]["cert"] == str(pinned)
    assert certificate.pem_fingerprint(pinned.read_text()) == tls_share.fingerprint
    bench = ["bench", "--model", MODEL, "--reps", "1", "--num-predict", "8", "--shape", "chat"]
    # A generous time budget: a busy machine's cold load must not end the run before the first request.
    bench += ["--concurrency", "1", "--max-seconds", "120", "--no-history", "--json"]
    code, out, err = run(bench, capsys)
    assert code == 0, err
    result = json.loads(out)  # streamed over https, trusting only the pinned certificate
    assert result["url"] == tls_share.url and result["error"] is None
    assert result["shapes"] and result["shapes"][0]["output_tokens"] >= 1, out
    code, out, err = run(["connect", "--model", MODEL], capsys)
    assert code == 0, err
    assert f"OPENAI_BASE_URL={tls_share.url}/v1" in out and f"SSL_CERT_FILE={pinned}" in out
    code, _, _ = run(["join", "--leave"], capsys)
    assert code == 0 and not pinned.exists()


@pytest.mark.docker
def test_a_wrong_fingerprint_is_refused_with_one_line_and_nothing_is_stored(
    tls_share: TlsShare, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = "SHA256:" + ":".join(["AB"] * 32)
    code, _, err = run(
        ["join", tls_share.url, "--key", tls_share.alice.secret, "--fingerprint", wrong], capsys
    )
    assert code != 0
    line = one_error_line(err)
    assert "another fingerprint" in line and tls_share.fingerprint in line, line
    assert not data_dir.exists() or not any(data_dir.iterdir())


@pytest.mark.docker
def test_https_without_a_fingerprint_says_to_pin_it(
    tls_share: TlsShare, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["join", tls_share.url, "--key", tls_share.alice.secret], capsys)
    assert code != 0
    line = one_error_line(err)
    assert "does not trust" in line, line
    assert f"gpuless join {tls_share.url} --key KEY --fingerprint" in err
    assert not (data_dir / "joined.json").exists()


@pytest.mark.docker
def test_plain_http_to_the_https_port_fails_clearly(
    tls_share: TlsShare, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import openai

    plain = tls_share.url.replace("https://", "http://", 1)
    answer = httpx.get(f"{plain}/v1/models", headers={"Authorization": f"Bearer {tls_share.alice.secret}"})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == f"this gpuless share speaks HTTPS: use {tls_share.url}"
    client = openai.OpenAI(base_url=f"{plain}/v1", api_key=tls_share.alice.secret, max_retries=0)
    with pytest.raises(openai.BadRequestError, match="speaks HTTPS"):
        client.models.list()
    code, _, err = run(["join", plain, "--key", tls_share.alice.secret], capsys)
    assert code != 0
    assert "speaks HTTPS" in one_error_line(err)
    assert not (data_dir / "joined.json").exists()


@pytest.mark.docker
def test_share_prints_the_https_url_the_fingerprint_and_the_trust_lines(
    tls_share: TlsShare, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = tls_share.settings
    monkeypatch.setenv("GPULESS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("GPULESS_OLLAMA_URL", settings.ollama_url)
    monkeypatch.setenv("GPULESS_GATEWAY_IMAGE", settings.gateway_image)
    monkeypatch.setenv("GPULESS_GATEWAY_CONTAINER_NAME", settings.gateway_container_name)
    code, out, err = run(["share", "--add-key", "bob"], capsys)  # the running HTTPS gateway reloads
    assert code == 0, err
    assert f"Gateway running (keys reloaded): {tls_share.url}" in out
    assert f"certificate fingerprint: {tls_share.fingerprint}" in out
    assert f"--fingerprint {tls_share.fingerprint}" in out
    assert f"SSL_CERT_FILE={tls_share.cert_path}" in out and f"curl --cacert {tls_share.cert_path}" in out
    assert "encrypted in transit" in out and "This is plain HTTP" not in out
    code, out, _ = run(["share", "--list"], capsys)
    assert code == 0 and f"running on {tls_share.url}" in out


def test_the_plain_http_warning_offers_tls() -> None:
    from toolkit.core.share.invite import PLAIN_HTTP_WARNING

    assert "gpuless share --tls" in PLAIN_HTTP_WARNING


def test_nginx_listens_with_ssl_only_when_a_certificate_is_given() -> None:
    fp = "SHA256:" + ":".join(["0A"] * 32)
    plain = render_nginx_conf(GatewayConfig("127.0.0.2", 8443, (Member("127.0.0.1:11434"),)))
    tls = render_nginx_conf(
        GatewayConfig("127.0.0.2", 8443, (Member("127.0.0.1:11434"),), tls_fingerprint=fp)
    )
    assert "listen 127.0.0.2:8443;" in plain and "ssl_certificate" not in plain
    assert "listen 127.0.0.2:8443 ssl;" in tls
    assert "ssl_certificate /etc/gpuless-gateway/tls-cert.pem;" in tls
    assert fp in tls and "https://127.0.0.2:8443" in tls  # the connect page names the fingerprint


@pytest.mark.parametrize(
    "typed",
    [
        "SHA256:" + ":".join(["ab"] * 32),
        "sha256 Fingerprint=" + ":".join(["AB"] * 32),  # openssl x509 -fingerprint -sha256
        "ab" * 32,
    ],
)
def test_a_fingerprint_is_read_in_the_forms_people_paste(typed: str) -> None:
    assert parse_fingerprint(typed) == "SHA256:" + ":".join(["AB"] * 32)


def test_a_fingerprint_that_is_not_sha256_is_refused() -> None:
    with pytest.raises(UsageError, match="not a SHA-256 fingerprint"):
        parse_fingerprint("SHA256:" + "ab" * 20)


def test_a_new_certificate_names_the_address_and_is_replaced_for_another(tmp_path: Path) -> None:
    first = certificate.ensure(tmp_path, "127.0.0.2")
    assert first.made and certificate.ensure(tmp_path, "127.0.0.2") == first.__class__(
        first.cert_pem, first.key_pem, first.fingerprint, made=False
    )
    other = certificate.ensure(tmp_path, "192.168.1.20")
    assert other.made and other.fingerprint != first.fingerprint
    assert os.stat(tmp_path / "tls-key.pem").st_mode & 0o077 == 0


def test_a_url_with_a_bad_port_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Seen in the wizard: a key typed into the URL field ran on after the port (httpx's InvalidURL).
    code, _, err = run(["join", "https://127.0.0.2:18443gpl_abc", "--key", "gpl_abc"], capsys)
    assert code != 0
    assert "(bad port)" in one_error_line(err)


@pytest.mark.docker
def test_tls_is_turned_on_and_off_on_the_running_gateway_at_the_same_address(
    ollama_container: ServerHandle, gateway_image: str, tmp_path: Path
) -> None:
    settings = share_settings(tmp_path / "data", ollama_container.url, gateway_image)
    listen = f"{LAN}:{free_port()}"
    try:
        plain = service.share(settings, listen=listen, add=["alice"])
        assert plain.url == f"http://{listen}" and plain.fingerprint is None
        secured = service.share(settings, listen=None, tls=True)  # the running gateway's address
        assert secured.action == "started" and secured.url == f"https://{listen}"
        port = int(listen.rsplit(":", 1)[1])
        assert secured.fingerprint == certificate.pem_fingerprint(certificate.presented(LAN, port))
        kept = service.share(settings, listen=None, add=["bob"])  # neither flag: it stays HTTPS
        assert kept.action == "reloaded" and kept.fingerprint == secured.fingerprint
        back = service.share(settings, listen=None, tls=False)
        assert back.url == f"http://{listen}"
        alice = next(key for key in plain.new_keys if key.name == "alice")
        answer = httpx.get(f"{back.url}/api/tags", headers={"Authorization": f"Bearer {alice.secret}"})
        assert answer.status_code == 200  # the keys survived both restarts
        assert not (settings.share_dir / "gateway" / "tls-key.pem").exists()
    finally:
        service.stop(settings)


@pytest.mark.docker
def test_a_tls_share_that_cannot_start_leaves_no_certificate(
    ollama_container: ServerHandle, gateway_image: str, tmp_path: Path
) -> None:
    settings = share_settings(tmp_path / "data", ollama_container.url, gateway_image)
    with socket.socket() as taken:
        taken.bind((LAN, 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortInUseError):
            service.share(settings, listen=f"{LAN}:{port}", add=["alice"], tls=True)
    assert not (settings.share_dir / "tls-cert.pem").exists()
    assert not (settings.share_dir / "tls-key.pem").exists()
    assert not (settings.share_dir / "keys.json").exists()
