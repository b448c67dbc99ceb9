"""``gpuless join``: check that a URL is a gpuless share and that the key opens it, then remember both.

A share's gateway answers ``/api/tags`` with a valid key and 401 without one; anything else (Ollama
itself, which needs no key; a closed port; a wrong key) is refused before anything is written. A share
that speaks HTTPS with a self-signed certificate is joined with ``fingerprint``: the certificate the
server presents is compared with it before the key is sent, then kept and trusted for that server only.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from urllib.parse import urlsplit

from toolkit.adapters import joined
from toolkit.adapters.gateway import certificate
from toolkit.adapters.gateway.keystore import write_private
from toolkit.adapters.ollama.client import OllamaClient
from toolkit.core.share.tls import parse_fingerprint
from toolkit.core.target import check_target
from toolkit.errors import KeyRefusedError, OllamaError, UsageError
from toolkit.settings import Settings


async def _models(url: str, key: str, cafile: str | None) -> list[str]:
    async with OllamaClient(url, timeout=10.0, connect_timeout=3.0, api_key=key, cafile=cafile) as client:
        return await client.list_models()


def _pin(settings: Settings, target: str, fingerprint: str) -> str:
    """Compare the certificate ``target`` presents with ``fingerprint``; keep it and return its path
    (written to a temporary name: the joined share's file is replaced only once the join succeeds)."""
    wanted = parse_fingerprint(fingerprint)
    parts = urlsplit(target)
    if parts.scheme != "https":
        raise UsageError(
            f"--fingerprint pins an HTTPS certificate; {target} is plain HTTP",
            "Use the https:// URL `gpuless share --tls` printed, or drop --fingerprint.",
        )
    pem = certificate.presented(parts.hostname or "", parts.port or 443)
    seen = certificate.pem_fingerprint(pem)
    if seen != wanted:
        raise UsageError(
            f"{target} presented a certificate with another fingerprint ({seen}); nothing was stored",
            "Someone may be in between: check the fingerprint `gpuless share` printed on the sharing laptop.",
        )
    path = joined.cert_path(settings).with_suffix(".new")
    write_private(path, pem)
    return str(path)


def _speaks_https(error: OllamaError) -> bool:
    return "speaks HTTPS" in error.message


def join(
    settings: Settings, url: str, key: str, fingerprint: str | None = None
) -> tuple[joined.Joined, list[str]]:
    """Check ``url`` and ``key`` (and the certificate against ``fingerprint``), then store them;
    returns what was stored and the share's models."""
    key = key.strip()
    if not key:
        raise UsageError("the key is empty", hint="Pass the key the share printed: --key KEY.")
    target = check_target(url, explicit=True, command="join")  # typed by the user: may be on the LAN
    pinned = _pin(settings, target, fingerprint) if fingerprint is not None else None
    try:
        models = _check(target, key, pinned)
        share = joined.Joined(target, key)
        if pinned is not None:
            Path(pinned).replace(joined.cert_path(settings))
            share = joined.Joined(target, key, str(joined.cert_path(settings)))
        joined.save(settings, share)
    finally:
        if pinned is not None:
            with contextlib.suppress(OSError):
                Path(pinned).unlink(missing_ok=True)
    return share, models


def _check(target: str, key: str, pinned: str | None) -> list[str]:
    """The share's models; refuse a server that answers without a key, or that refuses ``key``."""
    try:
        asyncio.run(_models(target, "", pinned))
    except KeyRefusedError:
        pass  # a share: it wants a key
    except OllamaError as error:
        if pinned is None and "CERTIFICATE_VERIFY_FAILED" in error.message:
            raise UsageError(
                f"{target} presents a certificate this laptop does not trust (a share's is self-signed)",
                f"gpuless join {target} --key KEY --fingerprint SHA256:… (what `gpuless share` printed)",
            ) from None
        if _speaks_https(error):
            https = target.replace("http://", "https://", 1)
            raise UsageError(
                f"{target} is a share that speaks HTTPS; nothing was stored",
                f"gpuless join {https} --key KEY --fingerprint SHA256:… (the line `gpuless share` printed)",
            ) from None
        raise
    else:
        raise UsageError(
            f"{target} is not a gpuless share: it answers without a key",
            hint="Use the URL `gpuless share` printed (the gateway's, not Ollama's own port).",
        )
    try:
        return asyncio.run(_models(target, key, pinned))
    except KeyRefusedError:
        raise KeyRefusedError(
            f"{target} refused the key (HTTP 401); nothing was stored",
            hint="Check the key with whoever shares it (`gpuless share --list` shows the names).",
        ) from None


def current(settings: Settings) -> joined.Joined | None:
    """The share this laptop joined, or None."""
    return joined.load(settings)


def leave(settings: Settings) -> joined.Joined | None:
    """Forget the joined share (and its pinned certificate); returns what was joined, or None."""
    share = joined.load(settings)
    joined.forget(settings)
    return share


def key_for(url: str, settings: Settings) -> str | None:
    """The key of the joined share when ``url`` is its server, else None."""
    return joined.key_for(url, settings)


def is_joined(url: str, settings: Settings) -> bool:
    """Whether ``url`` is the joined share (the user typed it at join time)."""
    return joined.is_joined(url, settings)
