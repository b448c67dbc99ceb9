"""Read a GGUF file's header: metadata key/values and tensor shapes.

`/api/show` and `/api/tags` report a model's details from the GGUF's own metadata, as Ollama does, so
the numbers the toolkit reads (layers, heads, context length, quantisation, parameter count) are the
file's real ones. Large arrays (tokenizer vocabularies) are skipped unless asked for.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

GGUF_MAGIC = b"GGUF"

# GGUF value types (ggml/docs/gguf.md).
_SCALARS: dict[int, str] = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING = 8
_ARRAY = 9

# general.file_type → Ollama's quantization_level ([OL] fs/ggml/type.go FileType).
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
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
}

# Arrays longer than this are returned empty unless verbose (Ollama empties tokenizer arrays likewise).
_ARRAY_KEEP = 64


class GGUFError(ValueError):
    """The file is not a readable GGUF."""


@dataclass(frozen=True)
class GGUFInfo:
    """What a GGUF header says.

    metadata: every key/value (big arrays emptied unless read verbosely).
    parameter_count: sum of all tensors' element counts.
    tensor_count: number of tensors.
    """

    metadata: dict[str, Any]
    parameter_count: int
    tensor_count: int

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", ""))

    def arch_value(self, key: str, default: Any = None) -> Any:
        return self.metadata.get(f"{self.architecture}.{key}", default)

    @property
    def quantization_level(self) -> str:
        file_type = self.metadata.get("general.file_type")
        return FILE_TYPES.get(int(file_type), "unknown") if file_type is not None else "unknown"

    @property
    def context_length(self) -> int:
        return int(self.arch_value("context_length", 0) or 0)


def _read(f: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise GGUFError("truncated GGUF header")
    return struct.unpack(fmt, data)[0]


def _read_string(f: BinaryIO) -> str:
    length = _read(f, "<Q")
    data = f.read(length)
    if len(data) != length:
        raise GGUFError("truncated GGUF string")
    return data.decode("utf-8", errors="replace")


def _read_value(f: BinaryIO, vtype: int, verbose: bool) -> Any:
    if vtype in _SCALARS:
        return _read(f, _SCALARS[vtype])
    if vtype == _STRING:
        return _read_string(f)
    if vtype == _ARRAY:
        item_type = _read(f, "<I")
        count = _read(f, "<Q")
        keep = verbose or count <= _ARRAY_KEEP
        if not keep and item_type in _SCALARS:
            f.seek(count * struct.calcsize(_SCALARS[item_type]), 1)
            return []
        items = [_read_value(f, item_type, verbose) for _ in range(count)]
        return items if keep else []
    raise GGUFError(f"unknown GGUF value type {vtype}")


def read_gguf(path: str | Path, verbose: bool = False) -> GGUFInfo:
    """Parse the header of the GGUF at `path` (v2/v3)."""
    with open(path, "rb") as f:
        if f.read(4) != GGUF_MAGIC:
            raise GGUFError(f"{path} is not a GGUF file")
        version = _read(f, "<I")
        if version < 2:
            raise GGUFError(f"GGUF version {version} is not supported")
        n_tensors = _read(f, "<Q")
        n_kv = _read(f, "<Q")
        metadata: dict[str, Any] = {}
        for _ in range(n_kv):
            key = _read_string(f)
            metadata[key] = _read_value(f, _read(f, "<I"), verbose)
        params = 0
        for _ in range(n_tensors):
            _read_string(f)
            n_dims = _read(f, "<I")
            count = 1
            for _ in range(n_dims):
                count *= _read(f, "<Q")
            _read(f, "<I")  # ggml type
            _read(f, "<Q")  # offset
            params += count
    return GGUFInfo(metadata=metadata, parameter_count=params, tensor_count=n_tensors)


def human_number(n: int) -> str:
    """Ollama's format.HumanNumber: 134515008 → "134.52M", 1e9 → "1B"."""
    for unit, scale, decimals in (("B", 1_000_000_000, 1), ("M", 1_000_000, 2)):
        if n >= scale:
            value = n / scale
            return f"{value:.0f}{unit}" if value == int(value) else f"{value:.{decimals}f}{unit}"
    if n >= 1000:
        return f"{n / 1000:.0f}K"
    return str(n)
