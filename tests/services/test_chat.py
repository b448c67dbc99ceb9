"""One chat turn over real HTTP (the fault server on loopback): an answer joins the conversation, a
broken one leaves the question out, and what the turn sends is the conversation so far."""

from __future__ import annotations

import pytest

from tests.faults.server import MODEL, FaultServer
from toolkit.adapters.ollama.client import Chunk, OllamaClient
from toolkit.core.conversation import Conversation
from toolkit.errors import OllamaError
from toolkit.services.chat_turn import take_turn


async def test_an_answer_joins_the_conversation_and_is_seen_chunk_by_chunk() -> None:
    seen: list[Chunk] = []
    with FaultServer("none") as server:
        async with OllamaClient(server.url) as client:
            chat = Conversation(MODEL)
            trace = await take_turn(client, chat, "hello?", on_chunk=seen.append)
            await take_turn(client, chat, "again?")
    assert trace.text == "Hi there" and [c.text for c in seen] == ["Hi there"]
    assert chat.messages == [
        {"role": "user", "content": "hello?"},
        {"role": "assistant", "content": "Hi there"},
        {"role": "user", "content": "again?"},
        {"role": "assistant", "content": "Hi there"},
    ]
    assert server.requests.count("POST /api/chat") == 2


async def test_a_turn_that_fails_drops_its_question_and_keeps_the_rest() -> None:
    # "escapes": the first answer is fine, every later one is a 500 with an error body.
    with FaultServer("escapes") as server:
        async with OllamaClient(server.url) as client:
            chat = Conversation(MODEL)
            await take_turn(client, chat, "first")
            with pytest.raises(OllamaError):
                await take_turn(client, chat, "second")
    # The escapes answer is kept as the server sent it (the screen cleans it, not the conversation).
    assert [m["role"] for m in chat.messages] == ["user", "assistant"]
    assert chat.messages[0]["content"] == "first" and "world" in chat.messages[1]["content"]
