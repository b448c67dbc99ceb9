"""Ollama's model store, as laid out under OLLAMA_MODELS: names, digests and the paths they map to.

A model ``namespace/model:tag`` pulled from ``host`` has its manifest at
``manifests/<host>/<namespace>/<model>/<tag>``; every layer it names is ``blobs/sha256-<hex>``, the file's
own sha256. Every path gpuless reads from an archive or writes into a volume is built here from parts
that passed these patterns, so no name can climb out of the store (``..``, ``/``, a leading dot).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from toolkit.errors import UsageError

#: The registry host and namespace Ollama assumes when a name has none.
DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"
#: A layer digest as manifests write it, and the blob file it names.
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
BLOB_NAME = re.compile(r"sha256-[0-9a-f]{64}")
#: One part of a name as a directory or file name: no separator, no leading dot, no "..".
PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")


def _part(value: str, what: str, text: str) -> str:
    if not PART.fullmatch(value) or ".." in value:
        raise UsageError(
            f"{text!r} is not a model name gpuless can copy ({what} {value!r})",
            "Write it as Ollama does, e.g. qwen2.5:1.5b or namespace/model:tag.",
        )
    return value


@dataclass(frozen=True)
class ModelRef:
    """A model's full name: host, namespace, model and tag (each one safe as a path part)."""

    host: str
    namespace: str
    model: str
    tag: str

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        """``[host/][namespace/]model[:tag]`` as Ollama reads it; UsageError for anything else."""
        stripped = text.strip()
        name, _, tag = stripped.rpartition(":") if ":" in stripped.rsplit("/", 1)[-1] else (stripped, "", "")
        parts = name.split("/")
        if len(parts) > 3 or not name:
            raise UsageError(f"{text!r} is not a model name", "Write it like qwen2.5:1.5b.")
        host = parts[0] if len(parts) == 3 else DEFAULT_HOST
        namespace = parts[-2] if len(parts) >= 2 else DEFAULT_NAMESPACE
        return cls(
            _part(host, "host", text),
            _part(namespace, "namespace", text),
            _part(parts[-1], "model", text),
            _part(tag or DEFAULT_TAG, "tag", text),
        )

    @classmethod
    def from_manifest_path(cls, path: str) -> ModelRef | None:
        """The name a ``manifests/<host>/<namespace>/<model>/<tag>`` path stands for; None for any other
        path (Ollama skips such files too)."""
        parts = path.split("/")
        if len(parts) != 5 or parts[0] != "manifests":
            return None
        if not all(PART.fullmatch(p) and ".." not in p for p in parts[1:]):
            return None
        return cls(*parts[1:])

    @property
    def manifest_path(self) -> str:
        """Where the manifest lives, relative to the store."""
        return f"manifests/{self.host}/{self.namespace}/{self.model}/{self.tag}"

    @property
    def short(self) -> str:
        """The name as Ollama shows it: ``model:tag``, with namespace and host only when not the default."""
        prefix = ""
        if self.host != DEFAULT_HOST:
            prefix = f"{self.host}/{self.namespace}/"
        elif self.namespace != DEFAULT_NAMESPACE:
            prefix = f"{self.namespace}/"
        return f"{prefix}{self.model}:{self.tag}"

    def same_as(self, other: ModelRef) -> bool:
        """Ollama matches names without regard to case."""
        return self.manifest_path.casefold() == other.manifest_path.casefold()


def blob_path(digest: str) -> str:
    """``sha256:<hex>`` → ``blobs/sha256-<hex>``; UsageError for a digest of any other shape."""
    if not DIGEST.fullmatch(digest):
        raise UsageError(f"{digest[:80]!r} is not a sha256 digest")
    return "blobs/" + digest.replace(":", "-")


def digest_of_blob(path: str) -> str | None:
    """``blobs/sha256-<hex>`` → ``sha256:<hex>``; None for any other path."""
    directory, _, name = path.partition("/")
    if directory != "blobs" or not BLOB_NAME.fullmatch(name):
        return None
    return name.replace("-", ":", 1)
