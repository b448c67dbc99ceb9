"""Reading and writing the small versioned JSON files gpuless keeps in its directories (bandwidth cache,
calibration).

Each file is ``{"format": N, "<section>": {...}}``; a file that is absent, unreadable, malformed or of
another format reads as empty, so a damaged cache costs a fresh measurement, never a crash. A file that
keeps what cannot be measured again (the calibration) is read ``strict``: a damaged file or one of
another format is an error that says so, and the caller leaves it alone rather than replacing it. A file
over ``MAX_BYTES`` or nested past what the JSON parser recurses through is damaged, not a crash. A write is
atomic (a temporary file in the same directory, then ``os.replace``), so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from toolkit.errors import UsageError

#: Largest file read: the calibration keeps 50 runs per machine, a few KiB.
MAX_BYTES = 4 << 20


def read_section(path: Path, fmt: int, section: str, *, strict: bool = False) -> dict[str, Any]:
    """The ``section`` mapping of ``path`` when its ``format`` is ``fmt``; {} when there is no file,
    and otherwise too unless ``strict`` (then UsageError saying what is wrong and what to do)."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return {}
    except OSError as error:
        return _refuse(path, f"it cannot be read ({error.strerror or error})", strict)
    if len(raw) > MAX_BYTES:
        return _refuse(path, f"it is larger than {MAX_BYTES >> 20} MiB", strict)
    try:
        data = json.loads(raw.decode("utf-8"))
    except RecursionError:
        return _refuse(path, "it is nested too deeply to be gpuless's", strict)
    except ValueError:
        return _refuse(path, "it is not valid JSON", strict)
    found = data.get("format") if isinstance(data, dict) else None
    if isinstance(found, int) and not isinstance(found, bool) and found > fmt:
        return _refuse(path, f"a newer gpuless wrote it (format {found}; this one reads {fmt})", strict)
    entries = data.get(section) if isinstance(data, dict) and found == fmt else None
    if not isinstance(entries, dict):
        return _refuse(path, f"it is not a format-{fmt} file with a '{section}' section", strict)
    return entries


def _refuse(path: Path, why: str, strict: bool) -> dict[str, Any]:
    if not strict:
        return {}
    raise UsageError(
        f"{path} is not usable: {why}; gpuless leaves it as it is",
        "Move it aside (a new one is started), or upgrade gpuless if a newer one wrote it.",
    )


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
