"""compose.yaml as ``gpuless compose``, ``up`` and the wizard's Compose step write and read it: the safe
write (a diff, a backup created O_EXCL, an edited file never overwritten unless forced), and the spec of
a file read back with what ``up`` cannot apply. The file I/O is ``adapters.compose_file``'s.
"""

from __future__ import annotations

from pathlib import Path

from toolkit.adapters import compose_file
from toolkit.adapters.compose_file import WriteResult
from toolkit.core.compose.read import ComposeFileSpec


def write_compose(path: Path, text: str, *, force: bool = False) -> WriteResult:
    """Write ``text`` to ``path`` safely (``ComposeFileExistsError`` with the diff when it would replace
    a file the user edited, unless ``force``)."""
    return compose_file.write_compose(path, text, force=force)


def read_compose_file(path: Path) -> ComposeFileSpec:
    """The spec of the gpuless compose file at ``path``, its edits and the parts ``up`` cannot apply."""
    return compose_file.read_compose_file(path)


def unified_diff(old: str, new: str, path: Path) -> str:
    """The diff from ``old`` to ``new`` of the file at ``path`` ("" when they agree)."""
    return compose_file.unified_diff(old, new, path)
