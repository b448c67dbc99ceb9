"""Specs for models the catalog does not describe as they are served.

Two cases: a tag the catalog does not know at all, estimated from its name alone (``parse_tag_name``,
``spec_from_tag``), and a catalog tag a server holds as another file than the public one
(``served_variant``). Both keep estimates possible and say in their notes how much is guessed.
"""

from __future__ import annotations

import math
import re

from toolkit.core.catalog.model import QUANT_BITS, Catalog, ModelSpec, QuantVariant
from toolkit.errors import ProfileError, UnknownModelError

#: Relative size difference above which a server's file counts as another file than the catalog's tag.
SERVED_SIZE_TOLERANCE = 0.02


def served_variant(
    spec: ModelSpec, variant: QuantVariant, *, size_bytes: int | None, quant: str | None
) -> QuantVariant:
    """``variant`` as a server really has it: the catalog describes the public tag, but a server may
    hold another file under the same name (gpuless's test server serves its own Q4_1 / Q4_K_M files
    as smollm2:135m / gemma3:270m, whose public tags are F16 / Q8_0). When the server's size
    (``/api/tags``) differs by more than ``SERVED_SIZE_TOLERANCE`` or its quantisation
    (``/api/show`` ``details.quantization_level``) differs, the size and quantisation are the
    server's; the geometry stays the catalog's. Otherwise ``variant`` unchanged."""
    served_quant = (quant or "").strip().upper().replace("FP16", "F16")
    quant_differs = bool(served_quant) and served_quant != variant.quant.upper()
    size_differs = (
        size_bytes is not None
        and size_bytes > 0
        and abs(size_bytes - variant.size_bytes) > SERVED_SIZE_TOLERANCE * variant.size_bytes
    )
    if not (quant_differs or size_differs):
        return variant
    known_size = size_bytes is not None and size_bytes > 0
    if known_size:
        assert size_bytes is not None
        size = size_bytes
    else:  # only the quantisation is known: the size from its nominal bits per weight
        size = int(spec.params * QUANT_BITS.get(served_quant, 4.85) / 8)
    return QuantVariant(
        tag=variant.tag,
        quant=served_quant or variant.quant,
        size_bytes=size,
        size_verified=known_size,
        bits_per_weight=round(size * 8 / spec.params, 2),
        note="as the server has it (not the catalog's public file)",
        source="the server's /api/tags size and /api/show quantization_level",
    )


#: Quantisation spellings in Ollama tags → GGUF names ("fp16" is Ollama's spelling of F16).
_TAG_QUANT = re.compile(r"(?:^|[-_])(q[2-8]_k_[sml]|q[2-8]_k|q[4-8]_[01]|fp16|f16|bf16|fp32|f32)(?:$|[-_])")
_TAG_PARAMS = re.compile(r"(?:^|[-_:])(\d+(?:\.\d+)?)([bm])(?:$|[-_])")
#: The quantisation a tag without one most likely is: Ollama's library defaults to Q4_K_M for most
#: models of 3B and more (the README table sizes match Q4_K_M files), smaller ones vary (Q8_0, F16).
ASSUMED_TAG_QUANT = "Q4_K_M"
#: How far a name-only estimate can be off, for display: the geometry is borrowed from the catalog model
#: nearest in size, and KV cache sizes of same-sized models differ up to 4× (their KV-head counts do);
#: the file size from parameters × nominal bits is within ~10% for K-quants.
NAME_ESTIMATE_UNCERTAINTY = "±30% on memory and speed"


def parse_tag_name(tag: str) -> tuple[int, str | None]:
    """(parameters, quantisation or None) read from an Ollama tag such as "foo:7b-instruct-q4_K_M",
    "bar:1.5b" or "baz:270m"; parameters 0 when the name gives no size."""
    name, _, variant = tag.strip().lower().partition(":")
    text = variant or name
    params = 0
    size = _TAG_PARAMS.search(text) or _TAG_PARAMS.search(name)
    if size:
        params = int(float(size.group(1)) * (1e9 if size.group(2) == "b" else 1e6))
    quant_match = _TAG_QUANT.search(variant)
    quant = None
    if quant_match:
        quant = quant_match.group(1).upper().replace("FP", "F")
    return params, quant


