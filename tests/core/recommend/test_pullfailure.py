"""A failed pull told apart by Ollama's error text: unknown tag, unreachable registry, full disk; and the
next candidate to try."""

from __future__ import annotations

import pytest

from tests import builders
from toolkit.core.catalog.model import Catalog
from toolkit.core.recommend.pick import recommend
from toolkit.core.recommend.pullfailure import classify, next_candidate, pull_failure


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # Ollama's answer for a tag the registry lacks (server/images.go: errUnknownManifest / pull).
        ("pull model manifest: file does not exist", "unknown_tag"),
        ("manifest unknown", "unknown_tag"),
        ('pull model manifest: Get "https://registry.ollama.ai/v2/library/x/manifests/1b": '
         "dial tcp: lookup registry.ollama.ai: no such host", "unreachable"),
        ("Get https://registry.ollama.ai/...: net/http: TLS handshake timeout", "unreachable"),
        ("tls: failed to verify certificate: x509: certificate signed by unknown authority", "unreachable"),
        # A DNS failure may say "not found" too: it is still the network, not the name.
        ("lookup registry.ollama.ai on 127.0.0.53:53: server misbehaving; not found", "unreachable"),
        ("write /root/.ollama/models/blobs/sha256-x-partial: no space left on device", "disk_full"),
        # A full disk wins over everything else the text says.
        ("open /models/x: no space left on device (file does not exist)", "disk_full"),
        ("max retries exceeded", "other"),
    ],
)  # fmt: skip
def test_classify(text: str, kind: str) -> None:
    assert classify(text) == kind


def test_the_advice_follows_the_kind() -> None:
    unknown = pull_failure("x:1b", "file does not exist")
    assert unknown.message == "model 'x:1b' is not in the registry (file does not exist)"
    assert "ollama.com/library" in unknown.advice
    offline = pull_failure("x:1b", "dial tcp: i/o timeout")
    assert "could not be reached" in offline.message and "The name may well be right" in offline.advice
    assert "check the name" not in offline.advice.lower()
    full = pull_failure("x:1b", "ENOSPC")
    assert full.kind == "disk_full" and "Free space" in full.advice
    other = pull_failure("x:1b", "boom")
    assert other.message == "pulling 'x:1b' failed: boom" and "gpuless logs" in other.advice


def test_next_candidate_is_the_best_untried_one_that_fits(catalog: Catalog) -> None:
    ranked = recommend(builders.machine(ram_gb=6), catalog).candidates
    fitting = [c for c in ranked if c.fits]
    too_big = [c for c in ranked if not c.fits]
    assert len(fitting) >= 2 and too_big
    # In rank order a model too big for memory may come first: it is passed over, never pulled.
    order = [too_big[0], *fitting]
    assert next_candidate(order, ()) == fitting[0]
    assert next_candidate(order, {fitting[0].tag}) == fitting[1]
    assert next_candidate(order, {c.tag for c in fitting}) is None
