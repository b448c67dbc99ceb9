"""Reading and writing the small versioned JSON files gpuless keeps in its directories (bandwidth cache,
calibration).

Each file is ``{"format": N, "<section>": {...}}``; a file that is absent, unreadable, malformed or of
another format reads as empty, so a damaged file costs a fresh measurement, never a crash. A write is
atomic (a temporary file in the same directory, then ``os.replace``), so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def read_section(path: Path, fmt: int, section: str) -> dict[str, Any]:
    """The ``section`` mapping of ``path`` when its ``format`` is ``fmt``; {} otherwise."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != fmt:
        return {}
    entries = data.get(section)
    return entries if isinstance(entries, dict) else {}


def write_section(path: Path, fmt: int, section: str, entries: dict[str, Any]) -> None:
    """Write ``{"format": fmt, section: entries}`` to ``path`` atomically (its directory is created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as tmp:
            json.dump({"format": fmt, section: entries}, tmp, indent=2)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
