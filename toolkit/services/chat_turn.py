"""One chat turn: ask, stream the answer, and leave the conversation as its rules say.

The terminal REPL and the wizard's Chat step both call ``take_turn``; they differ only in how they
show the text (a ``tee`` over the events, or a per-chunk callback), not in what a turn sends or keeps.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any

from toolkit.adapters.ollama.client import Chunk, Event, OllamaClient, Recorder
from toolkit.core.bench.metrics import RequestTrace
from toolkit.core.conversation import Conversation

Tee = Callable[[AsyncGenerator[Event, None]], AsyncGenerator[Event, None]]


async def take_turn(
    client: OllamaClient,
    conversation: Conversation,
    question: str,
    *,
    options: Mapping[str, Any] | None = None,
    recorder: Recorder | None = None,
    on_chunk: Callable[[Chunk], None] | None = None,
    tee: Tee | None = None,
    think: bool = False,
) -> RequestTrace:
    """Send ``question`` with the conversation so far and stream the answer.

    The answer joins the conversation when it ends; if it is stopped (cancelled, Ctrl-C) or breaks off
    (a ``toolkit.errors`` error), what arrived is kept, or the question dropped when nothing did, and
    the exception goes on to the caller. ``recorder`` (made here when not given) times the chunks and
    holds the partial answer; ``on_chunk`` sees each chunk, ``tee`` may wrap the events (to redraw).
    Thinking is off unless ``think`` (a thinking model's reasoning is timed apart, never shown or kept).
    """
    recorder = recorder or Recorder(time.perf_counter())
    conversation.ask(question)
    events = client.stream_chat(
        conversation.model, conversation.messages, options=dict(options or {}), think=think
    )
    try:
        trace = await recorder.consume(tee(events) if tee else events, on_chunk)
    except (asyncio.CancelledError, KeyboardInterrupt, Exception):
        conversation.broke_off("".join(recorder.parts))
        raise
    conversation.answered(trace.text)
    return trace
