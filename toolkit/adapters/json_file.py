"""Reading the small versioned JSON files gpuless keeps in its directories (bandwidth cache, calibration).

Each file is ``{"format": N, "<section>": {...}}``; a file that is absent, unreadable, malformed or of
another format reads as empty, so a damaged file costs a fresh measurement, never a crash.
"""

from __future__ import annotations

import json
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
