"""Catalog TOML (``profiles/models/*.toml``, ``[[model]]`` tables) → a validated ``Catalog``.

A bad file fails here with one clear line (``ProfileError``) naming the model and key, instead of a
``KeyError`` deep inside an estimate. Pure: reading the files is ``toolkit.adapters.resources``' job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from toolkit.core.catalog.model import USE_CASES, Catalog, ModelSpec, QuantVariant
from toolkit.core.fields import optional, positive, required
from toolkit.errors import ProfileError


def _parse_variant(data: Any, params: int, context: str) -> QuantVariant:
    if not isinstance(data, Mapping):
        raise ProfileError(f"{context}: each variant must be a table")
    tag = required(data, "tag", str, context)
    quant = required(data, "quant", str, context)
    size = required(data, "size_bytes", int, f"{context} {tag}")
    positive(size, "size_bytes", f"{context} {tag}")
    return QuantVariant(
        tag=tag,
        quant=quant,
        size_bytes=size,
        size_verified=bool(optional(data, "size_verified", bool, context, False)),
        bits_per_weight=round(size * 8 / params, 2),
        note=optional(data, "note", str, context, ""),
        source=optional(data, "source", str, context, ""),
    )


def parse_model(data: Mapping[str, Any]) -> ModelSpec:
    """Validate one ``[[model]]`` table."""
    if not isinstance(data, Mapping):
        raise ProfileError("each [[model]] entry must be a table")
    name = required(data, "name", str, "model")
    ctx = f"model {name}"
    ints = {}
    for key in ("params", "layers", "heads", "kv_heads", "head_dim", "embedding_length", "context_length"):
        ints[key] = required(data, key, int, ctx)
        positive(ints[key], key, ctx)
    if ints["kv_heads"] > ints["heads"]:
        raise ProfileError(f"{ctx}: kv_heads ({ints['kv_heads']}) cannot exceed heads ({ints['heads']})")
    window = optional(data, "sliding_window", int, ctx, None)
    pattern = optional(data, "sliding_window_pattern", int, ctx, None)
    for key, value in (("sliding_window", window), ("sliding_window_pattern", pattern)):
        if value is not None:
            positive(value, key, ctx)
    good_at_raw = optional(data, "good_at", dict, ctx, {})
    good_at: list[tuple[str, int]] = []
    for use_case, score in good_at_raw.items():
        if use_case not in USE_CASES:
            raise ProfileError(
                f"{ctx}: good_at has unknown use case {use_case!r} (known: {', '.join(USE_CASES)})"
            )
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
            raise ProfileError(f"{ctx}: good_at.{use_case} must be an integer 0–10, not {score!r}")
        good_at.append((use_case, score))
    variants_raw = required(data, "variant", list, ctx)
    if not variants_raw:
        raise ProfileError(f"{ctx}: needs at least one [[model.variant]]")
    variants = tuple(_parse_variant(v, ints["params"], ctx) for v in variants_raw)
    default_tag = optional(data, "default_tag", str, ctx, variants[0].tag)
    if default_tag not in {v.tag for v in variants}:
        raise ProfileError(f"{ctx}: default_tag {default_tag!r} is not one of its variants")
    return ModelSpec(
        name=name,
        family=required(data, "family", str, ctx),
        architecture=required(data, "architecture", str, ctx),
        sliding_window=window,
        sliding_window_pattern=pattern,
        tied_embeddings=bool(optional(data, "tied_embeddings", bool, ctx, False)),
        good_at=tuple(good_at),
        variants=variants,
        default_tag=default_tag,
        test_model=bool(optional(data, "test_model", bool, ctx, False)),
        latest=bool(optional(data, "latest", bool, ctx, False)),
        thinking=bool(optional(data, "thinking", bool, ctx, False)),
        notes=optional(data, "notes", str, ctx, ""),
        source=optional(data, "source", str, ctx, ""),
        **ints,
    )


def parse_catalog(data: Mapping[str, Any]) -> Catalog:
    """Validate a catalog: ``{"model": [ {model table}, ... ]}`` (TOML ``[[model]]`` entries)."""
    models_raw = data.get("model")
    if not isinstance(models_raw, list) or not models_raw:
        raise ProfileError("catalog has no [[model]] entries")
    models = tuple(parse_model(m) for m in models_raw)
    seen: set[str] = set()
    for model in models:
        for key in (model.name, *(v.tag for v in model.variants)):
            if key.lower() in seen and key != model.default_tag:
                raise ProfileError(f"catalog lists {key!r} twice")
            seen.add(key.lower())
    return Catalog(models=models)


__all__ = ["parse_catalog", "parse_model"]
