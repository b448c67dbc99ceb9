"""Where gpuless may send traffic: loopback always, anything else only when the user typed the URL."""

from __future__ import annotations

import pytest

from toolkit.core.target import check_target, is_loopback_host
from toolkit.errors import UnsafeTargetError, UsageError


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("LOCALHOST", True),
        ("localhost.localdomain", True),
        ("192.168.1.20", False),
        ("172.17.0.2", False),
        ("ollama.example", False),
        ("localhost.evil.example", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_loopback_is_fine_from_anywhere_and_is_normalised() -> None:
    assert check_target("127.0.0.1:11434/", explicit=False) == "http://127.0.0.1:11434"
    assert check_target("http://[::1]:8080", explicit=False) == "http://[::1]:8080"


def test_a_remote_url_needs_the_user_to_have_typed_it() -> None:
    assert check_target("http://192.168.1.20:11434", explicit=True) == "http://192.168.1.20:11434"
    with pytest.raises(UnsafeTargetError) as error:
        check_target("http://192.168.1.20:11434", explicit=False, command="chat")
    assert "`gpuless chat`" in error.value.message
    assert (
        error.value.hint
        == "If this is your own server, pass it explicitly: gpuless chat --url http://192.168.1.20:11434"
    )


@pytest.mark.parametrize("url", ["ftp://127.0.0.1:21", "http://", "http://:11434"])
def test_what_is_not_a_server_url_is_a_usage_error(url: str) -> None:
    with pytest.raises(UsageError, match="not a server URL"):
        check_target(url, explicit=True)
