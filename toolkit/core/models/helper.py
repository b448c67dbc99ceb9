"""The short-lived helper container's scripts, and what their output means.

The helper mounts the models volume where the server does (``/root/.ollama``, models under ``models/``)
and runs POSIX ``sh`` with coreutils (``df``, ``stat``, ``sha256sum``, ``mv``), which both the Ollama
image and the test image have. No name from an archive is put into a script: the staging folder comes
in the environment (``STAGE``), and the scripts walk the fixed ``blobs/`` and ``manifests/`` layout.
"""

from __future__ import annotations

import re

from toolkit.core.compose.spec import MODELS_PATH
from toolkit.core.models.layout import BLOB_NAME

#: The store inside the volume, as the server's ``OLLAMA_MODELS`` default sees it.
STORE = f"{MODELS_PATH}/models"
#: Where an import stages its files: the volume's root, outside the store (Ollama never looks there),
#: on the same filesystem, so moving a file into the store is one rename.
STAGE_PREFIX = ".gpuless-import-"

#: Prints the volume's free space and every blob's size. Read-only.
INSPECT = f"""
echo '--df'; df -Pk {MODELS_PATH}
echo '--blobs'
if cd {STORE}/blobs 2>/dev/null; then
  for f in sha256-*; do if [ -f "$f" ]; then stat -c '%s %n' "$f"; fi; done
fi
exit 0
"""

#: Checks the staged files' sha256 again where they landed, moves the blobs into the store, flushes
#: them to disk, and only then moves the manifests in (a rename each: a model appears whole or not at
#: all), then removes the staging folder.
FINALIZE = f"""
set -eu
cd "{MODELS_PATH}/$STAGE"
if ! sha256sum -c SHA256SUMS > .check 2>&1; then
  while IFS= read -r line; do case "$line" in *': OK') ;; *) echo "$line"; break ;; esac; done < .check
  exit 3
fi
mkdir -p {STORE}/blobs
for f in blobs/sha256-*; do if [ -f "$f" ]; then mv -f "$f" "{STORE}/$f"; fi; done
sync
for m in manifests/*/*/*/*; do
  if [ -f "$m" ]; then mkdir -p "{STORE}/${{m%/*}}"; mv -f "$m" "{STORE}/$m"; fi
done
sync
cd {MODELS_PATH} && rm -rf "$STAGE"
"""

#: Removes a staging folder an import left (it failed or was stopped before FINALIZE ran).
CLEANUP = f'rm -rf "{MODELS_PATH}/$STAGE"'

_DF = re.compile(r"\S.*?\s+(\d+)\s+(\d+)\s+(\d+)\s+\d+%\s+\S.*")


def parse_inspect(text: str) -> tuple[int | None, dict[str, int]]:
    """INSPECT's output → (bytes available, ``blobs/<name>`` → size)."""
    available: int | None = None
    blobs: dict[str, int] = {}
    section = ""
    for line in text.splitlines():
        if line.startswith("--"):
            section = line
            continue
        if section == "--df" and (match := _DF.fullmatch(line.strip())):
            available = int(match.group(3)) * 1024
        elif section == "--blobs":
            size, _, name = line.strip().partition(" ")
            if size.isdigit() and BLOB_NAME.fullmatch(name):
                blobs[f"blobs/{name}"] = int(size)
    return available, blobs
