"""``gpuless models fetch``: a model from a teammate's share, verified, then imported as from a file.

The order keeps every failure harmless. The manifest comes first (a refused key is one line, and
nothing was written anywhere); the volume is looked at to fetch only the blobs it lacks, and the space
is checked there and in the staging folder. The blobs then come several at once into partial files in
the staging folder (``<cache>/fetch``, user-only), each continued where an earlier run stopped and
hashed against its digest; one whose bytes hash wrong is fetched once more from its first byte. Only
when every blob checked is anything copied, through the import path (``model_copy.import_checked``):
the volume gets the blobs, then the manifest, so the model appears whole or not at all. One fetch at
a time uses the staging folder: a second, from another terminal or the wizard, is told which holds it.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from toolkit.adapters import joined
from toolkit.adapters.docker.project_lock import exclusive
from toolkit.adapters.gateway.model_files import FetchStopped, ShareFiles
from toolkit.adapters.models.archive import FolderSource, Progress, hash_file
from toolkit.adapters.models.volume import ModelVolume
from toolkit.core.models.archive import ArchiveModel
from toolkit.core.models.fetch import REFETCHES, resume_point
from toolkit.core.models.layout import ModelRef, blob_path
from toolkit.core.models.manifest import Layer, parse_manifest
from toolkit.core.models.plan import RESERVE, ImportPlan, VolumeState, check_space, plan_import
from toolkit.core.target import check_target
from toolkit.core.units import format_bytes
from toolkit.errors import ModelStoreError, UsageError
from toolkit.services.model_copy import Target, import_checked
from toolkit.settings import Settings

#: Blobs fetched at once (one connection each).
CONNECTIONS = 4


@dataclass(frozen=True)
class FetchResult:
    """What a fetch did.

    Attributes:
        name: the model, as Ollama shows it.
        url: the share it came from.
        size: bytes of all the model's blobs.
        received: bytes of blob data received over the network by this run.
        resumed: digests of the blobs continued from a partial file an earlier run left.
        refetched: digests of the blobs whose bytes hashed wrong and were fetched again.
        seconds: how long the blobs took to come (and be hashed), the import not included.
        plan: the import that followed (blobs copied into the volume, blobs it already had).
    """

    name: str
    url: str
    size: int
    received: int
    resumed: tuple[str, ...]
    refetched: tuple[str, ...]
    seconds: float
    plan: ImportPlan


def share_for(settings: Settings, url: str | None, key: str | None) -> tuple[str, str, str | None]:
    """The share's URL, key and pinned certificate: those given, else the share ``gpuless join`` saved
    (its key and certificate are used only for that same server; None: the system's authorities)."""
    if url is None:
        saved = joined.load(settings)
        if saved is None:
            raise UsageError(
                "no share URL given and no share joined",
                "gpuless models fetch URL TAG --key KEY (or `gpuless join URL --key KEY` once).",
            )
        url = saved.url
    target = check_target(url, explicit=True, command="models fetch")  # typed by the user: may be the LAN
    key = (key or joined.key_for(target, settings) or "").strip()
    return target, key, joined.cert_for(target, settings)


def joined_url(settings: Settings) -> str | None:
    """The URL of the share ``gpuless join`` saved (its key is used for it), None when none was."""
    saved = joined.load(settings)
    return saved.url if saved is not None else None


def staging_dir(settings: Settings) -> Path:
    """Where blobs land while they are fetched: user-only (0700), kept between runs for resuming."""
    stage = settings.cache_dir / "fetch"
    (stage / "blobs").mkdir(parents=True, exist_ok=True, mode=0o700)
    stage.chmod(0o700)
    (stage / "blobs").chmod(0o700)
    return stage


class _Gate:
    """Counts the bytes received by every blob's download, reports progress, and stops them all
    (Ctrl-C, a failure, or ``stop_after`` bytes: the tests' deterministic cut line)."""

    def __init__(self, total: int, done: int, progress: Progress | None, stop_after: int | None) -> None:
        self.total, self.done, self.received = total, done, 0
        self.stop = threading.Event()
        self._progress = progress
        self._stop_after = stop_after
        self._lock = threading.Lock()

    def __call__(self, count: int) -> int:
        with self._lock:
            if self.stop.is_set():
                return 0
            allowed = count
            if self._stop_after is not None:
                allowed = max(0, min(count, self._stop_after - self.received))
            self.received += allowed
            self.done += allowed
            if allowed < count:
                self.stop.set()
            if self._progress:
                self._progress(self.done, self.total)
            return allowed

    def restart(self, count: int) -> None:
        """A blob of ``count`` bytes is fetched again from its first byte: its bytes count again."""
        with self._lock:
            self.done -= count


def _check_disk(stage: Path, needed: int) -> None:
    free = shutil.disk_usage(stage).free
    if free < needed + RESERVE:
        raise ModelStoreError(
            f"not enough space in {stage} to fetch the model: it needs {format_bytes(needed)} "
            f"(+ {format_bytes(RESERVE)} kept free), {format_bytes(free)} are free; nothing was fetched",
            "Free space on this disk (or set GPULESS_CACHE_DIR to a roomier one), then retry.",
        )


def _paths(stage: Path, layer: Layer) -> tuple[Path, Path]:
    """A blob's file in the staging folder once verified, and its partial file before."""
    final = stage / blob_path(layer.digest)
    return final, final.with_name(final.name + ".partial")


def _kept(stage: Path, layer: Layer) -> int:
    """Bytes of the blob an earlier run left that this run keeps."""
    final, partial = _paths(stage, layer)
    if final.is_file():
        return layer.size
    size = partial.stat().st_size if partial.is_file() else 0
    return resume_point(size, layer.size).offset


class _Blobs:
    """Fetches blobs into the staging folder and verifies them."""

    def __init__(self, share: ShareFiles, stage: Path, gate: _Gate) -> None:
        self.share, self.stage, self.gate = share, stage, gate
        self.resumed: list[str] = []
        self.refetched: list[str] = []

    def fetch(self, layer: Layer) -> None:
        final, partial = _paths(self.stage, layer)
        expected = layer.digest.removeprefix("sha256:")
        if final.is_file():  # an earlier run verified it, then stopped before the import
            with final.open("rb") as data:
                if hash_file(data)[0] == expected:
                    return
            final.rename(partial)  # changed since: start it again (resume_point sees its length)
        for attempt in range(1 + REFETCHES):
            kept = _kept(self.stage, layer)
            if kept and attempt == 0:
                self.resumed.append(layer.digest)
            actual = self.share.download(layer, partial, self.gate)
            if actual == expected:
                os.replace(partial, final)
                return
            partial.unlink()
            self.gate.restart(layer.size)
            self.refetched.append(layer.digest)
        raise ModelStoreError(
            f"blob {layer.digest[:19]} from {self.share.base} is damaged: its bytes hashed to "
            f"sha256:{actual[:12]}… {1 + REFETCHES} times; no model was added",
            "The share's copy is damaged: ask the teammate to pull the model again.",
        )

    def fetch_all(self, layers: tuple[Layer, ...], connections: int) -> None:
        """Every layer, ``connections`` at once (biggest first); the first failure stops the others."""
        ordered = sorted(layers, key=lambda layer: -layer.size)
        with ThreadPoolExecutor(max_workers=max(1, connections), thread_name_prefix="fetch") as pool:
            futures = [pool.submit(self.fetch, layer) for layer in ordered]
            try:
                done, _ = wait(futures, return_when=FIRST_EXCEPTION)
                for future in done:
                    if (error := future.exception()) is not None:
                        raise error
            except BaseException:
                self.gate.stop.set()  # the others end at their next chunk; their partials are kept
                raise


def _volume_state(where: Target) -> VolumeState:
    volume = ModelVolume(where.volume, where.image)
    return volume.inspect() if volume.exists() else VolumeState(None, {}, {})


def fetch_model(
    settings: Settings,
    where: Target,
    name: str,
    url: str | None = None,
    key: str | None = None,
    *,
    connections: int = CONNECTIONS,
    progress: Progress | None = None,
    copy_progress: Progress | None = None,
    stop_after: int | None = None,
) -> FetchResult:
    """Fetch ``name`` from the share at ``url`` (else the joined one) with ``key`` into the volume of
    ``where``. ``stop_after`` stops the transfer after that many bytes as a cut connection would
    (partial files kept; ModelStoreError); a later call resumes."""
    ref = ModelRef.parse(name)
    base, key, cafile = share_for(settings, url, key)
    share = ShareFiles(base, key, cafile=cafile)
    data = share.manifest(ref)
    manifest = parse_manifest(data, f"the manifest of {ref.short} from {base}")
    model = ArchiveModel(ref, manifest, data)
    state = _volume_state(where)
    plan = plan_import((model,), state)
    check_space(plan, state.available, where.volume)
    stage = staging_dir(settings)
    # one fetch at a time into the staging folder: two would write one blob's partial file at once, and
    # the first to finish would remove blobs the other is about to import
    with exclusive("the staging folder", stage, command="models fetch"):
        kept = sum(_kept(stage, layer) for layer in plan.copy)
        gate = _Gate(sum(layer.size for layer in plan.copy), kept, progress, stop_after)
        blobs = _Blobs(share, stage, gate)
        _check_disk(stage, gate.total - kept)
        started = time.monotonic()
        try:
            blobs.fetch_all(plan.copy, connections)
        except FetchStopped:
            raise ModelStoreError(
                f"the fetch of {ref.short} stopped after {format_bytes(gate.received)}; "
                "the partial files are kept and no model was added",
                "Run the same command again: it resumes where it stopped.",
            ) from None
        seconds = time.monotonic() - started
        done = import_checked(where, (model,), FolderSource(stage), copy_progress)
        for layer in plan.copy:  # in the volume now; partials of other models stay for their next run
            _paths(stage, layer)[0].unlink(missing_ok=True)
    return FetchResult(
        ref.short,
        base,
        manifest.size,
        gate.received,
        tuple(blobs.resumed),
        tuple(blobs.refetched),
        seconds,
        done,
    )
