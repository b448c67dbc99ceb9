"""The gateway in front of a real Ollama stand-in (Docker, llama.cpp): keys, admin paths, limits, clients.

Ollama listens on 127.0.0.1 only; the gateway (Debian's nginx, the image scripts/prepare-test-machine.sh
builds) on 127.0.0.2, standing for the LAN. Every check is a real HTTP request through nginx.
"""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import pytest

from tests.share.conftest import LAN, Shared
from toolkit.services import share as service

pytestmark = pytest.mark.docker

MODEL = "smollm2:135m"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def call(shared: Shared, method: str, path: str, secret: str, **kwargs: object) -> httpx.Response:
    """One request through the gateway with ``secret`` as the key."""
    return httpx.request(method, shared.url + path, headers=bearer(secret), trust_env=False, **kwargs)  # type: ignore[arg-type]


def names(shared: Shared) -> list[str]:
    response = call(shared, "GET", "/api/tags", shared.admin.secret)
    assert response.status_code == 200
    return [model["name"] for model in response.json()["models"]]


def test_ollama_refuses_on_the_lan_address_while_the_gateway_answers_there(shared: Shared) -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((LAN, shared.ollama.port), timeout=5).close()
    response = call(shared, "GET", "/api/version", shared.alice.secret)
    assert response.status_code == 200 and "version" in response.json()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer gpl_" + "x" * 32},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic YWxpY2U6eA=="},
    ],
    ids=["no key", "wrong key", "empty bearer", "basic auth"],
)
def test_a_request_without_a_valid_key_gets_401(shared: Shared, headers: dict[str, str]) -> None:
    paths = (("GET", "/api/tags"), ("POST", "/api/chat"), ("GET", "/v1/models"), ("DELETE", "/api/delete"))
    for method, path in paths:
        response = httpx.request(method, shared.url + path, headers=headers, trust_env=False)
        assert response.status_code == 401, (method, path)
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "key is required" in response.json()["error"]


def test_a_browser_without_a_key_gets_the_connect_page_and_nothing_secret(shared: Shared) -> None:
    page = httpx.get(shared.url + "/", trust_env=False)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f"{shared.url}/v1" in page.text and "YOUR-KEY" in page.text
    assert shared.admin.secret not in page.text and shared.alice.secret not in page.text
    assert "gpl_" not in page.text
    with_key = call(shared, "GET", "/", shared.alice.secret)
    assert with_key.status_code == 200 and with_key.text == "Ollama is running"  # a key reaches Ollama


def test_a_teammate_key_gets_403_on_paths_that_change_the_server_and_the_model_stays(shared: Shared) -> None:
    key = bearer(shared.alice.secret)
    attempts = [
        ("DELETE", "/api/delete", {"model": MODEL}),
        ("POST", "/api/pull", {"model": MODEL}),
        ("POST", "/api/push", {"model": MODEL}),
        ("POST", "/api/create", {"model": "x", "from": MODEL}),
        ("POST", "/api/copy", {"source": MODEL, "destination": "x"}),
        ("POST", "/api/blobs/sha256:" + "0" * 64, None),
        # spellings nginx normalises before matching (Ollama's router would not see them as admin paths,
        # but they must not slip past the check either)
        ("DELETE", "/api//delete", {"model": MODEL}),
        ("DELETE", "/api/%64elete", {"model": MODEL}),
        ("DELETE", "/API/DELETE", {"model": MODEL}),
        ("DELETE", "/api/./delete", {"model": MODEL}),
    ]
    for method, path, body in attempts:
        response = httpx.request(method, shared.url + path, json=body, headers=key, trust_env=False)
        assert response.status_code == 403, (method, path, response.text)
        assert "admin key only" in response.json()["error"]
    assert MODEL in names(shared)


def test_the_admin_key_may_change_the_server(shared: Shared) -> None:
    copy = "share-admin-copy:latest"
    created = call(shared, "POST", "/api/create", shared.admin.secret, json={"model": copy, "from": MODEL})
    assert created.status_code == 200, created.text
    assert copy in names(shared)
    pulled = call(shared, "POST", "/api/pull", shared.admin.secret, json={"model": MODEL, "stream": False})
    assert pulled.status_code == 200 and pulled.json()["status"] == "success"
    deleted = call(shared, "DELETE", "/api/delete", shared.admin.secret, json={"model": copy})
    assert deleted.status_code == 200
    assert copy not in names(shared)


