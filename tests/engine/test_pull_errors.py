"""Pull failures are told apart (unknown tag, registry unreachable, disk full) and advised accordingly."""

from __future__ import annotations

import pytest

from toolkit.adapters.ollama.errors import pull_error
from toolkit.core.recommend.pullfailure import classify, pull_failure
from toolkit.errors import DiskFullError, ModelNotFoundError, OllamaError, RegistryUnreachableError

# Error texts as Ollama prints them (its registry client, Go's net/http, the OS).
UNREACHABLE = [
    'pull model manifest: Get "https://registry.ollama.ai/v2/library/qwen2.5/manifests/1.5b": dial tcp: '
    "lookup registry.ollama.ai on 127.0.0.11:53: no such host",
    'Get "https://registry.ollama.ai/v2/": dial tcp 104.21.75.227:443: i/o timeout',
    "pull model manifest: Get ...: net/http: TLS handshake timeout",
    "dial tcp [::1]:443: connect: connection refused",
    "Get ...: proxyconnect tcp: dial tcp 10.0.0.1:3128: connect: network is unreachable",
    "tls: failed to verify certificate: x509: certificate signed by unknown authority",
    "lookup registry.ollama.ai: Temporary failure in name resolution (not found)",
]
UNKNOWN = ["pull model manifest: file does not exist", "manifest unknown", "model 'x' not found"]
DISK_FULL = [
    "write /root/.ollama/models/blobs/sha256-abc-partial: no space left on device",
    "open /root/.ollama/models/blobs: no space left on device (file does not exist)",
]


@pytest.mark.parametrize("text", UNREACHABLE)
def test_an_unreachable_registry_never_says_check_the_name(text: str) -> None:
    assert classify(text) == "unreachable"
    failure = pull_failure("qwen2.5:1.5b", text)
    assert "name may well be right" in failure.advice and "check the name" not in failure.advice.lower()
    error = pull_error("qwen2.5:1.5b", text)
    assert isinstance(error, RegistryUnreachableError) and error.hint == failure.advice


@pytest.mark.parametrize("text", UNKNOWN)
def test_an_unknown_tag_says_check_the_name(text: str) -> None:
    assert classify(text) == "unknown_tag"
    error = pull_error("qwen9:1b", text)
    assert isinstance(error, ModelNotFoundError) and "ollama.com/library" in (error.hint or "")
    assert "qwen9:1b" in error.message


@pytest.mark.parametrize("text", DISK_FULL)
def test_a_full_disk_asks_for_space(text: str) -> None:
    assert classify(text) == "disk_full"
    error = pull_error("qwen2.5:7b", text)
    assert isinstance(error, DiskFullError) and "Free space" in (error.hint or "")


def test_anything_else_is_a_plain_failure() -> None:
    error = pull_error("m", "digest mismatch, file must be downloaded again")
    assert type(error) is OllamaError and "pulling 'm' failed" in error.message
