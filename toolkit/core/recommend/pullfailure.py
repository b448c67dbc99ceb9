"""Why a model pull failed, read from Ollama's error text, and what to do about it.

Ollama answers a failed ``/api/pull`` with one error string. The same failure needs very different
advice: an unknown tag wants another name, an unreachable registry wants the network checked (the
name may be right), a full disk wants space. Telling someone to "check the name" when their network
is down sends them the wrong way, so the kinds are told apart here and the advice follows the kind.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

from toolkit.core.recommend.candidate import Candidate

PullFailureKind = Literal["unknown_tag", "unreachable", "disk_full", "other"]

#: Texts of Ollama (Go net/http, the registry client, the OS) that mean the disk is full.
_DISK_FULL = ("no space left on device", "disk full", "not enough space", "enospc", "disk quota exceeded")

#: Texts that mean the registry could not be reached or did not answer properly.
_UNREACHABLE = (
    "dial tcp",
    "no such host",
    "connection refused",
    "connection reset",
    "i/o timeout",
    "tls handshake",
    "context deadline exceeded",
    "network is unreachable",
    "temporary failure in name resolution",
    "server misbehaving",
    "client.timeout",
    "proxyconnect",
    "x509",
    "certificate",
    "unexpected eof",
    "503 service unavailable",
    "502 bad gateway",
    "504 gateway timeout",
)

#: Texts that mean the registry answered and has no such model or tag.
_UNKNOWN = ("file does not exist", "manifest unknown", "not found", "does not exist", "invalid model name")


@dataclass(frozen=True)
class PullFailure:
    """A classified pull failure.

    Attributes:
        kind: "unknown_tag" (the registry has no such model), "unreachable" (the registry could not
            be reached: network, DNS, proxy, TLS), "disk_full" (no space for the download) or "other".
        message: one line saying what happened, with the server's text.
        advice: what to do, right for ``kind``.
    """

    kind: PullFailureKind
    message: str
    advice: str


def classify(text: str) -> PullFailureKind:
    """The kind of a pull error text. A full disk and an unreachable registry are checked before an
    unknown tag, because their texts may also contain "not found" (a DNS failure, a missing path)."""
    low = text.lower()
    if any(part in low for part in _DISK_FULL):
        return "disk_full"
    if any(part in low for part in _UNREACHABLE):
        return "unreachable"
    if any(part in low for part in _UNKNOWN):
        return "unknown_tag"
    return "other"


def pull_failure(model: str, text: str) -> PullFailure:
    """``text`` (Ollama's error for pulling ``model``) as a ``PullFailure`` with its advice."""
    kind = classify(text)
    if kind == "unknown_tag":
        return PullFailure(
            kind,
            f"model '{model}' is not in the registry ({text})",
            "Check the name and tag on ollama.com/library, or pick another model.",
        )
    if kind == "unreachable":
        return PullFailure(
            kind,
            f"the model registry could not be reached to pull '{model}' ({text})",
            "The name may well be right: check the network, a proxy (HTTPS_PROXY for the server) or a "
            "firewall, then try again; or use a model already downloaded.",
        )
    if kind == "disk_full":
        return PullFailure(
            kind,
            f"no disk space left to pull '{model}' ({text})",
            "Free space where the models are stored (the Docker engine's disk, or Docker Desktop's "
            "disk image size), or pick a smaller model.",
        )
    return PullFailure(kind, f"pulling '{model}' failed: {text}", "Try again; `gpuless logs` shows why.")


def next_candidate(candidates: Sequence[Candidate], tried: Collection[str]) -> Candidate | None:
    """The best-ranked candidate that fits in memory and was not tried yet (``candidates`` in rank
    order, as ``recommend`` gives them), or None."""
    return next((c for c in candidates if c.fits and c.tag not in tried), None)
