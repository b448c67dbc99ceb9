"""The one map from transport failures (``toolkit.adapters.ollama.linestream``) to ``toolkit.errors``.

Nothing listening → OllamaUnreachableError, a redirect (never followed) → NotOllamaError saying where it
pointed, a JSON 404 → ModelNotFoundError, a 404 that is not
Ollama's → NotOllamaError, 503 → ServerBusyError, no bytes in time or past the deadline →
RequestTimeoutError, unreadable framing or a connection dropped mid-answer → StreamError; a failed
pull gets the class its cause calls for (``pull_error``). Each error says what to do next.
"""

from __future__ import annotations

from toolkit.adapters.ollama import linestream
from toolkit.core.recommend.pullfailure import pull_failure
from toolkit.core.safe_text import terminal_safe
from toolkit.core.wire import error_text, is_json_error
from toolkit.errors import (
    DiskFullError,
    KeyRefusedError,
    ModelNotFoundError,
    NotOllamaError,
    OllamaError,
    OllamaUnreachableError,
    RegistryUnreachableError,
    RequestTimeoutError,
    ServerBusyError,
    StreamError,
)

#: For "nothing answers": the server may be down, or up on another port than the one asked.
UNREACHABLE_HINT = (
    "Is the server running? `gpuless status` shows the URL of the one gpuless started (pass it with"
    " --url); `gpuless up` starts one."
)
TIMEOUT_HINT = "The model may be loading or the machine overloaded; retry or raise --timeout."


def translate(error: linestream.LineStreamError, url: str, path: str, model: str | None) -> OllamaError:
    """The ``toolkit.errors`` class for a failure of a request to ``url`` + ``path`` (for ``model``)."""
    if isinstance(error, linestream.ConnectFailed):
        return OllamaUnreachableError(f"nothing answers at {url} ({error})", hint=UNREACHABLE_HINT)
    if isinstance(error, linestream.DeadlineExceeded):
        return RequestTimeoutError(
            f"{url} did not finish answering within the time limit",
            hint="The server may be trickling its answer; raise --timeout (or --max-seconds).",
        )
    if isinstance(error, linestream.ReadTimedOut):
        return RequestTimeoutError(f"{url} did not answer in time ({error})", hint=TIMEOUT_HINT)
    if isinstance(error, linestream.Redirected):
        where = terminal_safe(error.location, one_line=True)[:200] or "no address (no Location header)"
        return NotOllamaError(
            f"{url} redirected {path} (HTTP {error.status}) to {where}; gpuless does not follow redirects",
            hint="Point --url at the server itself (the redirect's address, if you trust it).",
        )
    if isinstance(error, linestream.HttpStatus):
        return _status_error(error, url, path, model)
    if isinstance(error, linestream.BadResponse):
        return StreamError(
            f"{url} sent a response gpuless cannot read ({error})",
            hint="Check that --url is an Ollama (or OpenAI-compatible) server.",
        )
    return StreamError(
        f"the connection to {url} broke mid-answer ({error})",
        hint="The server may have crashed or run out of memory; check its logs.",
    )


def _status_error(error: linestream.HttpStatus, url: str, path: str, model: str | None) -> OllamaError:
    status, body = error.status, error.body
    text = error_text(body, error.content_type) or f"HTTP {status}, empty body"
    if status == 404 and is_json_error(body):
        # Ollama (and OpenAI servers) say "model not found" in a JSON error body.
        name = f"model '{model}'" if model else "the requested resource"
        return ModelNotFoundError(
            f"{name} not found on {url} ({text})",
            hint=f"Pull it first: `gpuless up --url {url} --model {model or 'NAME'}`.",
        )
    if status == 404:
        return NotOllamaError(
            f"{url} has no {path} ({text})",
            hint="It does not look like an Ollama server; check --url (and --api for OpenAI servers).",
        )
    if status == 503:
        return ServerBusyError(
            f"{url} is busy: {text}",
            hint="The queue is full (OLLAMA_MAX_QUEUE); lower the concurrency or retry later.",
        )
    if status == 499:
        return StreamError(f"the request was cancelled: {text}")
    if status == 401:
        return KeyRefusedError(
            f"{url} refused the request: no key or a wrong one (HTTP 401: {text})",
            hint="Ask whoever shares it for a key, then `gpuless join URL --key KEY`.",
        )
    return OllamaError(f"{url} answered HTTP {status}: {text}")


def pull_error(model: str, text: str) -> OllamaError:
    """The error for a failed pull of ``model``: an unknown tag, an unreachable registry and a full
    disk each get their own class and advice (``toolkit.core.recommend.pullfailure``)."""
    failure = pull_failure(model, text)
    kind: type[OllamaError] = {
        "unknown_tag": ModelNotFoundError,
        "unreachable": RegistryUnreachableError,
        "disk_full": DiskFullError,
    }.get(failure.kind, OllamaError)
    return kind(failure.message, hint=failure.advice)


__all__ = ["TIMEOUT_HINT", "UNREACHABLE_HINT", "pull_error", "translate"]
