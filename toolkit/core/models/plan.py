"""What a models volume holds, and what an import must copy into it (and whether it fits).

An import copies only the blobs the volume lacks (a blob of the right name and size is the same file:
its name is its sha256, and Ollama checked it when it pulled it), then writes the manifests. The space it
needs is those blobs plus the manifests, and ``RESERVE`` is left free so the volume is not filled to the
last byte while the server runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from toolkit.core.models.archive import ArchiveModel
from toolkit.core.models.layout import ModelRef, blob_path
from toolkit.core.models.manifest import Layer, Manifest, parse_manifest
from toolkit.core.units import MIB, format_bytes
from toolkit.errors import ModelArchiveError, ModelStoreError

#: Bytes an import leaves free on the volume's filesystem.
RESERVE = 64 * MIB
SERVED_TAG_SUFFIX = "gpuless"


@dataclass(frozen=True)
class VolumeState:
    """What a look into the volume found.

    Attributes:
        available: bytes free on the volume's filesystem for its user (``df``), None when unknown.
        blobs: ``blobs/sha256-<hex>`` → size in bytes, for every blob file present.
        manifests: ``manifests/<host>/<namespace>/<model>/<tag>`` → the file's bytes.
    """

    available: int | None
    blobs: Mapping[str, int]
    manifests: Mapping[str, bytes]


@dataclass(frozen=True)
class StoredModel:
    """One model in the volume: its name, size, manifest digest (as ``/api/tags``), weights digest,
    the blobs it lacks, the served ``-gpuless`` models made from its weights, and the model a served
    one was made from."""

    name: str
    size: int
    digest: str
    model_digest: str | None
    missing: tuple[str, ...]
    served_as: tuple[str, ...]
    derives_from: str | None


@dataclass(frozen=True)
class ImportPlan:
    """What an import does: the blobs to copy and those already there, the bytes to copy and the names
    of models it replaces (a manifest of that name with other content)."""

    models: tuple[ArchiveModel, ...]
    copy: tuple[Layer, ...]
    present: tuple[Layer, ...]
    replaces: tuple[str, ...]

    @property
    def bytes_to_copy(self) -> int:
        return sum(layer.size for layer in self.copy) + sum(len(model.data) for model in self.models)


def _is_served(ref: ModelRef) -> bool:
    return ref.tag == SERVED_TAG_SUFFIX or ref.tag.endswith("-" + SERVED_TAG_SUFFIX)


def stored_models(state: VolumeState) -> tuple[StoredModel, ...]:
    """The volume's models by name; a manifest that does not parse is passed over (as Ollama does)."""
    parsed: list[tuple[ModelRef, Manifest]] = []
    for path, data in sorted(state.manifests.items()):
        ref = ModelRef.from_manifest_path(path)
        if ref is None:
            continue
        try:
            parsed.append((ref, parse_manifest(data, path)))
        except ModelArchiveError:
            continue
    rows: list[StoredModel] = []
    for ref, manifest in parsed:
        weights = manifest.model_digest
        same = [other for other, m in parsed if other != ref and weights and m.model_digest == weights]
        served = tuple(other.short for other in same if _is_served(other))
        base = (
            next((other.short for other in same if not _is_served(other)), None) if _is_served(ref) else None
        )
        missing = tuple(
            layer.digest for layer in manifest.blobs if state.blobs.get(blob_path(layer.digest)) != layer.size
        )
        rows.append(
            StoredModel(
                ref.short,
                manifest.size,
                manifest.digest,
                weights,
                missing,
                () if _is_served(ref) else served,
                base,
            )
        )
    return tuple(rows)


def find_model(state: VolumeState, name: str) -> tuple[ModelRef, Manifest, bytes]:
    """The manifest of ``name`` in the volume (names match without regard to case, as in Ollama)."""
    wanted = ModelRef.parse(name)
    for path, data in state.manifests.items():
        ref = ModelRef.from_manifest_path(path)
        if ref is not None and ref.same_as(wanted):
            return ref, parse_manifest(data, path), data
    raise ModelStoreError(
        f"model {wanted.short} is not in the volume",
        "See what is there with `gpuless models list`, or pull it first.",
    )


def plan_import(models: tuple[ArchiveModel, ...], state: VolumeState) -> ImportPlan:
    """The blobs ``models`` need that the volume lacks (absent, or of another size: a partial file)."""
    copy: dict[str, Layer] = {}
    present: dict[str, Layer] = {}
    for model in models:
        for layer in model.manifest.blobs:
            if state.blobs.get(blob_path(layer.digest)) == layer.size:
                present[layer.digest] = layer
            else:
                copy[layer.digest] = layer
    replaces = tuple(
        model.ref.short
        for model in models
        if model.ref.manifest_path in state.manifests
        and state.manifests[model.ref.manifest_path] != model.data
    )
    return ImportPlan(models, tuple(copy.values()), tuple(present.values()), replaces)


def check_space(plan: ImportPlan, available: int | None, volume: str) -> None:
    """ModelStoreError when the copy would leave less than ``RESERVE`` free on the volume's filesystem."""
    if available is None:
        return
    needed = plan.bytes_to_copy + RESERVE
    if plan.copy and available < needed:
        raise ModelStoreError(
            f"not enough space for the copy: it needs {format_bytes(plan.bytes_to_copy)} "
            f"(+ {format_bytes(RESERVE)} kept free), the volume {volume} has {format_bytes(available)} free; "
            "nothing was written",
            "Free space on the Docker engine's disk (`docker system df`), then retry.",
        )
