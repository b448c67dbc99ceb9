"""The share keys on disk: one JSON file readable only by the user, and the gateway's rendered files.

Everything here is written private (directory 0700, files 0600) and atomically (a temporary file in the
same directory, then ``os.replace``), so a crash leaves the old file or the new one and a reader (nginx,
on reload) never sees half a key map. The directory is mounted into the gateway container whole, so a
replaced file is seen there too (a single-file bind mount would keep the old inode).
"""

from __future__ import annotations

import contextlib
import datetime
import os
import secrets
import tempfile
from pathlib import Path

from toolkit.core.share.keys import SECRET_BYTES, SECRET_PREFIX, KeyRing, ShareKey, from_json, to_json
from toolkit.errors import GpulessError

KEYS_FILE = "keys.json"
#: The gateway's rendered configuration (nginx.conf, keys.map), mounted read-only into its container.
GATEWAY_DIR = "gateway"


def new_secret() -> str:
    """A fresh key: ``gpl_`` and 192 random bits, URL-safe."""
    return SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def now_text() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600, atomically; the directory is made 0700 if missing."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as error:
        hint = "Check the directory's permissions."
        raise GpulessError(f"cannot write {path}: {error.strerror}", hint) from None


class KeyStore:
    """The key file of one user (``<data dir>/share/keys.json``) and the gateway's files beside it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @property
    def path(self) -> Path:
        return self.directory / KEYS_FILE

    @property
    def gateway_dir(self) -> Path:
        return self.directory / GATEWAY_DIR

    def load(self) -> KeyRing:
        """The keys kept now (none when there is no file yet)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return KeyRing()
        except OSError as error:
            raise GpulessError(f"cannot read {self.path}: {error.strerror}") from None
        return from_json(text, str(self.path))

    def save(self, ring: KeyRing) -> None:
        write_private(self.path, to_json(ring))

    def add(self, ring: KeyRing, name: str) -> tuple[KeyRing, ShareKey]:
        """``ring`` with a new random key for ``name`` (not saved yet), and that key."""
        ring = ring.add(name, new_secret(), now_text())
        key = ring.get(name)
        assert key is not None
        return ring, key

    def write_gateway_files(self, files: dict[str, str]) -> Path:
        """Write the gateway's rendered files (name → text) privately; return their directory."""
        for name, text in files.items():
            write_private(self.gateway_dir / name, text)
        return self.gateway_dir
