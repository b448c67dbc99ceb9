"""What scripts/bench_estimator.py (CPU) and scripts/fit_metal.py (Apple GPU) share about published points.

Both read a TOML file of cited measurements whose ``[model.NAME]`` tables give each model's geometry and
whose ``[[point]]`` entries name one of them; both build the same ``ModelSpec`` and ``QuantVariant`` from
that geometry and split the points into a fit half and a held-out half by a CRC32 of each point's id (so
adding a point never reshuffles the others).
"""

from __future__ import annotations

import tomllib
import zlib
from pathlib import Path
from typing import Any

from toolkit.core.catalog.model import ModelSpec, QuantVariant


def read(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The file's model geometries by name, and its points."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return data["model"], data["point"]


def model_spec(name: str, geo: dict[str, Any]) -> ModelSpec:
    """The model a point names, from its geometry (``tied_embeddings`` when the file gives it)."""
    tied = {"tied_embeddings": geo["tied_embeddings"]} if "tied_embeddings" in geo else {}
    return ModelSpec(
        name=name,
        family=geo["family"],
        architecture="llama",
        params=geo["params"],
        layers=geo["layers"],
        heads=geo["heads"],
        kv_heads=geo["kv_heads"],
        head_dim=geo["head_dim"],
        embedding_length=geo["hidden"],
        context_length=131072,
        **tied,
    )


def variant(tag: str, quant: str, size_bytes: int, params: int) -> QuantVariant:
    """A quantised file of ``size_bytes`` for a model of ``params`` weights."""
    return QuantVariant(
        tag=tag,
        quant=quant,
        size_bytes=size_bytes,
        size_verified=True,
        bits_per_weight=size_bytes * 8 / params,
    )


def held_out(point_id: str) -> bool:
    """Whether the point belongs to the held-out half."""
    return zlib.crc32(point_id.encode()) % 2 == 1
