"""The share this laptop joined (``gpuless join URL --key KEY``): its URL and key, in one private file.

The file is ``<data dir>/joined.json``, written mode 0600 (the key is a secret). ``key_for`` is how the
one HTTP seam (``toolkit.adapters.ollama.client``) finds the key: only for the joined server's own
scheme, host and port, so the key is never sent to any other server. A share that speaks HTTPS with a
self-signed certificate was pinned by its fingerprint at join time; that certificate is kept beside the
file (``joined-cert.pem``) and ``cert_for`` makes it the only one trusted for that server.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from toolkit.adapters.json_file import read_section
from toolkit.core.wire import normalize_url
from toolkit.settings import Settings

FORMAT = 1


@dataclass(frozen=True, slots=True)
class Joined:
    """A joined share: its base URL (normalised), the key it was joined with, and the path of its pinned
    certificate ("" when none was pinned: plain HTTP, or a certificate the system trusts)."""

    url: str
    key: str
    cert: str = ""

    def masked_key(self) -> str:
        """The key as shown back: its first 4 characters only."""
        return self.key[:4] + "…"


def join_path(settings: Settings) -> Path:
    return settings.data_dir / "joined.json"


def cert_path(settings: Settings) -> Path:
    """Where a pinned certificate of the joined share is kept."""
    return settings.data_dir / "joined-cert.pem"


def load(settings: Settings) -> Joined | None:
    """The joined share, or None (no file, or one that is not gpuless's)."""
    entry = read_section(join_path(settings), FORMAT, "joined")
    url, key, cert = entry.get("url"), entry.get("key"), entry.get("cert", "")
    if isinstance(url, str) and isinstance(key, str) and isinstance(cert, str) and url and key:
        return Joined(url, key, cert)
    return None


def save(settings: Settings, joined: Joined) -> Path:
    """Write the file atomically, readable only by the user (0600 from its creation)."""
    path = join_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {"url": joined.url, "key": joined.key} | ({"cert": joined.cert} if joined.cert else {})
    text = json.dumps({"format": FORMAT, "joined": entry}, indent=2)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".joined-", suffix=".tmp")  # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def forget(settings: Settings) -> bool:
    """Remove the file; False when nothing was joined."""
    cert_path(settings).unlink(missing_ok=True)
    try:
        join_path(settings).unlink()
    except FileNotFoundError:
        return False
    return True


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(normalize_url(url))
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def _joined_for(url: str, settings: Settings | None) -> Joined | None:
    if settings is None:
        try:
            settings = Settings()
        except ValueError:  # a bad GPULESS_* value: the command that reads settings says so, not this
            return None
    joined = load(settings)
    if joined is None or _origin(joined.url) != _origin(url):
        return None
    return joined


def key_for(url: str, settings: Settings | None = None) -> str | None:
    """The joined key when ``url`` is the joined server (same scheme, host and port), else None."""
    joined = _joined_for(url, settings)
    return joined.key if joined else None


def cert_for(url: str, settings: Settings | None = None) -> str | None:
    """The pinned certificate's path when ``url`` is the joined server and one was pinned, else None."""
    joined = _joined_for(url, settings)
    return joined.cert if joined and joined.cert else None


def is_joined(url: str, settings: Settings) -> bool:
    """Whether ``url`` is the server the user joined (they typed it at join time)."""
    return key_for(url, settings) is not None
