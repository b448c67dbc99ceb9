"""The few Ollama calls that starting a server needs: does it answer, pull a model, what is loaded.

Synchronous, because ``gpuless up`` is a sequence of blocking steps; streaming traffic (chat, bench)
lives in ``toolkit.engine.ollama_client``, whose pull this module reuses so the error translation is
written once. Every URL here is the one gpuless itself started or was given with ``--url``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import httpx

from toolkit.engine.ollama_client import OllamaClient, normalize_url
from toolkit.engine.progress import LayerTotals, Progress, ProgressCallback
from toolkit.errors import OllamaError, OllamaUnreachableError

_POLL_SECONDS = 0.25


def api_version(url: str, *, timeout: float = 3.0) -> str:
    """Ollama's version at ``url``; OllamaUnreachableError when nothing (or no Ollama) answers."""
    base = normalize_url(url)
    try:
        response = httpx.get(f"{base}/api/version", timeout=timeout, trust_env=False)
    except httpx.HTTPError as error:
        raise OllamaUnreachableError(
            f"nothing answers at {base} ({type(error).__name__})",
            hint="Start Ollama (`gpuless up`, or `ollama serve`) or check the --url.",
        ) from None
    if response.status_code != 200:
        raise OllamaUnreachableError(
            f"{base} answered HTTP {response.status_code} to /api/version: it is not an Ollama server",
            hint="Point --url at an Ollama server (default port 11434).",
        )
    try:
        data = response.json()
    except ValueError:
        raise OllamaUnreachableError(
            f"{base}/api/version did not answer JSON: not an Ollama server"
        ) from None
    return str(data.get("version", "unknown")) if isinstance(data, dict) else "unknown"


def wait_until_answers(url: str, *, timeout: float) -> str:
    """Poll ``/api/version`` until it answers or ``timeout`` seconds pass; returns the version."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return api_version(url, timeout=min(3.0, max(0.5, timeout)))
        except OllamaUnreachableError:
            if time.monotonic() >= deadline:
                raise
        time.sleep(_POLL_SECONDS)


def loaded_models(url: str, *, timeout: float = 3.0) -> dict[str, Any] | None:
    """The ``/api/ps`` JSON, or None when the server does not answer it."""
    try:
        response = httpx.get(f"{normalize_url(url)}/api/ps", timeout=timeout, trust_env=False)
        data = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def has_model(url: str, model: str, *, timeout: float = 5.0) -> bool:
    """Whether ``/api/tags`` lists the model (a missing ":tag" means ":latest")."""
    wanted = model if ":" in model else f"{model}:latest"
    try:
        response = httpx.get(f"{normalize_url(url)}/api/tags", timeout=timeout, trust_env=False)
        data = response.json()
    except (httpx.HTTPError, ValueError):
        return False
    names = {str(m.get("name") or m.get("model")) for m in data.get("models", []) if isinstance(m, dict)}
    return wanted in names


def pull_model(url: str, model: str, progress: ProgressCallback | None = None) -> None:
    """Pull a model through ``/api/pull``, reporting summed layer progress; raises OllamaError subclasses."""
    totals = LayerTotals()

    def relay(line: Mapping[str, Any]) -> None:
        if progress is None:
            return
        status = str(line.get("status", ""))
        digest = line.get("digest")
        completed, total = None, None
        if isinstance(digest, str):
            completed, total = totals.update(digest, _int(line.get("completed")), _int(line.get("total")))
        progress(Progress("model", status, completed, total))

    async def run() -> None:
        async with OllamaClient(url, timeout=300.0) as client:
            await client.pull(model, relay)

    try:
        asyncio.run(run())
    except OllamaError:
        raise
    except OSError as error:
        raise OllamaError(f"pulling '{model}' failed: {error}") from None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
