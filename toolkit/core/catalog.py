"""What gpuless knows about models and typical machines: the catalog and hardware profiles.

The data lives in ``profiles/`` (TOML, shipped as package ``toolkit.profiles``); this module turns the
parsed dicts into frozen dataclasses and validates them, so a bad file fails with one clear line
(``ProfileError``) instead of a ``KeyError`` deep inside an estimate. It is pure: reading the files is
``toolkit.engine.resources``' job.

API used by other modules:

- ``parse_catalog(data) -> Catalog``;
  ``Catalog.find("qwen2.5:3b-instruct-q4_K_M") -> (ModelSpec, QuantVariant)`` (a bare model name
  gives its default variant; unknown → ``UnknownModelError`` with close matches).
- ``ModelSpec.from_ollama_show(show, name=..., size_bytes=...)`` builds a spec from Ollama's ``/api/show``
  answer, so a model that is not in the catalog can still be estimated; ``spec_from_tag(tag, catalog)``
  does the same from the tag's name alone ("foo:7b-instruct-q4_K_M") when no server has it.
- ``parse_hardware_profile(data) -> HardwareProfile``; ``machine_from_profile(profile) -> Machine``.
- ``USE_CASES`` and ``normalise_use_case(name)`` (unknown → ``UsageError``).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from toolkit.core.hardware import (
    ARM_SIMD,
    GIB,
    X86_SIMD,
    Bandwidth,
    CgroupLimits,
    CpuInfo,
    DockerEngineInfo,
    Machine,
    MemoryInfo,
    OsName,
)
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
        choices = self.names() + self.tags()
        close = difflib.get_close_matches(wanted, choices, n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(close)}?" if close else "run `gpuless recommend` to see the catalog"
        raise UnknownModelError(f"unknown model {name_or_tag!r}", hint=hint)


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


@dataclass(frozen=True)
class HardwareProfile:
    """A typical machine for what-if questions ("what would a 16 GB DDR5 laptop run?").

    Attributes:
        name: short id used on the command line, e.g. "laptop-16gb-ddr5".
        label: one-line description for display.
        os: the host OS.
        ram_bytes: installed RAM.
        memory_type: e.g. "DDR5-5600 dual channel".
        bandwidth_gbps: theoretical peak (MT/s × bus width), GB/s.
        cpu_bandwidth_share: fraction of ``bandwidth_gbps`` the CPU cores can draw at all (1.0 on x86
            laptops; lower on Apple SoCs whose peak figure is sized for the GPU).
        cpu_model, arch, physical_cores, logical_cores, performance_cores, simd, clock_ghz: see ``CpuInfo``.
        docker_desktop: Docker runs in a VM (Docker Desktop on macOS/Windows, WSL2).
        docker_vm_share: fraction of host RAM the Docker VM gets (Docker Desktop's default is 50%).
        bandwidth_note: where the bandwidth figure comes from and how much of it decode gets.
        notes: anything else worth showing.
    """

    name: str
    label: str
    os: OsName
    ram_bytes: int
    memory_type: str
    bandwidth_gbps: float
    cpu_model: str
    arch: str
    physical_cores: int
    logical_cores: int
    simd: tuple[str, ...]
    performance_cores: int | None = None
    clock_ghz: float | None = None
    cpu_bandwidth_share: float = 1.0
    docker_desktop: bool = False
    docker_vm_share: float = 0.5
    bandwidth_note: str = ""
    notes: str = ""


def machine_from_profile(profile: HardwareProfile) -> Machine:
    """The ``Machine`` a profile describes; Docker is Desktop's VM or a native engine, as the profile says."""
    gbps = round(profile.bandwidth_gbps * profile.cpu_bandwidth_share, 2)
    detail = f"{profile.memory_type}: {profile.bandwidth_gbps:g} GB/s theoretical"
    if profile.cpu_bandwidth_share < 1.0:
        detail += f" × {profile.cpu_bandwidth_share:g} reachable by the CPU"
    if profile.docker_desktop:
        docker = DockerEngineInfo(
            reachable=True,
            operating_system="Docker Desktop",
            os_type="linux",
            is_desktop=True,
            ncpu=profile.logical_cores,
            mem_total_bytes=int(profile.ram_bytes * profile.docker_vm_share),
        )
    else:
        docker = DockerEngineInfo(
            reachable=True,
            operating_system="Docker Engine",
            os_type="linux",
            ncpu=profile.logical_cores,
            mem_total_bytes=profile.ram_bytes,
        )
    return Machine(
        os=profile.os,
        os_release=profile.label,
        cpu=CpuInfo(
            model=profile.cpu_model,
            arch=profile.arch,
            physical_cores=profile.physical_cores,
            logical_cores=profile.logical_cores,
            simd=profile.simd,
            performance_cores=profile.performance_cores,
            clock_ghz=profile.clock_ghz,
        ),
        memory=MemoryInfo(total_bytes=profile.ram_bytes, available_bytes=profile.ram_bytes),
        cgroup=CgroupLimits(),
        docker=docker,
        bandwidth=Bandwidth(gbps=gbps, source="profile", detail=detail),
        name=profile.name,
    )


# --- parsing and validation ----------------------------------------------------------------------


def _where(context: str, key: str) -> str:
    return f"{context}: {key}" if context else key


def _req(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], context: str) -> Any:
    if key not in data:
        raise ProfileError(f"{_where(context, key)} is missing")
    return _opt(data, key, kind, context, None)


