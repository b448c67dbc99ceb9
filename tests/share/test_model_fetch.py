"""``gpuless models fetch`` through the real gateway (nginx) on loopback, into a second volume.

The sharing laptop is the stand-in server on its own volume with both test models pulled, behind
``gpuless share`` on 127.0.0.2 (the "LAN"); the receiving laptop is a second volume. A fetch of
gemma3:270m (the bigger: nginx's count includes a few MiB of socket buffers at the cut) is cut at half
the model's bytes (a byte budget on the client side: deterministic), then resumed by the CLI; the
bytes the client received and those nginx logged as sent must stay within 1.05 × the model's size, and
the model must then be listed and answer a chat on a server that cannot pull. A bad key is one line
and leaves nothing; a partial file damaged on disk is caught by its digest and fetched again.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import httpx
import pytest

from tests.engine.cli_project import CliProject
from tests.engine.test_models_copy import blob_hashes, start_server, tags
from tests.ollama_server import MODEL_NAMES
from tests.ollama_server.fixtures import free_port, pull
from tests.share.conftest import LAN, share_settings
from toolkit.core.compose.spec import LABEL_MANAGED
from toolkit.core.share.keys import ShareKey
from toolkit.errors import ModelStoreError
from toolkit.services import share as share_service
from toolkit.services.model_copy import Target
from toolkit.services.model_fetch import fetch_model
from toolkit.settings import Settings

pytestmark = [pytest.mark.docker, pytest.mark.engine, pytest.mark.xdist_group("models-copy")]

SMOL, GEMMA = MODEL_NAMES
_SENT = re.compile(r'"GET (/gpuless/models/\S+)" (\d{3}) (\d+) ')


@dataclass
class Source:
    """The sharing laptop: its project (server + volume), gateway settings, URL, keys, model facts."""

    project: CliProject
    settings: Settings
    url: str
    alice: ShareKey
    sizes: dict[str, int]
    hashes: dict[str, str]

    def sent(self) -> dict[str, int]:
        """Bytes nginx logged as sent, per model file path (summed over requests)."""
        logs = docker.from_env().containers.get(self.settings.gateway_container_name).logs(stderr=False)
        total: dict[str, int] = {}
        for path, _status, count in _SENT.findall(logs.decode("utf-8", "replace")):
            total[path] = total.get(path, 0) + int(count)
        return total


@pytest.fixture(scope="module")
def source(
    ollama_test_image: str, gateway_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Source]:
    tmp = tmp_path_factory.mktemp("fetch-source")
    project = CliProject(ollama_test_image, tmp, "fetch-src")
    docker.from_env().volumes.create(project.volume, labels={LABEL_MANAGED: "true"})
    settings = share_settings(tmp / "data", f"http://127.0.0.1:{project.port}", gateway_image)
    settings = settings.model_copy(update={"volume_name": project.volume, "image": ollama_test_image})
    try:
        start_server(ollama_test_image, project)
        for model in MODEL_NAMES:
            pull(f"http://127.0.0.1:{project.port}", model)
        listed = project.run("models", "list", "--json")
        sizes = {row["name"]: row["size"] for row in json.loads(listed.stdout)["models"]}
        outcome = share_service.share(settings, listen=f"{LAN}:{free_port()}", add=["alice"])
        assert outcome.listen is not None
        alice = next(key for key in outcome.new_keys if key.name == "alice")
        hashes = blob_hashes(ollama_test_image, project.volume)
        yield Source(project, settings, outcome.listen.url, alice, sizes, hashes)
    finally:
        share_service.stop(settings)
        project.remove_all()


@pytest.fixture
def receiver(ollama_test_image: str, tmp_path: Path) -> Iterator[CliProject]:
    project = CliProject(ollama_test_image, tmp_path, "fetch-dst")
    try:
        yield project
    finally:
        project.remove_all()


def _settings(project: CliProject) -> Settings:
    return Settings(
        cache_dir=Path(project.env["GPULESS_CACHE_DIR"]),
        data_dir=Path(project.env["GPULESS_DATA_DIR"]),
        volume_name=project.volume,
        image=project.env["GPULESS_IMAGE"],
    )


def _cut_at_half(source: Source, receiver: CliProject, model: str) -> int:
    """A fetch of ``model`` stopped after half its bytes; returns the bytes it received."""
    where = Target(receiver.volume, receiver.env["GPULESS_IMAGE"])
    half = source.sizes[model] // 2
    with pytest.raises(ModelStoreError, match="stopped after") as stopped:
        fetch_model(_settings(receiver), where, model, source.url, source.alice.secret, stop_after=half)
    assert "no model was added" in stopped.value.message
    assert not docker.from_env().volumes.list(filters={"name": receiver.volume})  # nothing was written
    partials = list((Path(receiver.env["GPULESS_CACHE_DIR"]) / "fetch" / "blobs").glob("*.partial"))
    assert sum(p.stat().st_size for p in partials) + _finished(receiver) == half
    return half


def _finished(receiver: CliProject) -> int:
    stage = Path(receiver.env["GPULESS_CACHE_DIR"]) / "fetch" / "blobs"
    return sum(p.stat().st_size for p in stage.glob("sha256-*") if not p.name.endswith(".partial"))


def _fetch_cli(
    source: Source, receiver: CliProject, key: str, model: str = SMOL
) -> subprocess.CompletedProcess[str]:
    return receiver.run("models", "fetch", source.url, model, "--key", key, "--json")


def test_a_fetch_cut_at_half_resumes_then_the_model_chats_with_no_pull(
    source: Source, receiver: CliProject, ollama_test_image: str, tmp_path: Path
) -> None:
    before = source.sent()
    first = _cut_at_half(source, receiver, GEMMA)
    size = source.sizes[GEMMA]
    stage = Path(receiver.env["GPULESS_CACHE_DIR"]) / "fetch"
    assert stage.stat().st_mode & 0o077 == 0  # the staging folder is the user's only

    done = _fetch_cli(source, receiver, source.alice.secret, GEMMA)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["resumed_blobs"] and not result["refetched_blobs"]
    assert first + result["received_bytes"] <= 1.05 * size
    sent = source.sent()
    blobs_sent = sum(n - before.get(p, 0) for p, n in sent.items() if "/blobs/" in p)
    # nginx also counts what was in the sockets' buffers when the first run hung up (a few MiB at most)
    assert size <= blobs_sent <= 1.05 * size, (blobs_sent, size)
    assert not list((stage / "blobs").iterdir())  # the fetched blobs were moved into the volume

    listed = json.loads(receiver.run("models", "list", "--json").stdout)["models"]
    assert [(row["name"], row["complete"]) for row in listed] == [(GEMMA, True)]
    received = blob_hashes(ollama_test_image, receiver.volume)
    assert len(received) == 2 and all(source.hashes[name] == digest for name, digest in received.items())
    registry = tmp_path / "empty-registry"
    registry.mkdir()
    (registry / "index.json").write_text('{"models": {}}')
    start_server(ollama_test_image, receiver, registry)
    url = f"http://127.0.0.1:{receiver.port}"
    assert set(tags(url)) == {GEMMA}
    chat = httpx.post(
        f"{url}/api/chat",
        json={"model": GEMMA, "messages": [{"role": "user", "content": "Hi"}], "stream": False,
              "options": {"num_predict": 8}},
        timeout=300,
    )  # fmt: skip
    assert chat.status_code == 200, chat.text
    assert chat.json()["done"] is True and chat.json()["eval_count"] >= 1


def test_a_bad_key_is_one_line_401_and_leaves_nothing(source: Source, receiver: CliProject) -> None:
    done = _fetch_cli(source, receiver, "gpl_" + "x" * 40)
    errors = [line for line in done.stderr.splitlines() if line.startswith("gpuless: error:")]
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert len(errors) == 1 and "refused the key (HTTP 401)" in errors[0], done.stderr
    assert not docker.from_env().volumes.list(filters={"name": receiver.volume})
    assert not (Path(receiver.env["GPULESS_CACHE_DIR"]) / "fetch").exists()


def test_a_second_fetch_while_one_runs_is_refused_naming_it(source: Source, receiver: CliProject) -> None:
    # Another `gpuless models fetch` holds the staging folder (its lock, taken as the fetch takes it): this
    # one is told which, writes nothing, and runs once the other has ended.
    stage = Path(receiver.env["GPULESS_CACHE_DIR"]) / "fetch"
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "text": True}
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_STAGE, str(stage)], **pipes)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        done = _fetch_cli(source, receiver, source.alice.secret)
    finally:
        holder.communicate(timeout=30)  # stdin closed: the holder lets go
    errors = [line for line in done.stderr.splitlines() if line.startswith("gpuless: error:")]
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert len(errors) == 1, done.stderr
    assert f"another `gpuless models fetch` (pid {holder.pid}) is working on the staging folder" in errors[0]
    assert not docker.from_env().volumes.list(filters={"name": receiver.volume})
    assert not list((stage / "blobs").iterdir())
    again = _fetch_cli(source, receiver, source.alice.secret)
    assert again.returncode == 0, again.stderr


def test_an_https_share_is_fetched_from_once_joined_with_its_fingerprint(
    source: Source, receiver: CliProject
) -> None:
    # The share turns TLS on at the same address (a self-signed certificate): untrusted, the fetch is one
    # line that says how to pin it; joined with the fingerprint, `models fetch NAME` uses the joined URL,
    # key and certificate. TLS goes off again, as the module's other tests expect.
    secured = share_service.share(source.settings, listen=None, tls=True)
    try:
        assert secured.url is not None and secured.url.startswith("https://") and secured.fingerprint
        untrusted = receiver.run("models", "fetch", secured.url, SMOL, "--key", source.alice.secret)
        errors = [line for line in untrusted.stderr.splitlines() if line.startswith("gpuless: error:")]
        assert untrusted.returncode != 0 and "Traceback" not in untrusted.stderr
        assert len(errors) == 1 and "a certificate this laptop does not trust" in errors[0], untrusted.stderr
        assert f"gpuless join {secured.url} --key KEY --fingerprint" in untrusted.stderr
        assert not docker.from_env().volumes.list(filters={"name": receiver.volume})

        joined = receiver.run(
            "join", secured.url, "--key", source.alice.secret, "--fingerprint", secured.fingerprint
        )
        assert joined.returncode == 0, joined.stderr
        done = receiver.run("models", "fetch", SMOL, "--json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["url"] == secured.url
    finally:
        share_service.share(source.settings, listen=None, tls=False)
    received = blob_hashes(receiver.env["GPULESS_IMAGE"], receiver.volume)
    assert len(received) == 2 and all(source.hashes[name] == digest for name, digest in received.items())


#: Holds the staging folder's lock as a running fetch does, until its stdin closes.
_HOLD_STAGE = """
import sys
from pathlib import Path
from toolkit.adapters.docker.project_lock import exclusive
with exclusive("the staging folder", Path(sys.argv[1]), command="models fetch"):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_a_blob_damaged_on_the_way_is_fetched_again(source: Source, receiver: CliProject) -> None:
    _cut_at_half(source, receiver, SMOL)
    stage = Path(receiver.env["GPULESS_CACHE_DIR"]) / "fetch" / "blobs"
    partial = max(stage.glob("*.partial"), key=lambda p: p.stat().st_size)
    with partial.open("r+b") as file:  # one bit flipped in the bytes already received
        file.seek(1000)
        byte = file.read(1)
        file.seek(1000)
        file.write(bytes([byte[0] ^ 0x01]))
    done = _fetch_cli(source, receiver, source.alice.secret)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    weights = "sha256:" + partial.name.removeprefix("sha256-").removesuffix(".partial")
    assert result["refetched_blobs"] == [weights]
    received = blob_hashes(receiver.env["GPULESS_IMAGE"], receiver.volume)
    assert len(received) == 2 and all(source.hashes[name] == digest for name, digest in received.items())


