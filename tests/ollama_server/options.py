"""Request options → llama.cpp sampling parameters, with Ollama's defaults and type checks."""

from __future__ import annotations

from typing import Any

# Ollama's DefaultOptions ([OL] api/types.go), sent explicitly so llama.cpp samples as Ollama would.
DEFAULTS: dict[str, Any] = {
    "num_predict": -1,
    "temperature": 0.8,
    "top_k": 40,
    "top_p": 0.9,
    "min_p": 0.0,
    "typical_p": 1.0,
    "repeat_last_n": 64,
    "repeat_penalty": 1.0,
    "presence_penalty": 0.0,
    "frequency_penalty": 0.0,
    "seed": -1,
    "num_keep": 4,
}
_INT = {
    "num_predict",
    "top_k",
    "repeat_last_n",
    "seed",
    "num_keep",
    "num_ctx",
    "num_thread",
    "num_batch",
    "num_gpu",
    "main_gpu",
}
_FLOAT = {
    "temperature",
    "top_p",
    "min_p",
    "typical_p",
    "repeat_penalty",
    "presence_penalty",
    "frequency_penalty",
}
#: Names a Modelfile's PARAMETER line (or /api/create's ``parameters``) may set.
KNOWN_PARAMETERS = frozenset(_INT | _FLOAT | {"stop"})
_LLAMA_NAMES = {"num_predict": "n_predict", "typical_p": "typical_p", "num_keep": "n_keep"}


class OptionError(ValueError):
    """An option has the wrong type (Ollama answers 400)."""


def check_options(raw: Any) -> dict[str, Any]:
    """Validate `options` like Ollama's FromMap: wrong types fail, unknown keys are ignored."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise OptionError("options must be an object")
    opts: dict[str, Any] = {}
    for key, value in raw.items():
        if value is None:
            continue
        if key in _INT:
            if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
                raise OptionError(f'option "{key}" must be of type integer')
            opts[key] = int(value)
        elif key in _FLOAT:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise OptionError(f'option "{key}" must be of type float')
            opts[key] = float(value)
        elif key == "stop":
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
                raise OptionError('option "stop" must be of type array')
            opts[key] = value
        # Anything else (use_mlock, num_batch, …) is accepted and ignored, as Ollama does.
    return opts


def llama_body(opts: dict[str, Any], fmt: Any) -> dict[str, Any]:
    """The sampling part of a llama.cpp /completion request."""
    merged = {**DEFAULTS, **{k: v for k, v in opts.items() if k in DEFAULTS}}
    body: dict[str, Any] = {_LLAMA_NAMES.get(k, k): v for k, v in merged.items()}
    if opts.get("stop"):
        body["stop"] = opts["stop"]
    if fmt == "json":
        body["json_schema"] = {}
    elif isinstance(fmt, dict):
        body["json_schema"] = fmt
    body["cache_prompt"] = True
    return body
