"""Thinking models: whether a served model thinks, and the lines gpuless says about it.

Ollama turns thinking on for every request that does not say otherwise when the model can think
(server/routes.go, ``if req.Think == nil``). On its native API ``think: false`` turns it off; on
``/v1/chat/completions`` only ``reasoning_effort: "none"`` (or ``reasoning.effort``) does, and the
reasoning then arrives in ``delta.reasoning`` and counts in ``usage.completion_tokens``. No Modelfile
parameter turns it off for a served model, so every client has to ask. bench, chat and tune ask for
thinking off unless the user asks for it; ``connect`` shows clients how.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from toolkit.core.bench.config import BenchResult

#: How a client turns thinking off, by API.
OFF_OLLAMA = '"think": false'
OFF_OPENAI = '"reasoning_effort": "none"'


def model_thinks(show: Mapping[str, Any]) -> bool | None:
    """Whether ``/api/show`` lists the "thinking" capability; None when it lists no capabilities
    (Ollama before 0.6.4, or not Ollama)."""
    caps = show.get("capabilities")
    if not isinstance(caps, list):
        return None
    return "thinking" in caps


def thinking_line(think: bool, reasoning_chunks: float) -> str:
    """What a benchmark or chat did about thinking, and what its TTFT means."""
    if think:
        return (
            f"thinking: on (asked); TTFT is to the first answer token, after ~{reasoning_chunks:.0f} "
            "reasoning chunks; decode tok/s counts reasoning and answer tokens, as the server does"
        )
    line = f"thinking: off ({OFF_OLLAMA} / {OFF_OPENAI} sent); TTFT is to the first answer token"
    if reasoning_chunks:
        line += f" — but the server still sent ~{reasoning_chunks:.0f} reasoning chunks, which TTFT includes"
    return line


def chat_note(model: str, think: bool) -> str:
    """What a chat (the REPL, the wizard's Chat step) does with a model that thinks."""
    note = "thinking on (--think); the reasoning is not shown" if think else "thinking off"
    return f"({model} can think: {note}; TTFT is to the answer)"


def bench_lines(result: BenchResult) -> list[str]:
    """A benchmark result's lines on thinking (``gpuless bench``, the wizard's Benchmark step): what the
    run did, when it measured any shape, and the warning when the served model thinks."""
    lines = []
    if result.shapes:
        lines.append(thinking_line(result.think, max(s.reasoning_chunks for s in result.shapes)))
    if result.model_thinks:
        lines.append(served_thinking_warning(result.model))
    return lines


def served_thinking_warning(model: str) -> str:
    """The warning for a served model that thinks: its clients get thinking on unless they say."""
    return (
        f"warning: {model} can think, and Ollama turns thinking on for every request that does not say "
        f"otherwise (slower answers, reasoning first): OpenAI clients send {OFF_OPENAI}, "
        f"Ollama clients {OFF_OLLAMA}"
    )