def spec_from_tag(tag: str, catalog: Catalog) -> ModelSpec:
    """An estimate-only ``ModelSpec`` for a tag the catalog does not know, from its name alone.

    The parameter count and quantisation come from the name (``parse_tag_name``; no quantisation →
    ``ASSUMED_TAG_QUANT``); layers, heads, KV heads and head size are borrowed from the catalog model
    nearest in parameter count and scaled to this size; the file size is parameters × the
    quantisation's nominal bits. The spec says all this in ``notes`` and carries no use-case scores.
    A name without a size ("mymodel:latest") raises ``UnknownModelError``.
    """
    params, quant = parse_tag_name(tag)
    if params <= 0:
        raise UnknownModelError(
            f"unknown model {tag!r}, and its name gives no parameter count to estimate from",
            hint='name a size in the tag (e.g. "mymodel:7b-q4_K_M"), or see the catalog: `gpuless recommend`',
        )
    real = [m for m in catalog.models if not m.test_model] or list(catalog.models)
    if not real:
        raise ProfileError("the catalog is empty")
    nearest = min(real, key=lambda m: abs(math.log(m.params / params)))
    assumed_quant = quant is None
    quant = quant or ASSUMED_TAG_QUANT
    size_bytes = int(params * QUANT_BITS.get(quant, QUANT_BITS[ASSUMED_TAG_QUANT]) / 8)
    scale = params / nearest.params
    # Wider and deeper both grow with size; split the scaling between hidden size and layer count.
    hidden = max(64, round(nearest.embedding_length * math.sqrt(scale) / 64) * 64)
    layers = max(1, round(nearest.layers * math.sqrt(scale)))
    how = "assumed" if assumed_quant else "from the name"
    notes = (
        f"Estimated from the name alone: {params / 1e9:.3g}B parameters, {quant} ({how}); "
        f"layers, heads and KV cache borrowed from {nearest.name} and scaled; {NAME_ESTIMATE_UNCERTAINTY}."
    )
    variant = QuantVariant(
        tag=tag.strip(),
        quant=quant,
        size_bytes=size_bytes,
        size_verified=False,
        bits_per_weight=round(size_bytes * 8 / params, 2),
        note=f"estimated: {params / 1e9:.3g}B parameters × {QUANT_BITS.get(quant, 4.85):g} bits",
        source="the tag's name (not in gpuless's catalog)",
    )
    return ModelSpec(
        name=tag.strip(),
        family=tag.strip().partition(":")[0],
        architecture=nearest.architecture,
        params=params,
        layers=layers,
        heads=nearest.heads,
        kv_heads=nearest.kv_heads,
        head_dim=nearest.head_dim,
        embedding_length=hidden,
        context_length=nearest.context_length,
        tied_embeddings=nearest.tied_embeddings,
        variants=(variant,),
        default_tag=variant.tag,
        notes=notes,
        source=f"borrowed from {nearest.name}",
    )


def resolve_model(catalog: Catalog, name: str) -> tuple[ModelSpec, QuantVariant]:
    """The catalog's model and variant for ``name``; a tag the catalog does not know is estimated from
    its name (``core.catalog.offcatalog.spec_from_tag``: parameter count and quantisation, uncertainty in
    the spec's notes). A name with no size in it raises ``UnknownModelError`` with close matches."""
    try:
        return catalog.find(name)
    except UnknownModelError as unknown:
        try:
            spec = spec_from_tag(name, catalog)
        except UnknownModelError:
            raise unknown from None
        return spec, spec.default_variant


__all__ = [
    "ASSUMED_TAG_QUANT",
    "NAME_ESTIMATE_UNCERTAINTY",
    "SERVED_SIZE_TOLERANCE",
    "parse_tag_name",
    "resolve_model",
    "served_variant",
    "spec_from_tag",
]
