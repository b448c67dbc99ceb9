"""A model that can think, as Ollama serves one: a thinking block in the chat template, thinking on unless
the request says otherwise, the reasoning sent apart from the answer and counted with it.

Ollama infers the capability from the template's thinking tags (server/images.go:255,
``thinking.InferTags``) and, when a request says nothing, turns thinking on for such a model
(server/routes.go:456 generate, :2618 chat). The test registry's thinking model is SmolLM2 with a
template whose thinking block is Qwen3's: with thinking on the answer opens with ``<think>``, the model
writes its reasoning until ``</think>``, then the answer; with thinking off the template writes an empty
block. SmolLM2 never closes the block itself, so its reasoning here is cut at ``THINK_TOKENS`` tokens (or
``</think>``) and the block closed for it; both parts are real llama.cpp tokens, and ``eval_count``
counts both, as Ollama's does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .runner import Runner

#: The template layer of the test registry's thinking model (Qwen3's thinking block in Ollama's
#: Go-template syntax); the server applies it in ``generate`` below over the weights' own chat format.
THINK_TEMPLATE = (
    "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end -}}\n"
    "<|im_start|>assistant\n"
    "{{- if .Think }}<think>\n{{ else }}<think>\n\n</think>\n\n{{ end }}"
)
#: Tokens of reasoning the thinking model writes before its answer (num_predict may cut it shorter).
THINK_TOKENS = 24
OPEN, CLOSE, EMPTY = "<think>\n", "\n</think>\n\n", "<think>\n\n</think>\n\n"


def can_think(template: str) -> bool:
    """Whether a template has a thinking block (both tags), Ollama's test in thinking.InferTags."""
    return "<think>" in template and "</think>" in template


def wants_thinking(value: Any, model_thinks: bool) -> bool:
    """Ollama's ``think`` rule: unset means on for a model that can think (server/routes.go:456);
    ``true`` or "low"/"medium"/"high"/"max" is on, anything else off (api/types.go:1166 ThinkValue.Bool)."""
    if value is None:
        return model_thinks
    if isinstance(value, bool):
        return value
    return value in ("low", "medium", "high", "max")


def reasoning_effort_think(body: dict[str, Any]) -> Any:
    """The ``think`` value of an OpenAI request (openai/openai.go:531 thinkFromReasoningEffort, :699):
    None (the model's default) unless ``reasoning.effort`` or ``reasoning_effort`` says; "none" is off.
    Raises ValueError for an effort Ollama rejects."""
    reasoning = body.get("reasoning")
    effort = (
        reasoning.get("effort", "") if isinstance(reasoning, dict) else body.get("reasoning_effort") or ""
    )
    if effort == "":
        return None
    if effort == "none":
        return False
    if effort in ("minimal", "low", "medium", "high", "max", "xhigh", "ultra"):
        return {"minimal": "low", "xhigh": "max", "ultra": "max"}.get(effort, effort)
    raise ValueError(
        f'invalid reasoning value: "{effort}" (must be "minimal", "low", "medium", "high", "xhigh", '
        '"ultra", "max", or "none")'
    )


def _phase(
    runner: Runner, prompt: str, body: dict[str, Any], on_text: Callable[[str], None]
) -> tuple[str, dict[str, Any]]:
    """One streamed llama.cpp completion: (its text, its final event)."""
    pieces: list[str] = []
    final: dict[str, Any] = {}
    events = runner.stream_completion({**body, "prompt": prompt})
    try:
        for event in events:
            if event.get("content"):
                pieces.append(str(event["content"]))
                on_text(str(event["content"]))
            if event.get("stop"):
                final = event
    finally:
        events.close()
    return "".join(pieces), final


def generate(
    runner: Runner,
    prompt: str,
    body: dict[str, Any],
    think: bool | None,
    on_token: Callable[[str], None],
    on_thought: Callable[[str], None],
) -> dict[str, Any]:
    """Generate from ``prompt`` (the chat already templated); ``think`` None = not a thinking model.

    Returns llama.cpp's final event, with the timings of a thinking phase added to the answer's."""
    if think is None:
        return _phase(runner, prompt, body, on_token)[1]
    if not think:
        return _phase(runner, prompt + EMPTY, body, on_token)[1]
    limit = int(body.get("n_predict", -1))
    budget = THINK_TOKENS if limit <= 0 else min(THINK_TOKENS, limit)
    stops = [*body.get("stop", []), "</think>"]
    thought, first = _phase(runner, prompt + OPEN, {**body, "n_predict": budget, "stop": stops}, on_thought)
    t1 = first.get("timings", {})
    used = int(t1.get("predicted_n", 0))
    if limit > 0 and used >= limit:
        return first  # num_predict spent on reasoning: no answer, done_reason "length"
    rest = {**body, "n_predict": limit - used if limit > 0 else -1}
    final = _phase(runner, prompt + OPEN + thought.rstrip() + CLOSE, rest, on_token)[1]
    t2 = final.get("timings", {})
    final["timings"] = {
        "cache_n": t1.get("cache_n", 0),
        "prompt_n": t1.get("prompt_n", 0),
        "prompt_ms": t1.get("prompt_ms", 0),
        "predicted_n": used + int(t2.get("predicted_n", 0)),
        # The closing tag's prefill is part of generating the answer, as it is inside one real stream.
        "predicted_ms": float(t1.get("predicted_ms", 0))
        + float(t2.get("prompt_ms", 0))
        + float(t2.get("predicted_ms", 0)),
    }
    return final