def test_the_openai_client_streams_a_chat_through_the_gateway(shared: Shared) -> None:
    import openai

    client = openai.OpenAI(base_url=f"{shared.url}/v1", api_key=shared.alice.secret, max_retries=0)
    chunks = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Say hi."}], max_tokens=8, stream=True
    )
    parts = [chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices]
    assert len(parts) > 1 and "".join(parts).strip()
    refused = openai.OpenAI(base_url=f"{shared.url}/v1", api_key="gpl_" + "y" * 32, max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        refused.models.list()


def test_the_ollama_client_with_an_authorization_header_streams_a_chat(shared: Shared) -> None:
    import ollama

    client = ollama.Client(host=shared.url, headers=bearer(shared.alice.secret))
    stream = client.chat(
        model=MODEL, messages=[{"role": "user", "content": "Hi."}], stream=True, options={"num_predict": 8}
    )
    parts = [part.message.content or "" for part in stream]
    assert len(parts) > 1 and "".join(parts).strip()
    with pytest.raises(ollama.ResponseError) as refused:
        ollama.Client(host=shared.url).list()
    assert refused.value.status_code == 401


def test_a_key_over_its_stream_limit_gets_429_with_retry_after_and_other_keys_do_not(shared: Shared) -> None:
    """The fixture's gateway allows one request in flight per key (--max-streams 1).

    The first request is held in flight deterministically: it asks ``Expect: 100-continue``, and nginx
    answers "100 Continue" only when it starts reading the body, after the limit has counted the request.
    """
    host, port = shared.url.removeprefix("http://").rsplit(":", 1)
    body = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "stream": False})
    with socket.create_connection((host, int(port)), timeout=30) as held:
        held.sendall(
            (
                f"POST /api/chat HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {shared.alice.secret}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                "Expect: 100-continue\r\n\r\n"
            ).encode()
        )
        assert held.recv(64).startswith(b"HTTP/1.1 100 Continue")
        second = httpx.get(f"{shared.url}/api/tags", headers=bearer(shared.alice.secret), trust_env=False)
        assert second.status_code == 429
        assert second.headers["retry-after"] == "5"
        assert "too many requests" in second.json()["error"]
        other = httpx.get(f"{shared.url}/api/tags", headers=bearer(shared.admin.secret), trust_env=False)
        assert other.status_code == 200
    # the held request is gone once nginx sees the closed connection: alice may send again
    deadline = time.monotonic() + 10
    status = 0
    while time.monotonic() < deadline and status != 200:
        status = call(shared, "GET", "/api/tags", shared.alice.secret).status_code
        time.sleep(0.05)
    assert status == 200


def test_a_revoked_key_gets_401_after_the_reload_and_a_stream_in_flight_finishes(shared: Shared) -> None:
    added = service.share(shared.settings, listen=None, add=["bob"])
    assert added.action == "reloaded"
    bob = bearer(added.new_keys[0].secret)
    assert httpx.get(f"{shared.url}/api/tags", headers=bob, trust_env=False).status_code == 200

    body = {"model": MODEL, "messages": [{"role": "user", "content": "Count to ten."}], "stream": True}
    body["options"] = {"num_predict": 24}
    lines: list[str] = []
    with (
        httpx.Client(trust_env=False, timeout=60) as client,
        client.stream("POST", f"{shared.url}/api/chat", json=body, headers=bob) as stream,
    ):
        assert stream.status_code == 200
        reader = stream.iter_lines()
        lines.append(next(reader))
        revoked = threading.Thread(target=service.revoke, args=(shared.settings, "bob"))
        revoked.start()
        revoked.join(timeout=30)
        assert not revoked.is_alive()
        lines += list(reader)  # the stream started before the reload runs to its end
    assert '"done":true' in lines[-1].replace(" ", "")
    assert httpx.get(f"{shared.url}/api/tags", headers=bob, trust_env=False).status_code == 401
    assert call(shared, "GET", "/api/tags", shared.alice.secret).status_code == 200
