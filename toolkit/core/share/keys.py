"""The keys a shared laptop accepts: one per teammate and one admin key, and the file that keeps them.

Pure: the adapter (``toolkit.adapters.gateway.keystore``) draws the random secrets and reads and writes the
file; here a key ring is checked, changed and turned to and from its JSON text. Names and secrets are
checked against narrow alphabets because both are written into the gateway's nginx configuration.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any, Literal

from toolkit.errors import UsageError

Role = Literal["admin", "teammate", "pool"]
#: The admin key's name: it may change the server (pull, delete…); it is made with the first key.
ADMIN_NAME = "admin"
#: The pool key's name (``gpuless share --add-key pool``): what another laptop's pool gateway sends
#: (``gpuless pool add URL --key …``). It may do what a teammate may, and is not held to the per-key
#: stream limit: it carries a whole team's requests, which the pooling gateway limits per teammate.
POOL_NAME = "pool"
#: Prefix of every secret, so a leaked one is recognisable in a log or a paste.
SECRET_PREFIX = "gpl_"
#: Random bytes per secret (the adapter draws them): 192 bits, above the 128 asked for.
SECRET_BYTES = 24
#: Version of the key file's format.
FILE_VERSION = 1

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
_SECRET = re.compile(r"^gpl_[A-Za-z0-9_-]{32,}$")


@dataclass(frozen=True)
class ShareKey:
    """One key the gateway accepts.

    Attributes:
        name: who holds it ("admin", or a teammate's name: lowercase letters, digits, ``_ . -``).
        secret: what the holder sends as ``Authorization: Bearer <secret>``.
        role: "admin" (may do everything), "teammate" (may use models, not change the server) or
            "pool" (a teammate's rights without the per-key stream limit: another laptop's pool gateway).
        created: when it was made (ISO 8601 text, as the adapter wrote it).
    """

    name: str
    secret: str
    role: Role
    created: str


@dataclass(frozen=True)
class KeyRing:
    """Every key the gateway accepts, in the order they were made."""

    keys: tuple[ShareKey, ...] = ()

    def get(self, name: str) -> ShareKey | None:
        return next((key for key in self.keys if key.name == name), None)

    @property
    def admin(self) -> ShareKey | None:
        return self.get(ADMIN_NAME)

    def add(self, name: str, secret: str, created: str) -> KeyRing:
        """This ring with a new key; the name "admin" makes the admin key, "pool" the pool key."""
        check_name(name)
        if not _SECRET.match(secret):
            raise UsageError("a key secret must be gpl_ followed by at least 32 URL-safe characters")
        if self.get(name) is not None:
            raise UsageError(
                f"there is already a key named {name!r}",
                f"Revoke it first (`gpuless share --revoke {name}`), or choose another name.",
            )
        if any(key.secret == secret for key in self.keys):
            raise UsageError("that secret is already in use")
        role: Role = "admin" if name == ADMIN_NAME else "pool" if name == POOL_NAME else "teammate"
        return replace(self, keys=(*self.keys, ShareKey(name, secret, role, created)))

    def revoke(self, name: str) -> KeyRing:
        """This ring without the key ``name``."""
        if self.get(name) is None:
            known = ", ".join(key.name for key in self.keys) or "none"
            raise UsageError(f"no key named {name!r} (keys: {known})", "List them: `gpuless share --list`.")
        return replace(self, keys=tuple(key for key in self.keys if key.name != name))


def check_name(name: str) -> None:
    """Raise UsageError unless ``name`` can name a key (it is written into the nginx map)."""
    if not _NAME.match(name):
        raise UsageError(
            f"invalid key name {name!r}",
            "Use 1-32 characters: lowercase letters, digits, '_', '.', '-', starting with a letter or digit.",
        )


def to_json(ring: KeyRing) -> str:
    """The key file's text."""
    body = {
        "version": FILE_VERSION,
        "keys": [
            {"name": key.name, "secret": key.secret, "role": key.role, "created": key.created}
            for key in ring.keys
        ],
    }
    return json.dumps(body, indent=2) + "\n"


def from_json(text: str, where: str = "the key file") -> KeyRing:
    """Parse the key file; UsageError (naming ``where``) when it is not one this version wrote."""
    try:
        body: Any = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"{where} is not valid JSON: {error}") from None
    known = isinstance(body, dict) and body.get("version") == FILE_VERSION
    if not known or not isinstance(body.get("keys"), list):
        raise UsageError(f"{where} is not a gpuless key file (version {FILE_VERSION})")
    ring = KeyRing()
    for entry in body["keys"]:
        if not isinstance(entry, dict) or not all(isinstance(entry.get(f), str) for f in ("name", "secret")):
            raise UsageError(f"{where} has a malformed key entry")
        ring = ring.add(entry["name"], entry["secret"], str(entry.get("created", "")))
    return ring
