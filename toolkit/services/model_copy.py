"""``gpuless models``: list, export and import the models of a volume, without a registry.

Which volume and which helper image: those of the compose file (``-f``, else ./compose.yaml when gpuless
wrote it), else the configured ones (``GPULESS_VOLUME_NAME``, ``GPULESS_IMAGE``). An import checks the
whole archive first (``adapters.model_archive.check_archive``), then looks into the volume, plans the
copy (``core.models.plan``) and checks the space, and only then writes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO

from toolkit.adapters.models.archive import (
    ByteCount,
    Entry,
    Progress,
    Source,
    check_archive,
    constant,
    hashed_chunks,
    tar_stream,
)
from toolkit.adapters.models.volume import BlobReader, ModelVolume, new_stage
from toolkit.core.models.archive import SUMS, ArchiveModel, render_sums
from toolkit.core.models.layout import ModelRef, blob_path
from toolkit.core.models.manifest import Manifest
from toolkit.core.models.plan import (
    ImportPlan,
    StoredModel,
    VolumeState,
    check_space,
    find_model,
    plan_import,
    stored_models,
)
from toolkit.errors import ModelArchiveError, ModelStoreError, UsageError
from toolkit.settings import Settings


@dataclass(frozen=True)
class Target:
    """The models volume a command acts on and the local image its helper container is made from."""

    volume: str
    image: str


def target(compose_path: Path | None, settings: Settings, volume: str | None, image: str | None) -> Target:
    """Options first, then the compose file's service, then the settings."""
    from toolkit.adapters.compose_file import read_compose_file

    found = (settings.volume_name, settings.image)
    path = compose_path or (Path("compose.yaml") if Path("compose.yaml").is_file() else None)
    if path is not None:
        try:
            spec = read_compose_file(path).spec
            found = (spec.volume_name, spec.image)
        except UsageError:
            if compose_path is not None:
                raise
    return Target(volume or found[0], image or found[1])


def list_models(where: Target) -> tuple[VolumeState, tuple[StoredModel, ...]]:
    state = ModelVolume(where.volume, where.image).inspect()
    return state, stored_models(state)


