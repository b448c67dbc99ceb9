"""The memory side of the estimate: KV cache bytes, the runtime's resident overhead, the vocabulary table.

Memory is what decides whether a model fits at all, and it is checked against real llama.cpp
(scripts/measure_memory.py, docs/memory-measured.txt), so its terms live together, apart from the speed
terms. The KV formula is Ollama's (``kvCacheBytesPerElement``, fs/ggml/ggml.go), sliding-window aware
for Gemma 3; the vocabulary table also serves ``toolkit.core.estimate.speed`` (prefill skips the embedding).
"""

from __future__ import annotations

from toolkit.core.catalog.model import ModelSpec
from toolkit.core.estimate.params import DEFAULT_PARAMS, EstimatorParams
from toolkit.errors import UsageError

#: KV bytes per element as Ollama's estimator counts them (``kvCacheBytesPerElement``, fs/ggml/ggml.go):
#: q8_0 is "half of f16", q4_0 "a quarter". ggml's real block sizes are 34/32 and 18/32 bytes
#: (``KV_BYTES_PER_ELEMENT_EXACT``); the difference is 6–12% of a small number, and matching Ollama's own
#: figure is what lets a user compare gpuless with Ollama's log.
KV_BYTES_PER_ELEMENT: dict[str, float] = {"f16": 2.0, "q8_0": 1.0, "q4_0": 0.5}
KV_BYTES_PER_ELEMENT_EXACT: dict[str, float] = {"f16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}

#: Vocabulary size by catalog family, to take the token-embedding (and untied output) matrices out of the
#: prefill FLOPs: llama.cpp looks embeddings up by row and computes logits only for a prompt's last token,
#: so a prompt token multiplies only the layers' weights. It matters for tiny models: 63% of Gemma3-270M's
#: parameters are its 262k × 640 embedding. Values from each family's GGUF ``tokenizer.ggml.tokens``;
#: unknown families keep the whole 2·N (an over-estimate of the work, so prefill is not over-promised).
VOCAB_SIZE_BY_FAMILY: dict[str, int] = {
    "gemma3": 262144,
    "llama3.1": 128256,
    "llama3.2": 128256,
    "mistral": 32768,
    "phi4-mini": 200064,
    "qwen2.5": 151936,
    "qwen3": 151936,
    "smollm2": 49152,
}

#: Vocabulary assumed for a family ``VOCAB_SIZE_BY_FAMILY`` does not know (between Llama 3's 128k and
#: Qwen's 152k; memory only, so the error is a few tens of MiB).
DEFAULT_VOCAB_SIZE = 150_000


def kv_bytes_per_element(kv_cache_type: str, params: EstimatorParams = DEFAULT_PARAMS) -> float:
    table = KV_BYTES_PER_ELEMENT_EXACT if params.exact_kv_sizes else KV_BYTES_PER_ELEMENT
    if kv_cache_type not in table:
        raise UsageError(f"unknown KV cache type {kv_cache_type!r}", hint="choose one of: f16, q8_0, q4_0")
    return table[kv_cache_type]


def _layer_tokens(model: ModelSpec, context: int, parallel: int, ubatch: int) -> list[int]:
    """Tokens each layer keeps in its KV cache (all slots together).

    Global-attention layers keep ``context × parallel``. Gemma 3 keeps the full context only in every
    ``sliding_window_pattern``-th layer; the others keep ``parallel × window + ubatch`` (Ollama's
    ``GraphSize`` gemma3 case), never more than the full context.
    """
    full = context * parallel
    if not (model.sliding_window and model.sliding_window_pattern):
        return [full] * model.layers
    local = min(full, parallel * model.sliding_window + ubatch)
    pattern = model.sliding_window_pattern
    return [full if (i + 1) % pattern == 0 else local for i in range(model.layers)]


def kv_cache_bytes(
    model: ModelSpec,
    context: int,
    parallel: int = 1,
    kv_cache_type: str = "f16",
    params: EstimatorParams = DEFAULT_PARAMS,
) -> int:
    """KV cache size: Σ over layers of tokens × 2 (K and V) × kv_heads × head_dim × bytes per element."""
    if context <= 0 or parallel <= 0:
        raise UsageError("context and parallel must be positive")
    per_token_layer = 2 * model.kv_heads * model.head_dim * kv_bytes_per_element(kv_cache_type, params)
    tokens = _layer_tokens(model, context, parallel, params.ubatch)
    return int(sum(tokens) * per_token_layer)


def runtime_overhead_bytes(model: ModelSpec, context: int, params: EstimatorParams = DEFAULT_PARAMS) -> int:
    """Resident memory besides the GGUF file and the KV cache: runtime, vocabulary tables, compute buffer.

    Measured on real llama.cpp (scripts/measure_memory.py, docs/memory-measured.txt): for both test
    models the resident size grows with the context exactly as the KV formula says, so what remains is
    fixed; it is 43 MiB (SmolLM2-135M) and 91 MiB (Gemma 3 270M) beside the weights and KV, a difference
    their vocabularies explain. ``context`` is kept for callers; with flash attention the compute buffer
    does not grow with it.
    """
    del context
    vocab = VOCAB_SIZE_BY_FAMILY.get(model.family, DEFAULT_VOCAB_SIZE)
    compute = 4 * params.ubatch * params.activation_floats_per_hidden * model.embedding_length
    runtime = params.runtime_base_bytes + params.vocab_bytes_per_token * vocab + compute
    return int(runtime * params.runtime_memory_factor)


def kv_read_per_token(
    model: ModelSpec, depth: int, kv_type: str, params: EstimatorParams = DEFAULT_PARAMS
) -> int:
    """KV bytes one decode step of one stream reads at ``depth`` tokens of history."""
    return kv_cache_bytes(model, max(depth, 1), 1, kv_type, params) if depth > 0 else 0


__all__ = [
    "DEFAULT_VOCAB_SIZE",
    "KV_BYTES_PER_ELEMENT",
    "KV_BYTES_PER_ELEMENT_EXACT",
    "VOCAB_SIZE_BY_FAMILY",
    "kv_bytes_per_element",
    "kv_cache_bytes",
    "kv_read_per_token",
    "runtime_overhead_bytes",
]
