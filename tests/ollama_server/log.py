"""Ollama-style (Go slog text) log lines on stderr, so tools that read Ollama's log can read ours."""

from __future__ import annotations

import sys
import threading
from typing import Any

from .wire import created_at

_lock = threading.Lock()


def _value(value: Any) -> str:
    text = str(value)
    return f'"{text}"' if (" " in text or "=" in text or not text) else text


def log(msg: str, level: str = "INFO", source: str = "server.go", **fields: Any) -> None:
    parts = [f"time={created_at()}", f"level={level}", f"source={source}", f"msg={_value(msg)}"]
    parts += [f"{key}={_value(value)}" for key, value in fields.items()]
    with _lock:
        sys.stderr.write(" ".join(parts) + "\n")
        sys.stderr.flush()