def has_model(where: Target, name: str) -> bool:
    """Whether the volume holds ``name`` whole (its manifest and every blob); False with no volume."""
    wanted = ModelRef.parse(name)
    volume = ModelVolume(where.volume, where.image)
    if not volume.exists():
        return False
    rows = stored_models(volume.inspect())
    return any(ModelRef.parse(row.name).same_as(wanted) and not row.missing for row in rows)


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: the model, the files (path, sha256 hex) and the bytes of all blobs."""

    name: str
    files: tuple[tuple[str, str], ...]
    size: int


def _export_entries(
    reader: BlobReader, ref: ModelRef, manifest: Manifest, data: bytes, progress: Progress | None
) -> tuple[list[Entry], ExportResult]:
    files = [(ref.manifest_path, hashlib.sha256(data).hexdigest())]
    files += [(blob_path(layer.digest), layer.digest.removeprefix("sha256:")) for layer in manifest.blobs]
    sums = render_sums(files)
    step = ByteCount(manifest.size, progress)

    def blob(path: str, expected: str) -> Iterator[bytes]:
        def damaged(actual: str) -> Exception:
            return ModelStoreError(
                f"{path} in the volume is damaged (its bytes hash to sha256:{actual[:12]}…); "
                "the export is incomplete",
                f"Pull {ref.short} again, then export it.",
            )

        with reader.open(path) as (stream, _size):
            yield from hashed_chunks(stream, expected, step, damaged)

    entries: list[Entry] = [(SUMS, len(sums), constant(sums)), (ref.manifest_path, len(data), constant(data))]
    for layer in manifest.blobs:
        path = blob_path(layer.digest)
        entries.append((path, layer.size, partial(blob, path, layer.digest.removeprefix("sha256:"))))
    return entries, ExportResult(ref.short, tuple(files), step.total)


def export_model(
    where: Target, name: str, output: Path | None, stdout: IO[bytes] | None, progress: Progress | None = None
) -> ExportResult:
    """Write ``name``'s manifest and blobs as a tar to ``stdout``, or to ``output`` (a ``.tar`` file, else
    a folder). A file or folder appears under its name only once complete (written as ``.partial``)."""
    ModelRef.parse(name)  # a malformed name is bad input before the engine is asked anything
    volume = ModelVolume(where.volume, where.image)
    state = volume.inspect()
    ref, manifest, data = find_model(state, name)
    if output is not None and output.exists():
        raise UsageError(f"{output} already exists", "Name a new file or folder, or remove it first.")
    with volume.reader() as reader:
        entries, result = _export_entries(reader, ref, manifest, data, progress)
        if stdout is not None:
            for chunk in tar_stream(entries):
                stdout.write(chunk)
            stdout.flush()
            return result
        assert output is not None
        partial = output.with_name(output.name + ".partial")
        try:
            if output.suffix == ".tar":
                with partial.open("wb") as file:
                    for chunk in tar_stream(entries):
                        file.write(chunk)
                    file.flush()
                    os.fsync(file.fileno())
            else:
                _write_folder(partial, entries)
            partial.rename(output)
        except OSError as error:
            _remove(partial)
            raise ModelStoreError(
                f"cannot write {output}: {error.strerror or error}; nothing was left behind",
                "Check the folder exists, is writable and has room for the model.",
            ) from None
        except BaseException:
            _remove(partial)
            raise
    return result


def _write_folder(folder: Path, entries: list[Entry]) -> None:
    for path, _size, chunks in entries:
        target_file = folder / path
        target_file.parent.mkdir(parents=True, exist_ok=True)
        with target_file.open("wb") as file:
            for chunk in chunks():
                file.write(chunk)


def _remove(path: Path) -> None:
    import shutil

    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def import_models(
    where: Target, path: Path, progress: Progress | None = None, verify_progress: Progress | None = None
) -> ImportPlan:
    """Check the archive at ``path`` whole, then copy the blobs the volume lacks and the manifests."""
    try:
        checked = check_archive(path, verify_progress)
    except OSError as error:
        raise ModelArchiveError(f"cannot read {path}: {error.strerror or error}") from None
    return import_checked(where, checked.models, checked.source, progress)


def import_checked(
    where: Target, models: tuple[ArchiveModel, ...], source: Source, progress: Progress | None = None
) -> ImportPlan:
    """Copy the blobs of ``models`` the volume lacks from ``source`` (whose files were checked against
    their digests), then the manifests; the volume is created when missing (and removed again if the
    copy fails). ``source`` may lack blobs the volume already has (a fetch brings only the others)."""
    volume = ModelVolume(where.volume, where.image)
    created = volume.ensure()
    try:
        state = volume.inspect()
        plan = plan_import(models, state)
        held = {member.path for member in source.members()}
        if lacking := [layer.digest for layer in plan.copy if blob_path(layer.digest) not in held]:
            raise ModelStoreError(
                f"blob {lacking[0][:19]} left volume {where.volume} while the model was fetched; "
                "no model was added",
                "Run the same command again: it fetches what the volume now lacks.",
            )
        check_space(plan, state.available, where.volume)
        _upload(volume, source, plan, progress)
    except BaseException:
        if created:  # a volume this import made for nothing is not left behind
            volume.remove_quietly()
        raise
    return plan


def _upload(volume: ModelVolume, source: Source, plan: ImportPlan, progress: Progress | None) -> None:
    """Stream the blobs ``plan`` copies and the manifests into a staging folder of the volume (each blob
    hashed again on the way), then let the helper move them into the store, manifests last."""
    step = ByteCount(plan.bytes_to_copy, progress)

    def staged(layer_path: str, expected: str) -> Iterator[bytes]:
        def changed(actual: str) -> Exception:
            return ModelStoreError(f"{layer_path} changed while it was copied; no model was added")

        with source.open(layer_path) as data:
            yield from hashed_chunks(data, expected, step, changed)

    stage = new_stage()
    files = [(blob_path(layer.digest), layer.digest.removeprefix("sha256:")) for layer in plan.copy]
    entries: list[Entry] = [
        (f"{stage}/{p}", layer.size, partial(staged, p, h))
        for (p, h), layer in zip(files, plan.copy, strict=True)
    ]
    for model in plan.models:
        files.append((model.ref.manifest_path, hashlib.sha256(model.data).hexdigest()))
        entries.append((f"{stage}/{model.ref.manifest_path}", len(model.data), constant(model.data)))
    sums = render_sums(files)
    entries.append((f"{stage}/{SUMS}", len(sums), constant(sums)))
    volume.write(stage, tar_stream(entries), timeout=120 + step.total / 20e6)
