"""The pool file and the running gateway's settings, beside the key file (private, written atomically).

``pool.json`` holds the pool key (a secret) and the members; ``gateway.json`` the listen address and the
per-key stream limit the gateway was started with, so ``pool add`` can render the same nginx.conf with
more members and reload it, instead of guessing what ``gpuless share --listen`` was given.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.adapters.gateway.keystore import write_private
from toolkit.core.pool.members import Pool, from_json, to_json
from toolkit.errors import GpulessError, UsageError

POOL_FILE = "pool.json"
GATEWAY_FILE = "gateway.json"


@dataclass(frozen=True)
class GatewaySettings:
    """What ``gpuless share --listen`` started the gateway with."""

    listen_host: str
    listen_port: int
    max_streams: int


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise GpulessError(f"cannot read {path}: {error.strerror}") from None


class PoolStore:
    """``<data dir>/share/pool.json`` and ``gateway.json``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @property
    def path(self) -> Path:
        return self.directory / POOL_FILE

    def load(self) -> Pool:
        """The pool now (an empty one when there is no file)."""
        text = _read(self.path)
        return Pool() if text is None else from_json(text, str(self.path))

    def save(self, pool: Pool) -> None:
        if pool.members:
            write_private(self.path, to_json(pool))
        else:
            self.path.unlink(missing_ok=True)

    def load_gateway(self) -> GatewaySettings | None:
        """The running gateway's settings, None when ``gpuless share --listen`` has not written them."""
        text = _read(self.directory / GATEWAY_FILE)
        if text is None:
            return None
        try:
            body: Any = json.loads(text)
            host, port, streams = body["listen_host"], body["listen_port"], body["max_streams"]
            return GatewaySettings(str(host), int(port), int(streams))
        except (ValueError, KeyError, TypeError):
            raise UsageError(
                f"{self.directory / GATEWAY_FILE} is damaged",
                "Start the gateway again: `gpuless share --stop`, then `gpuless share --listen ADDR:PORT`.",
            ) from None

    def save_gateway(self, settings: GatewaySettings) -> None:
        body = {
            "listen_host": settings.listen_host,
            "listen_port": settings.listen_port,
            "max_streams": settings.max_streams,
        }
        write_private(self.directory / GATEWAY_FILE, json.dumps(body, indent=2) + "\n")
