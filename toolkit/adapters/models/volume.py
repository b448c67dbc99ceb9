"""The models volume, read and written through the Docker SDK by a short-lived helper container.

No root on the host and no path to the volume's files is needed (Docker Desktop keeps them inside its
VM): the helper is created from an image already present (the server's own image; nothing is pulled),
mounts the volume where the server does, has no network, and is removed by id when the call ends.
Files come out with the engine's archive API (``get_archive``) and go in with ``put_archive`` into a
staging folder; the helper's script (``core.models.helper.FINALIZE``) then moves them into the store,
manifests last.
"""

from __future__ import annotations

import contextlib
import io
import tarfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any

import docker
import docker.errors

from toolkit.adapters.docker.engine import ENGINE_ERRORS, connect
from toolkit.adapters.docker.errors import translate
from toolkit.core.compose.spec import LABEL_MANAGED, MODELS_PATH
from toolkit.core.models.helper import CLEANUP, FINALIZE, INSPECT, STAGE_PREFIX, STORE, parse_inspect
from toolkit.core.models.manifest import MAX_MANIFEST_BYTES
from toolkit.core.models.plan import VolumeState
from toolkit.errors import ImageError, ModelStoreError

#: Label on every helper container (so a leftover one can be recognised).
HELPER_LABEL = "gpuless.helper"


class ChunkReader(io.RawIOBase):
    """A readable file over an iterator of byte chunks (what docker-py's ``get_archive`` streams)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buffer = chunk
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


class ModelVolume:
    """One models volume, reached through helper containers made from ``image``."""

    def __init__(self, volume: str, image: str, client: docker.DockerClient | None = None) -> None:
        self.volume = volume
        self.image = image
        self.client = client or connect()

    def exists(self) -> bool:
        with translate(f"looking up volume {self.volume}"):
            try:
                self.client.api.inspect_volume(self.volume)
            except docker.errors.NotFound:
                return False
        return True

    def ensure(self) -> bool:
        """Create the volume (labelled as gpuless's, so ``down --volumes`` may remove it) when it does not
        exist; True when this call created it."""
        if self.exists():
            return False
        with translate(f"creating volume {self.volume}"):
            self.client.api.create_volume(self.volume, labels={LABEL_MANAGED: "true"})
        return True

    def remove_quietly(self) -> None:
        """Remove the volume (one this run created and left empty); the engine refuses one in use."""
        with contextlib.suppress(*ENGINE_ERRORS):
            self.client.api.remove_volume(self.volume, force=False)

    def require(self) -> None:
        if not self.exists():
            raise ModelStoreError(
                f"volume {self.volume} does not exist: no models here",
                "Start the server once (`gpuless up`), or name the volume with --volume.",
            )

    @contextmanager
    def _helper(self, script: str, *, writable: bool, stage: str = "") -> Iterator[Any]:
        with translate(f"looking up image {self.image}"):
            try:
                self.client.images.get(self.image)
            except docker.errors.ImageNotFound:
                raise ImageError(
                    f"image {self.image} is not present; the helper that reads the volume uses it and "
                    "pulls nothing",
                    f"Run `docker pull {self.image}` (or `gpuless up` once) while online, or pass --image.",
                ) from None
        with translate(f"creating a helper container for volume {self.volume}"):
            container = self.client.containers.create(
                self.image,
                entrypoint=["sh", "-c", script],
                environment={"STAGE": stage},
                network_mode="none",
                labels={HELPER_LABEL: "models"},
                volumes={self.volume: {"bind": MODELS_PATH, "mode": "rw" if writable else "ro"}},
            )
        try:
            yield container
        finally:
            with contextlib.suppress(*ENGINE_ERRORS):  # the engine went away: nothing more to do from here
                container.remove(force=True)

    def _run(self, container: Any, timeout: float) -> tuple[int, str]:
        with translate(f"running the helper container on volume {self.volume}"):
            container.start()
            status = container.wait(timeout=timeout)
            output = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
        return int(status.get("StatusCode", 1)), output

    def inspect(self) -> VolumeState:
        """Free space, blob sizes and manifests of the volume (which must exist)."""
        self.require()
        with self._helper(INSPECT, writable=False) as container:
            code, output = self._run(container, timeout=120)
            if code != 0:
                raise ModelStoreError(f"could not read volume {self.volume}: {_last_line(output)}")
            available, blobs = parse_inspect(output)
            manifests = self._manifests(container)
        return VolumeState(available, blobs, manifests)

    def _manifests(self, container: Any) -> dict[str, bytes]:
        with translate(f"reading the manifests of volume {self.volume}"):
            try:
                stream, _ = container.get_archive(f"{STORE}/manifests")
            except docker.errors.NotFound:
                return {}
            found: dict[str, bytes] = {}
            with tarfile.open(fileobj=ChunkReader(iter(stream)), mode="r|") as tar:
                for member in tar:
                    if member.isfile() and member.size <= MAX_MANIFEST_BYTES:
                        data = tar.extractfile(member)
                        found[member.name] = data.read() if data else b""
        return found

    @contextmanager
    def reader(self) -> Iterator[BlobReader]:
        """Opens blobs for reading; one helper (never started, volume read-only) serves them all."""
        self.require()
        with self._helper("exit 0", writable=False) as container:
            yield BlobReader(container, self.volume)

    def write(self, stage: str, tar_chunks: Iterable[bytes], timeout: float) -> None:
        """Upload a tar whose entries sit under ``stage``/ into the volume's root, then let FINALIZE check
        and move them into the store; on any failure the staging folder is removed and the store's
        manifests are as they were."""
        if not stage.startswith(STAGE_PREFIX):
            raise ValueError(stage)
        with self._helper(FINALIZE, writable=True, stage=stage) as container:
            try:
                with translate(f"copying into volume {self.volume}"):
                    container.put_archive(MODELS_PATH, tar_chunks)
                code, output = self._run(container, timeout=timeout)
            except BaseException:
                self._cleanup(stage)
                raise
        if code != 0:
            self._cleanup(stage)
            raise ModelStoreError(
                f"the copy into volume {self.volume} failed: {_last_line(output)}; no model was added",
                "Check the engine's free disk space (`docker system df`) and retry.",
            )

    def _cleanup(self, stage: str) -> None:
        try:
            with self._helper(CLEANUP, writable=True, stage=stage) as container:
                self._run(container, timeout=120)
        except Exception:  # cleaning up after a failure must not hide that failure
            pass


def new_stage() -> str:
    """A fresh staging folder name for one import."""
    return STAGE_PREFIX + uuid.uuid4().hex[:12]


class BlobReader:
    """Streams single files out of the volume through the engine's archive API."""

    def __init__(self, container: Any, volume: str) -> None:
        self._container = container
        self._volume = volume

    @contextmanager
    def open(self, path: str) -> Iterator[tuple[IO[bytes], int]]:
        """``path`` (relative to the store) as a readable file and its size."""
        with translate(f"reading {path} from volume {self._volume}"):
            try:
                stream, _ = self._container.get_archive(f"{STORE}/{path}")
            except docker.errors.NotFound:
                raise ModelStoreError(
                    f"{path} is missing from volume {self._volume}: the model there is incomplete",
                    "Pull the model again, then export it.",
                ) from None
            with tarfile.open(fileobj=ChunkReader(iter(stream)), mode="r|") as tar:
                member = tar.next()
                data = tar.extractfile(member) if member is not None and member.isfile() else None
                if member is None or data is None:
                    raise ModelStoreError(f"{path} in volume {self._volume} is not a regular file")
                yield data, member.size


def _last_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no output"
