"""A chat conversation's rules: what a finished, broken or unanswered turn leaves, and a model switch."""

from __future__ import annotations

from toolkit.core.conversation import Conversation


def test_a_finished_turn_is_kept_and_sent_with_the_next() -> None:
    chat = Conversation("m:1b")
    chat.ask("hi")
    chat.answered("hello")
    chat.ask("and?")
    assert chat.messages == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "and?"},
    ]


def test_a_broken_answer_keeps_what_arrived_and_nothing_drops_the_question() -> None:
    chat = Conversation("m:1b")
    chat.ask("first")
    assert chat.broke_off("part of an ans") is True
    assert chat.messages[-1] == {"role": "assistant", "content": "part of an ans"}
    chat.ask("second")
    assert chat.broke_off("") is False
    # The unanswered question is gone: it will not be sent twice.
    assert [m["content"] for m in chat.messages] == ["first", "part of an ans"]
    # Nothing to drop after an answer: the answer stays.
    assert chat.broke_off("") is False and len(chat.messages) == 2


def test_another_model_starts_a_new_conversation() -> None:
    history = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    chat = Conversation("m:1b", history)
    assert chat.messages is history  # the caller's list is the conversation, not a copy
    assert chat.switch("m:1b") is False and len(chat.messages) == 2
    assert chat.switch("other:3b") is True
    assert chat.model == "other:3b" and chat.messages == []


def test_markdown_export_names_the_model_and_each_speaker() -> None:
    chat = Conversation("m:1b")
    chat.ask("hi")
    chat.answered("hello\n\n")
    assert chat.to_markdown() == "# gpuless chat with m:1b\n\n**You:**\n\nhi\n\n**Assistant:**\n\nhello\n"
    chat.clear()
    assert chat.to_markdown() == "# gpuless chat with m:1b\n"
