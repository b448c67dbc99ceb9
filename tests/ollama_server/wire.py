"""Ollama wire format: one parser for NDJSON lines, and the writers the server uses.

The same `parse_ndjson_line` reads the verbatim examples from Ollama's docs and the server's live
output, so a test that passes on both shows the server speaks the documented format.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

METRIC_FIELDS = (
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
)


class StreamError(RuntimeError):
    """A stream carried Ollama's `{"error": "..."}` line."""


@dataclass(frozen=True)
class Metrics:
    """The six metrics of a final chunk; missing (omitempty) fields are 0. Durations in ns."""

    total_duration: int = 0
    load_duration: int = 0
    prompt_eval_count: int = 0
    prompt_eval_duration: int = 0
    eval_count: int = 0
    eval_duration: int = 0

    @property
    def eval_rate(self) -> float:
        """Ollama's official tokens/s: eval_count / eval_duration * 1e9 (0 when unknown)."""
        return self.eval_count / self.eval_duration * 1e9 if self.eval_duration else 0.0


def parse_ndjson_line(line: str | bytes) -> dict[str, Any]:
    """Parse one NDJSON line (or a pretty-printed single object) of an Ollama stream.

    Raises StreamError for an `{"error": ...}` line and ValueError for anything that is not a JSON object.
    """
    text = line.decode("utf-8") if isinstance(line, bytes) else line
    obj = json.loads(text)
    if not isinstance(obj, dict):
        raise ValueError(f"not a JSON object: {text[:80]!r}")
    if "error" in obj:
        raise StreamError(str(obj["error"]))
    return obj


def metrics_of(chunk: dict[str, Any]) -> Metrics:
    """The metrics of a final chunk, defaulting absent fields to 0 as Ollama's omitempty requires."""
    return Metrics(**{name: int(chunk.get(name, 0) or 0) for name in METRIC_FIELDS})


def chunk_text(chunk: dict[str, Any]) -> str:
    """The generated text of a generate or chat chunk."""
    if "message" in chunk:
        return str((chunk["message"] or {}).get("content") or "")
    return str(chunk.get("response") or "")


def put_metrics(obj: dict[str, Any], metrics: Metrics) -> dict[str, Any]:
    """Add the non-zero metrics to `obj` (Go omitempty) and return it."""
    for name in METRIC_FIELDS:
        value = getattr(metrics, name)
        if value:
            obj[name] = value
    return obj


def created_at(now: datetime | None = None) -> str:
    """Go's RFC 3339 nano timestamp, in UTC with a Z suffix."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def dumps_line(obj: dict[str, Any]) -> bytes:
    """One NDJSON line as Go's json.Marshal writes it (compact) plus newline."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"
