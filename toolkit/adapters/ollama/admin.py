"""The few Ollama calls that starting a server needs: does it answer, pull a model, what is loaded.

Synchronous, because ``gpuless up`` is a sequence of blocking steps; streaming traffic (chat, bench)
lives in ``toolkit.adapters.ollama.client``, whose pull this module reuses so the error translation is
written once (and ``has_model`` its model list, so a list of the wrong shape is one clear error);
the version and pull status it reports are made terminal-safe. Every call goes through the one guarded
HTTP seam (``toolkit.adapters.ollama.linestream``, by way of ``OllamaClient``): bodies capped, each call
bounded in total time. Every URL here is the one gpuless itself started or was given with ``--url``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from toolkit.adapters.ollama.client import OllamaClient
from toolkit.adapters.progress import LayerTotals, Progress, ProgressCallback
from toolkit.core.compose.spec import OllamaServiceSpec
from toolkit.core.compose.verify_runner import parse_version
from toolkit.core.safe_text import terminal_safe
from toolkit.core.wire import normalize_url, show_parameters
from toolkit.errors import OllamaError, OllamaUnreachableError, RequestTimeoutError, StreamError

_POLL_SECONDS = 0.25
#: The first Ollama whose /api/create takes ``from`` and ``parameters`` (before: a Modelfile text).
CREATE_FROM_SINCE = (0, 5, 5)


def _ask(url: str, method: str, path: str, body: Mapping[str, Any] | None = None, *, timeout: float) -> Any:
    """One request through the guarded seam (``linestream`` via ``OllamaClient``): the body is capped
    (``linestream.MAX_BODY``) and the whole request ends within ``timeout`` seconds, however the
    server trickles; failures leave as ``toolkit.errors`` classes."""

    async def call() -> Any:
        client = OllamaClient(url, timeout=timeout, connect_timeout=min(timeout, 5.0), total_timeout=timeout)
        async with client:
            return await client.request_json(method, path, body)

    return asyncio.run(call())


def api_version(url: str, *, timeout: float = 3.0) -> str:
    """Ollama's version at ``url``; OllamaUnreachableError when nothing (or no Ollama) answers."""
    base = normalize_url(url)
    try:
        data = _ask(base, "GET", "/api/version", timeout=timeout)
    except OllamaUnreachableError:
        raise
    except OllamaError as error:
        # Whatever went wrong, nothing usable answers: the caller's one class for that, the same words.
        raise OllamaUnreachableError(
            error.message, hint=error.hint or "Point --url at an Ollama server (default port 11434)."
        ) from None
    version = str(data.get("version", "unknown")) if isinstance(data, dict) else "unknown"
    return terminal_safe(version, one_line=True)[:40]


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
        data = _ask(url, "GET", "/api/ps", timeout=timeout)
    except OllamaError:
        return None
    return data if isinstance(data, dict) else None


def has_model(url: str, model: str, *, timeout: float = 5.0) -> bool:
    """Whether ``/api/tags`` lists the model (a missing ":tag" means ":latest"); OllamaError subclasses
    when the server does not answer or answers something that is not a model list."""
    wanted = model if ":" in model else f"{model}:latest"
    return wanted in model_names(url, timeout=timeout)


def model_names(url: str, *, timeout: float = 5.0) -> list[str]:
    """The names ``/api/tags`` lists; OllamaError subclasses as for ``has_model``."""

    async def names() -> list[str]:
        client = OllamaClient(url, timeout=timeout, connect_timeout=timeout, total_timeout=timeout)
        async with client:
            return await client.list_models()

    return asyncio.run(names())


def pull_model(url: str, model: str, progress: ProgressCallback | None = None) -> None:
    """Pull a model through ``/api/pull``, reporting summed layer progress; raises OllamaError subclasses."""
    totals = LayerTotals()

    def relay(line: Mapping[str, Any]) -> None:
        if progress is None:
            return
        status = terminal_safe(str(line.get("status", "")), one_line=True)[:80]
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


def create_served_model(url: str, served: str, base: str, parameters: Mapping[str, Any]) -> None:
    """Create ``served`` from ``base`` with load-time ``parameters`` (``POST /api/create`` with ``from``
    and ``parameters``: a Modelfile's ``FROM`` and ``PARAMETER`` lines). Every client that names
    ``served`` then gets those parameters, whatever options it sends or cannot send."""
    body = {"model": served, "from": base, "parameters": dict(parameters), "stream": False}
    try:
        _ask(url, "POST", "/api/create", body, timeout=120.0)
    except (OllamaUnreachableError, StreamError, RequestTimeoutError) as error:
        raise OllamaUnreachableError(
            f"creating {served} failed: {error.message}", "Is the server still running?"
        ) from None
    except OllamaError as error:
        raise OllamaError(f"creating {served} from {base} failed: {error.message[:200]}") from None


def served_parameters(url: str, model: str, *, timeout: float = 5.0) -> dict[str, str] | None:
    """The parameters ``/api/show`` reports for ``model`` (name → value text), None if it cannot say."""
    try:
        data = _ask(url, "POST", "/api/show", {"model": model}, timeout=timeout)
    except OllamaError:
        return None
    text = data.get("parameters") if isinstance(data, dict) else None
    return show_parameters(text) if isinstance(text, str) else None


def prepare_served_model(url: str, spec: OllamaServiceSpec, progress: ProgressCallback | None = None) -> None:
    """Pull the spec's model if the server lacks it, then (re)create the served model from it."""
    version = api_version(url)
    parsed = parse_version(version)
    if parsed is not None and parsed < CREATE_FROM_SINCE:
        raise OllamaError(
            f"Ollama {version} cannot create {spec.served_model}: /api/create takes `from` and `parameters` "
            "only since 0.5.5",
            hint="Use ollama/ollama:0.5.5 or newer (the image tag in compose.yaml).",
        )
    if not has_model(url, spec.model):
        pull_model(url, spec.model, progress)
    if progress is not None:
        progress(Progress("model", f"creating {spec.served_model}"))
    create_served_model(url, spec.served_model, spec.model, spec.model_parameters())


def load_model(url: str, model: str, *, timeout: float = 120.0) -> bool:
    """Load ``model`` without generating (``/api/generate`` with no prompt, as Ollama documents);
    False when the server could not."""
    try:
        _ask(url, "POST", "/api/generate", {"model": model}, timeout=timeout)
    except OllamaError:
        return False
    return True
