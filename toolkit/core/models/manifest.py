"""An Ollama manifest read strictly: the config blob and the layers, each a sha256 digest and a size.

Ollama writes Docker's image manifest v2 (``schemaVersion`` 2, ``config``, ``layers``); the model's
weights are the layer of media type ``application/vnd.ollama.image.model``. A manifest that is not
JSON, names a digest of another shape or gives a size that is not a byte count is refused: every blob
path is built from these digests (``layout.blob_path``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from toolkit.core.models.layout import DIGEST
from toolkit.errors import ModelArchiveError

MEDIA_MODEL = "application/vnd.ollama.image.model"
#: No real manifest comes near this (a few hundred bytes per layer); a bigger file is not one.
MAX_MANIFEST_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Layer:
    """One blob a manifest names: its media type, ``sha256:<hex>`` digest and size in bytes."""

    media_type: str
    digest: str
    size: int


@dataclass(frozen=True)
class Manifest:
    """A parsed manifest: the config blob, the layers, and the sha256 of the file's bytes (Ollama's
    ``/api/tags`` digest)."""

    config: Layer
    layers: tuple[Layer, ...]
    digest: str

    @property
    def blobs(self) -> tuple[Layer, ...]:
        """Every blob the model needs, each digest once (config first)."""
        seen: dict[str, Layer] = {}
        for layer in (self.config, *self.layers):
            seen.setdefault(layer.digest, layer)
        return tuple(seen.values())

    @property
    def size(self) -> int:
        """Bytes of all its blobs (what Ollama reports as the model's size)."""
        return sum(layer.size for layer in self.blobs)

    @property
    def model_digest(self) -> str | None:
        """The digest of the weights layer; None when there is none."""
        return next((layer.digest for layer in self.layers if layer.media_type == MEDIA_MODEL), None)


def _layer(value: Any, where: str) -> Layer:
    if not isinstance(value, dict):
        raise ModelArchiveError(f"{where}: a layer is not an object")
    digest, size, media = value.get("digest"), value.get("size"), value.get("mediaType", "")
    if not isinstance(digest, str) or not DIGEST.fullmatch(digest):
        raise ModelArchiveError(f"{where}: a layer's digest {str(digest)[:80]!r} is not sha256:<64 hex>")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ModelArchiveError(f"{where}: layer {digest[:19]} has no valid size")
    return Layer(str(media), digest, size)


def parse_manifest(data: bytes, where: str) -> Manifest:
    """A manifest file's bytes → Manifest; ModelArchiveError naming ``where`` when it is not one."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise ModelArchiveError(f"{where} is {len(data)} bytes: too big for a manifest")
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        raise ModelArchiveError(f"{where} is not a manifest (not JSON)") from None
    if not isinstance(document, dict) or document.get("schemaVersion") != 2:
        raise ModelArchiveError(f"{where} is not an Ollama manifest (schemaVersion is not 2)")
    layers = document.get("layers")
    if not isinstance(layers, list) or not layers:
        raise ModelArchiveError(f"{where} names no layers")
    return Manifest(
        config=_layer(document.get("config"), where),
        layers=tuple(_layer(layer, where) for layer in layers),
        digest=hashlib.sha256(data).hexdigest(),
    )