def _raw_get(url: str, path: str, key: str) -> tuple[int, bytes]:
    """A GET with ``path`` sent byte for byte (no client normalises it first): status and body."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request.encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_the_gateway_serves_manifests_and_blobs_with_ranges_and_nothing_else(source: Source) -> None:
    manifest = "/gpuless/models/manifests/registry.ollama.ai/library/smollm2/135m"
    key = source.alice.secret
    got = httpx.get(source.url + manifest, headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert got.status_code == 200 and got.json()["schemaVersion"] == 2
    weights = max(got.json()["layers"], key=lambda layer: layer["size"])
    blob = f"/gpuless/models/blobs/{weights['digest'].replace(':', '-')}"
    bearer = {"Authorization": f"Bearer {key}"}
    assert httpx.get(source.url + blob, timeout=10).status_code == 401  # no key
    wrong = {"Authorization": "Bearer gpl_" + "y" * 40}
    assert httpx.get(source.url + blob, headers=wrong, timeout=10).status_code == 401
    part = httpx.get(
        source.url + blob, headers={"Authorization": f"Bearer {key}", "Range": "bytes=100-199"}, timeout=10
    )
    assert part.status_code == 206 and len(part.content) == 100
    assert part.headers["Content-Range"] == f"bytes 100-199/{weights['size']}"
    assert part.content == httpx.get(source.url + blob, headers=bearer, timeout=30).content[100:200]
    for path in (
        "/gpuless/models/",  # no listing
        "/gpuless/models/blobs/",
        "/gpuless/models/manifests/registry.ollama.ai/library/smollm2",  # a folder, not a manifest
        "/gpuless/models/blobs/sha256-abc",  # not a digest
        "/gpuless/models/../models/blobs/",  # nginx resolves "..": still under /gpuless/, still refused
        "/gpuless/models/manifests/registry.ollama.ai/library/smollm2/..%2f..%2f..%2f..%2fblobs",
        "/gpuless/keys.map",
    ):
        status, body = _raw_get(source.url, path, key)
        assert status == 404, (path, status)
        assert b"no such model file" in body, path
    status, body = _raw_get(source.url, "/gpuless/../../etc/passwd", key)  # climbs above the root
    assert status == 400 and b"root:" not in body


def _flip_in_volume(image: str, volume: str, blob: str) -> None:
    """XOR one byte of ``blob`` in the volume with 1 (twice puts it back)."""
    script = (
        f"f=open('/v/models/blobs/{blob}','r+b'); f.seek(7); b=f.read(1); f.seek(7); "
        "f.write(bytes([b[0]^1])); f.close()"
    )
    docker.from_env().containers.run(
        image, entrypoint=["python3", "-c", script], volumes={volume: {"bind": "/v", "mode": "rw"}},
        network_mode="none", remove=True,
    )  # fmt: skip


def test_a_blob_damaged_on_the_share_is_fetched_twice_then_refused(
    source: Source, receiver: CliProject, ollama_test_image: str
) -> None:
    manifest = httpx.get(
        source.url + "/gpuless/models/manifests/registry.ollama.ai/library/smollm2/135m",
        headers={"Authorization": f"Bearer {source.alice.secret}"},
        timeout=10,
    ).json()
    config = manifest["config"]["digest"].replace(":", "-")
    before = source.sent().get(f"/gpuless/models/blobs/{config}", 0)
    _flip_in_volume(ollama_test_image, source.project.volume, config)
    try:
        done = _fetch_cli(source, receiver, source.alice.secret)
    finally:
        _flip_in_volume(ollama_test_image, source.project.volume, config)
    errors = [line for line in done.stderr.splitlines() if line.startswith("gpuless: error:")]
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert len(errors) == 1 and "is damaged" in errors[0] and "no model was added" in errors[0], done.stderr
    sent = source.sent().get(f"/gpuless/models/blobs/{config}", 0) - before
    assert sent == 2 * manifest["config"]["size"]  # fetched, found bad, fetched once more
    assert not docker.from_env().volumes.list(filters={"name": receiver.volume})
