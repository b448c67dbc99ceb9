"""What gpuless knows about models: the catalog's data classes and lookups.

The data lives in ``profiles/models/`` (TOML, shipped as package ``toolkit.profiles``) and is validated
by ``toolkit.core.catalog.parse``; this module holds what the rest of gpuless reads from it. It is pure:
reading the files is ``toolkit.adapters.resources``' job.

API used by other modules:

- ``Catalog.find("qwen2.5:3b-instruct-q4_K_M") -> (ModelSpec, QuantVariant)`` (a bare model name
  gives its default variant; unknown → ``UnknownModelError`` with close matches).
- ``ModelSpec.from_ollama_show(show, name=..., size_bytes=...)`` builds a spec from Ollama's ``/api/show``
  answer, so a model that is not in the catalog can still be estimated (``core.catalog.offcatalog`` does
  the same from a tag's name alone, and for a catalog tag a server holds as another file).
- ``QUANT_BITS`` and ``FILE_TYPES``: quantisation facts for sizes estimated from parameter counts.
- ``USE_CASES`` and ``normalise_use_case(name)`` (unknown → ``UsageError``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from toolkit.errors import ProfileError, UnknownModelError, UsageError

#: What a model can be good at; scores in the catalog are 0–10 for each of these.
USE_CASES = ("chat", "translation", "summarise", "rag", "writing", "code", "reasoning")
_USE_CASE_ALIASES = {
    "summarize": "summarise",
    "summary": "summarise",
    "summarisation": "summarise",
    "summarization": "summarise",
    "translate": "translation",
    "coding": "code",
    "retrieval": "rag",
    "general": "chat",
}

#: Nominal bits per weight of each GGUF quantisation (ggml block sizes; K-quants mix types, so these
#: are the usual whole-file averages). Used only when a size must be estimated from a parameter count.
QUANT_BITS: dict[str, float] = {
    "F32": 32.0,
    "F16": 16.0,
    "BF16": 16.0,
    "Q8_0": 8.5,
    "Q6_K": 6.56,
    "Q5_K_M": 5.69,
    "Q5_K_S": 5.54,
    "Q5_1": 6.0,
    "Q5_0": 5.5,
    "Q4_K_M": 4.85,
    "Q4_K_S": 4.58,
    "Q4_1": 5.0,
    "Q4_0": 4.5,
    "Q3_K_L": 4.27,
    "Q3_K_M": 3.91,
    "Q3_K_S": 3.5,
    "Q2_K": 3.35,
}

#: ``general.file_type`` → quantisation name (Ollama ``fs/ggml/type.go`` ``FileType``).
FILE_TYPES: dict[int, str] = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    32: "BF16",
}


def normalise_use_case(name: str) -> str:
    """The canonical use-case name for ``name`` (case-insensitive, common spellings accepted)."""
    key = name.strip().lower().replace("-", "_")
    key = _USE_CASE_ALIASES.get(key, key)
    if key not in USE_CASES:
        raise UsageError(f"unknown use case {name!r}", hint=f"choose one of: {', '.join(USE_CASES)}")
    return key


@dataclass(frozen=True)
class QuantVariant:
    """One downloadable quantisation of a model.

    Attributes:
        tag: the full Ollama tag, e.g. "qwen2.5:3b-instruct-q4_K_M".
        quant: GGUF quantisation name, e.g. "Q4_K_M".
        size_bytes: download (GGUF file) size; on a CPU this is also what decode reads per token.
        size_verified: True when the size comes from a primary source (Ollama README table or the real
            file); False when it is an estimate (ollama.com recollection or params × bits).
        bits_per_weight: size_bytes × 8 ÷ parameter count (whole-file average).
        note: where the size comes from, for display.
        source: the public page the tag, its quantisation and size were taken from (a URL, or a
            description of the evidence where no single page says it).
    """

    tag: str
    quant: str
    size_bytes: int
    size_verified: bool
    bits_per_weight: float
    note: str = ""
    source: str = ""


@dataclass(frozen=True)
class ModelSpec:
    """A model's architecture numbers, what it is good at, and its quantisation variants.

    Attributes:
        name: the Ollama model name without quant, e.g. "qwen2.5:3b".
        family: e.g. "qwen2.5".
        architecture: GGUF ``general.architecture``, e.g. "qwen2", "llama", "gemma3".
        params: parameter count.
        layers: transformer blocks (``block_count``).
        heads: attention (query) heads.
        kv_heads: key/value heads (GQA); KV memory scales with these, not with ``heads``.
        head_dim: size of one head (``attention.key_length``).
        embedding_length: hidden size.
        context_length: trained context; Ollama clamps ``num_ctx`` to it.
        sliding_window: local-attention window in tokens (gemma3), else None.
        sliding_window_pattern: every N-th layer is global, the rest use the window (gemma3: 6).
        tied_embeddings: the output head reuses the token-embedding matrix.
        good_at: use case → score 0–10 (see ``USE_CASES``).
        variants: the quantisations offered; ``default_tag`` names the one a bare name pulls.
        default_tag: tag of the default variant.
        test_model: a tiny model used by gpuless's own tests; real users get it only if nothing else fits.
        latest: this is the model a bare family name (``qwen2.5``, ``qwen2.5:latest``) pulls.
        thinking: the model writes a reasoning trace before its answer by default (Qwen3's hybrid
            tags): the user waits for those tokens too.
        notes: one line for display (languages, licence caveats, vision, …).
        source: where the architecture numbers come from.
    """

    name: str
    family: str
    architecture: str
    params: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    embedding_length: int
    context_length: int
    sliding_window: int | None = None
    sliding_window_pattern: int | None = None
    tied_embeddings: bool = False
    good_at: tuple[tuple[str, int], ...] = ()
    variants: tuple[QuantVariant, ...] = ()
    default_tag: str = ""
    test_model: bool = False
    latest: bool = False
    thinking: bool = False
    notes: str = ""
    source: str = ""

    def score(self, use_case: str) -> int:
        """How good the model is at ``use_case`` (0–10; 0 when the catalog gives no score)."""
        return dict(self.good_at).get(use_case, 0)

    @property
    def default_variant(self) -> QuantVariant:
        for variant in self.variants:
            if variant.tag == self.default_tag:
                return variant
        return self.variants[0]

    def variant(self, tag: str) -> QuantVariant | None:
        lowered = tag.lower()
        for variant in self.variants:
            if variant.tag.lower() == lowered:
                return variant
        return None

    def kv_elements_per_token(self) -> int:
        """K and V elements stored per token over all layers (2 × layers × kv_heads × head_dim)."""
        return 2 * self.layers * self.kv_heads * self.head_dim

    @classmethod
    def from_ollama_show(
        cls, show: Mapping[str, Any], *, name: str, size_bytes: int | None = None
    ) -> ModelSpec:
        """Build a spec from Ollama's ``/api/show`` answer (``model_info`` + ``details``).

        ``size_bytes`` is the download size (``/api/tags`` ``size``); without it the size is estimated
        from the parameter count and the quantisation's nominal bits per weight. The spec has no use-case
        scores: it is for estimating speed and memory, not for recommending.
        """
        info = show.get("model_info")
        if not isinstance(info, Mapping):
            raise ProfileError(f"/api/show answer for {name!r} has no model_info")
        details = show.get("details") if isinstance(show.get("details"), Mapping) else {}
        assert isinstance(details, Mapping)
        arch = info.get("general.architecture")
        if not isinstance(arch, str) or not arch:
            raise ProfileError(f"/api/show answer for {name!r} has no general.architecture")

        def num(key: str, default: int | None = None) -> int:
            value = info.get(f"{arch}.{key}", default)
            if isinstance(value, list):  # per-layer arrays (head counts): take the largest
                value = max((v for v in value if isinstance(v, int | float)), default=default)
            if isinstance(value, str):
                try:
                    value = float(value)
                except ValueError:
                    value = None
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise ProfileError(f"/api/show answer for {name!r} lacks a usable {arch}.{key}")
            return int(value)

        layers = num("block_count")
        embedding = num("embedding_length")
        heads = num("attention.head_count")
        kv_heads = num("attention.head_count_kv", heads)
        head_dim = num("attention.key_length", embedding // heads)
        context = num("context_length", 2048)
        window_raw = info.get(f"{arch}.attention.sliding_window")
        window = int(window_raw) if isinstance(window_raw, int | float) and window_raw > 0 else None
        params_raw = info.get("general.parameter_count")
        params = int(float(params_raw)) if isinstance(params_raw, int | float | str) else 0
        if params <= 0:
            params = _parse_parameter_size(str(details.get("parameter_size", "")))
        if params <= 0:
            raise ProfileError(f"/api/show answer for {name!r} has no parameter count")
        quant = str(details.get("quantization_level") or "")
        if not quant:
            file_type = info.get("general.file_type")
            quant = FILE_TYPES.get(int(file_type), "") if isinstance(file_type, int | float) else ""
        quant = quant.upper().replace("FP16", "F16") or "unknown"
        verified = size_bytes is not None
        if size_bytes is None:
            size_bytes = int(params * QUANT_BITS.get(quant, 4.85) / 8)
        variant = QuantVariant(
            tag=name,
            quant=quant,
            size_bytes=size_bytes,
            size_verified=verified,
            bits_per_weight=round(size_bytes * 8 / params, 2),
            note="from the Ollama server" if verified else "estimated from parameter count",
        )
        return cls(
            name=name,
            family=str(details.get("family") or arch),
            architecture=arch,
            params=params,
            layers=layers,
            heads=heads,
            kv_heads=kv_heads,
            head_dim=head_dim,
            embedding_length=embedding,
            context_length=context,
            sliding_window=window,
            sliding_window_pattern=6 if window and arch.startswith("gemma3") else None,
            tied_embeddings=f"{arch}.output" not in info,
            variants=(variant,),
            default_tag=name,
        )


def _parse_parameter_size(text: str) -> int:
    """ "8.0B" → 8_000_000_000, "270M" → 270_000_000; 0 if unparseable."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([KMBT]?)\s*", text.upper())
    if not match:
        return 0
    scale = {"": 1, "K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}[match.group(2)]
    return int(float(match.group(1)) * scale)


@dataclass(frozen=True)
class Catalog:
    """All models gpuless knows, in catalog order."""

    models: tuple[ModelSpec, ...]

    def names(self) -> list[str]:
        return [model.name for model in self.models]

    def tags(self) -> list[str]:
        return [variant.tag for model in self.models for variant in model.variants]

    def find(self, name_or_tag: str) -> tuple[ModelSpec, QuantVariant]:
        """The model and variant for a tag ("llama3.2:3b-instruct-q8_0") or a name ("llama3.2:3b").

        A bare family name ("llama3.2") or ``family:latest`` gives the model marked ``latest``.
        """
        wanted = name_or_tag.strip().lower()
        if wanted.endswith(":latest"):
            wanted = wanted[: -len(":latest")]
        for model in self.models:
            variant = model.variant(wanted)
            if variant is not None:
                return model, variant
        for model in self.models:
            if model.name.lower() == wanted:
                return model, model.default_variant
        family = [m for m in self.models if m.family.lower() == wanted and ":" not in wanted]
        if family:
            model = next((m for m in family if m.latest), family[0])
            return model, model.default_variant
        close = self.close_matches(wanted)
        hint = f"did you mean {', '.join(close)}?" if close else "run `gpuless recommend` to see the catalog"
        raise UnknownModelError(f"unknown model {name_or_tag!r}", hint=hint)

    def close_matches(self, name_or_tag: str) -> list[str]:
        """Up to three catalog names or tags spelled like ``name_or_tag`` (for "did you mean …?")."""
        wanted = name_or_tag.strip().lower()
        choices = list(dict.fromkeys(self.names() + self.tags()))
        return difflib.get_close_matches(wanted, choices, n=3, cutoff=0.6)


__all__ = [
    "FILE_TYPES",
    "QUANT_BITS",
    "USE_CASES",
    "Catalog",
    "ModelSpec",
    "QuantVariant",
    "normalise_use_case",
]
