"""The wire formats of Ollama's native API and the OpenAI-compatible API, as pure functions.

Request bodies are built here and every piece of server data is checked here, so the client
(``toolkit.adapters.ollama.client``) only moves bytes: a line that is not JSON, a field of the wrong type
or an ``{"error": ...}`` object mid-answer becomes a ``StreamError`` through ``unexpected`` /
``stream_object``, and an error body becomes one terminal-safe line (``error_text``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from toolkit.core.safe_text import terminal_safe
from toolkit.errors import StreamError

#: The two protocols gpuless speaks: Ollama's native API (with server timings) and the OpenAI-compatible one.
Api = Literal["ollama", "openai"]

#: Options that map onto OpenAI request fields; the rest (num_ctx, num_thread, ...) have no OpenAI form.
_OPENAI_FIELDS = {"temperature": "temperature", "seed": "seed", "num_predict": "max_tokens", "top_p": "top_p"}


def normalize_url(url: str) -> str:
    """``127.0.0.1:11434`` → ``http://127.0.0.1:11434``; trailing slashes removed."""
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    return url.rstrip("/")


def native_body(
    model: str,
    content: Mapping[str, Any],
    options: Mapping[str, Any] | None,
    think: bool | None,
    keep_alive: str | int | None,
) -> dict[str, Any]:
    """A streaming request body of Ollama's native API: ``content`` (messages or prompt) plus the
    options, think and keep_alive fields that were given."""
    body: dict[str, Any] = {"model": model, **content, "stream": True}
    if options:
        body["options"] = dict(options)
    if think is not None:
        body["think"] = think
    if keep_alive is not None:
        body["keep_alive"] = keep_alive
    return body


def openai_body(
    model: str, messages: Sequence[Mapping[str, str]], options: Mapping[str, Any], think: bool | None = False
) -> dict[str, Any]:
    """A streaming ``/v1/chat/completions`` body: the messages, usage counts asked for at the end, and the
    options that have an OpenAI form (``_OPENAI_FIELDS``); the rest have none and are left out.

    ``think=False`` sends ``reasoning_effort: "none"``, the one OpenAI field that turns a thinking model's
    reasoning off on Ollama (its openai/openai.go thinkFromReasoningEffort; without it Ollama thinks
    whenever the model can). ``True`` or None sends nothing: the model's default, thinking on Ollama."""
    body: dict[str, Any] = {
        "model": model,
        "messages": list(messages),
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if think is False:
        body["reasoning_effort"] = "none"
    for key, field in _OPENAI_FIELDS.items():
        if key in options:
            body[field] = options[key]
    return body


def _preview(value: Any) -> str:
    """A short, one-line, terminal-safe picture of a value from the wire, for an error message."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = terminal_safe(text, one_line=True)
    return repr(text[:80] + ("…" if len(text) > 80 else ""))


def unexpected(url: str, what: str, value: Any) -> StreamError:
    """The one error for wire data of the wrong shape: a line that is not JSON, a field of the wrong
    type, an object where a list belongs. Callers raise it; nothing else inspects malformed data."""
    return StreamError(
        f"unexpected data from {url}: {what} {_preview(value)}",
        hint="The server is not speaking the API gpuless asked for; check --url and --api.",
    )


def as_object(value: Any, url: str, what: str) -> dict[str, Any]:
    """``value`` if it is a JSON object, else the ``unexpected`` error naming ``what``."""
    if not isinstance(value, dict):
        raise unexpected(url, f"{what} (not an object)", value)
    return value


def as_text(value: Any, url: str, what: str) -> str | None:
    """``value`` if it is a string or absent (None), else the ``unexpected`` error naming ``what``."""
    if value is not None and not isinstance(value, str):
        raise unexpected(url, f"{what} (not a string)", value)
    return value


def as_items(value: Any, url: str, what: str) -> list[Any]:
    """``value`` if it is a list (absent → empty), else the ``unexpected`` error naming ``what``."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise unexpected(url, f"{what} (not a list)", value)
    return value


def stream_object(text: str, url: str, what: str) -> dict[str, Any]:
    """One streamed JSON object (an NDJSON line or an SSE ``data:`` payload) of either protocol.

    A line that is not a JSON object, or an ``{"error": ...}`` object sent mid-answer, is a StreamError.
    """
    try:
        data = json.loads(text)
    except ValueError:
        raise unexpected(url, f"malformed {what} (not JSON)", text) from None
    data = as_object(data, url, what)
    if "error" in data:
        raise StreamError(
            f"the server reported an error mid-answer: {error_text(text.encode())}",
            hint="Check the server's logs; the answer so far was kept.",
        )
    return data


def show_parameters(text: str) -> dict[str, str]:
    """The ``parameters`` text of ``/api/show`` as name → value. Ollama writes each as Go's ``%#v``
    (server/routes.go:1503-1506): strings quoted, numbers from JSON as float64, so 1e6 and above in
    exponent form (``1.048576e+06``). Values come back plain: ``"<|im_end|>"`` → ``<|im_end|>``,
    ``1.048576e+06`` → ``1048576``; a repeated name (``stop``) keeps every value, space-separated."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        pair = line.split(None, 1)
        if len(pair) != 2:
            continue
        raw = pair[1].strip()
        value = raw
        if raw.startswith('"'):
            try:
                value = str(json.loads(raw))
            except ValueError:
                value = raw.strip('"')
        else:
            try:
                number = float(raw)
            except ValueError:
                number = None
            if number is not None and number.is_integer() and "e" in raw.lower():
                value = str(int(number))
        found.setdefault(pair[0], []).append(value)
    return {key: " ".join(values) for key, values in found.items()}


_TAGS = re.compile(r"<[^>]*>")


def error_text(body: bytes, content_type: str = "") -> str:
    """One terminal-safe line saying what an error body says: the message of an Ollama
    ``{"error": "..."}`` or OpenAI ``{"error": {"message": ...}}`` body, the title of an HTML page,
    else the start of the text."""
    raw = body.decode("utf-8", "replace")
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
        if "html" in content_type.lower() or raw.lstrip()[:1] == "<":
            title = re.search(r"<title[^>]*>(.*?)</title>|<h1[^>]*>(.*?)</h1>", raw, re.I | re.S)
            found = _TAGS.sub(" ", next(g for g in title.groups() if g is not None)) if title else ""
            raw = f"an HTML page: {terminal_safe(found, one_line=True) or 'untitled'}"
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict):
            raw = str(err.get("message") or err)
        elif err is not None:
            raw = str(err)
        else:
            raw = str(data)
    elif data is not None:
        raw = str(data)
    text = terminal_safe(raw, one_line=True)
    return text[:200] + ("…" if len(text) > 200 else "")


def is_json_error(body: bytes) -> bool:
    """Whether an error body is the JSON ``{"error": ...}`` Ollama and OpenAI servers answer with."""
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and "error" in data


__all__ = [
    "as_items",
    "as_object",
    "as_text",
    "error_text",
    "is_json_error",
    "native_body",
    "normalize_url",
    "openai_body",
    "show_parameters",
    "stream_object",
    "unexpected",
]