def _opt(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], context: str, default: Any) -> Any:
    value = data.get(key, default)
    if value is None:
        return default
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        raise ProfileError(f"{_where(context, key)} must be a number, not {value!r}")
    if float in kinds and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise ProfileError(f"{_where(context, key)} must be {names}, not {value!r}")
    return value


def _positive(value: float, key: str, context: str) -> None:
    if value <= 0:
        raise ProfileError(f"{_where(context, key)} must be positive, not {value!r}")


def _parse_variant(data: Any, params: int, context: str) -> QuantVariant:
    if not isinstance(data, Mapping):
        raise ProfileError(f"{context}: each variant must be a table")
    tag = _req(data, "tag", str, context)
    quant = _req(data, "quant", str, context)
    size = _req(data, "size_bytes", int, f"{context} {tag}")
    _positive(size, "size_bytes", f"{context} {tag}")
    return QuantVariant(
        tag=tag,
        quant=quant,
        size_bytes=size,
        size_verified=bool(_opt(data, "size_verified", bool, context, False)),
        bits_per_weight=round(size * 8 / params, 2),
        note=_opt(data, "note", str, context, ""),
        source=_opt(data, "source", str, context, ""),
    )


def parse_model(data: Mapping[str, Any]) -> ModelSpec:
    """Validate one ``[[model]]`` table."""
    if not isinstance(data, Mapping):
        raise ProfileError("each [[model]] entry must be a table")
    name = _req(data, "name", str, "model")
    ctx = f"model {name}"
    ints = {}
    for key in ("params", "layers", "heads", "kv_heads", "head_dim", "embedding_length", "context_length"):
        ints[key] = _req(data, key, int, ctx)
        _positive(ints[key], key, ctx)
    if ints["kv_heads"] > ints["heads"]:
        raise ProfileError(f"{ctx}: kv_heads ({ints['kv_heads']}) cannot exceed heads ({ints['heads']})")
    window = _opt(data, "sliding_window", int, ctx, None)
    pattern = _opt(data, "sliding_window_pattern", int, ctx, None)
    for key, value in (("sliding_window", window), ("sliding_window_pattern", pattern)):
        if value is not None:
            _positive(value, key, ctx)
    good_at_raw = _opt(data, "good_at", dict, ctx, {})
    good_at: list[tuple[str, int]] = []
    for use_case, score in good_at_raw.items():
        if use_case not in USE_CASES:
            raise ProfileError(
                f"{ctx}: good_at has unknown use case {use_case!r} (known: {', '.join(USE_CASES)})"
            )
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
            raise ProfileError(f"{ctx}: good_at.{use_case} must be an integer 0–10, not {score!r}")
        good_at.append((use_case, score))
    variants_raw = _req(data, "variant", list, ctx)
    if not variants_raw:
        raise ProfileError(f"{ctx}: needs at least one [[model.variant]]")
    variants = tuple(_parse_variant(v, ints["params"], ctx) for v in variants_raw)
    default_tag = _opt(data, "default_tag", str, ctx, variants[0].tag)
    if default_tag not in {v.tag for v in variants}:
        raise ProfileError(f"{ctx}: default_tag {default_tag!r} is not one of its variants")
    return ModelSpec(
        name=name,
        family=_req(data, "family", str, ctx),
        architecture=_req(data, "architecture", str, ctx),
        sliding_window=window,
        sliding_window_pattern=pattern,
        tied_embeddings=bool(_opt(data, "tied_embeddings", bool, ctx, False)),
        good_at=tuple(good_at),
        variants=variants,
        default_tag=default_tag,
        test_model=bool(_opt(data, "test_model", bool, ctx, False)),
        latest=bool(_opt(data, "latest", bool, ctx, False)),
        thinking=bool(_opt(data, "thinking", bool, ctx, False)),
        notes=_opt(data, "notes", str, ctx, ""),
        source=_opt(data, "source", str, ctx, ""),
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


_OS_NAMES: tuple[OsName, ...] = ("linux", "darwin", "windows", "other")


def parse_hardware_profile(data: Mapping[str, Any], *, default_name: str = "profile") -> HardwareProfile:
    """Validate a hardware profile (TOML or JSON). RAM is given as ``ram_gb`` (GiB) or ``ram_bytes``."""
    if not isinstance(data, Mapping):
        raise ProfileError("a hardware profile must be a table/object")
    name = _opt(data, "name", str, "profile", default_name)
    ctx = f"profile {name}"
    if "ram_bytes" in data:
        ram = _req(data, "ram_bytes", int, ctx)
    else:
        ram_gb = _req(data, "ram_gb", float, ctx)
        _positive(ram_gb, "ram_gb", ctx)
        ram = int(ram_gb * GIB)
    _positive(ram, "ram_bytes", ctx)
    bandwidth = _req(data, "bandwidth_gbps", float, ctx)
    _positive(bandwidth, "bandwidth_gbps", ctx)
    physical = _req(data, "physical_cores", int, ctx)
    _positive(physical, "physical_cores", ctx)
    logical = _opt(data, "logical_cores", int, ctx, physical)
    if logical < physical:
        raise ProfileError(f"{ctx}: logical_cores ({logical}) cannot be below physical_cores ({physical})")
    performance = _opt(data, "performance_cores", int, ctx, None)
    if performance is not None and not 0 < performance <= physical:
        raise ProfileError(f"{ctx}: performance_cores must be between 1 and physical_cores")
    os_name = _opt(data, "os", str, ctx, "linux")
    if os_name not in _OS_NAMES:
        raise ProfileError(f"{ctx}: os must be one of {', '.join(_OS_NAMES)}, not {os_name!r}")
    simd_raw = _opt(data, "simd", list, ctx, [])
    known = set(X86_SIMD) | set(ARM_SIMD)
    for feature in simd_raw:
        if feature not in known:
            raise ProfileError(f"{ctx}: unknown SIMD feature {feature!r} (known: {', '.join(sorted(known))})")
    share = _opt(data, "cpu_bandwidth_share", float, ctx, 1.0)
    vm_share = _opt(data, "docker_vm_share", float, ctx, 0.5)
    for key, value in (("cpu_bandwidth_share", share), ("docker_vm_share", vm_share)):
        if not 0 < value <= 1:
            raise ProfileError(f"{ctx}: {key} must be in (0, 1], not {value!r}")
    clock = _opt(data, "clock_ghz", float, ctx, None)
    if clock is not None:
        _positive(clock, "clock_ghz", ctx)
    return HardwareProfile(
        name=name,
        label=_opt(data, "label", str, ctx, name),
        os=os_name,
        ram_bytes=ram,
        memory_type=_opt(data, "memory_type", str, ctx, "unknown"),
        bandwidth_gbps=bandwidth,
        cpu_bandwidth_share=share,
        cpu_model=_opt(data, "cpu_model", str, ctx, "unknown CPU"),
        arch=_opt(data, "arch", str, ctx, "x86_64"),
        physical_cores=physical,
        logical_cores=logical,
        performance_cores=performance,
        simd=tuple(sorted(simd_raw)),
        clock_ghz=clock,
        docker_desktop=bool(_opt(data, "docker_desktop", bool, ctx, False)),
        docker_vm_share=vm_share,
        bandwidth_note=_opt(data, "bandwidth_note", str, ctx, ""),
        notes=_opt(data, "notes", str, ctx, ""),
    )


__all__ = [
    "ASSUMED_TAG_QUANT",
    "FILE_TYPES",
    "NAME_ESTIMATE_UNCERTAINTY",
    "QUANT_BITS",
    "SERVED_SIZE_TOLERANCE",
    "USE_CASES",
    "Catalog",
    "HardwareProfile",
    "ModelSpec",
    "QuantVariant",
    "machine_from_profile",
    "normalise_use_case",
    "parse_catalog",
    "parse_hardware_profile",
    "parse_model",
    "parse_tag_name",
    "served_variant",
    "spec_from_tag",
]
