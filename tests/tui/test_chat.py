"""Chat step against the real loopback test server (llama.cpp under Ollama's API): stream, stop, new chat."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Markdown, Select, Static

from tests.tui.notes import notes_of
from toolkit.tui.app import GpulessApp, create_app
from toolkit.tui.deps import WizardDeps

from .conftest import settle

MODEL = "smollm2:135m"


async def wait_for(pilot: Pilot[None], check: Any, *, seconds: float = 240.0) -> None:
    """Let the app run until ``check()`` is true (bounded)."""
    for _ in range(int(seconds / 0.1)):
        if check():
            return
        await pilot.pause(0.1)
    raise AssertionError(f"condition not met within {seconds} s")


def status(app: GpulessApp) -> str:
    return str(app.screen.query_one("#chat-status", Static).render())


async def open_chat(pilot: Pilot[None], app: GpulessApp) -> None:
    await pilot.press("6")
    select = app.screen.query_one("#chat-model", Select)
    await wait_for(pilot, lambda: select.value != Select.NULL)
    select.value = MODEL
    app.screen.query_one("#chat-input", Input).focus()


@pytest.mark.engine
async def test_a_streamed_answer_appears_as_markdown(services: WizardDeps, ollama_server: Any) -> None:
    app = create_app(dataclasses.replace(services, ollama_url=ollama_server.url))
    async with app.run_test(size=(100, 30)) as pilot:
        await open_chat(pilot, app)
        # Connected: the blank entry of the model list no longer says there is no server.
        assert app.screen.query_one("#chat-model", Select).prompt == "(pick a model)"
        await pilot.press(*"Name two colours as a short markdown list.")
        await pilot.press("enter")
        answer = app.screen.query(Markdown).last()
        await wait_for(pilot, lambda: "decode" in status(app) and "total" in status(app))  # the final line
        assert answer.source.strip(), "the answer stayed empty"
        assert "TTFT" in status(app)
        history = app.screen.history  # type: ignore[attr-defined]
        assert [m["role"] for m in history] == ["user", "assistant"]
        assert history[1]["content"] == answer.source
        # A second turn carries the first as context.
        await pilot.press(*"One more?", "enter")
        await wait_for(pilot, lambda: len(app.screen.history) == 4)  # type: ignore[attr-defined]


@pytest.mark.engine
async def test_esc_stops_a_streaming_answer_and_new_chat_clears(
    services: WizardDeps, ollama_server: Any
) -> None:
    app = create_app(dataclasses.replace(services, ollama_url=ollama_server.url))
    async with app.run_test(size=(100, 30)) as pilot:
        await open_chat(pilot, app)
        await pilot.press(*"Write a very long story about a lighthouse, at least 400 words.", "enter")
        answer = app.screen.query(Markdown).last()
        await wait_for(pilot, lambda: len(answer.source) > 10)
        await pilot.press("escape")
        await wait_for(pilot, lambda: "stopped" in status(app))
        assert not app.screen.is_streaming  # type: ignore[attr-defined]
        assert "*(stopped)*" in answer.source
        # The UI still answers keys; a new chat empties the transcript.
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert len(app.screen.query(Markdown)) == 0
        assert app.screen.history == []  # type: ignore[attr-defined]


@pytest.mark.engine
async def test_a_long_answer_is_redrawn_a_few_times_a_second_not_per_token(
    services: WizardDeps, ollama_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every redraw is CPU the model needs on a small laptop: the text is flushed every REDRAW_S.
    import time

    from toolkit.tui.screens import chat

    monkeypatch.setattr(chat, "CHAT_OPTIONS", {"num_predict": 200})
    redraws: list[float] = []
    original = Markdown.append

    def counted(self: Markdown, markdown: str) -> Any:
        redraws.append(time.perf_counter())
        return original(self, markdown)

    monkeypatch.setattr(Markdown, "append", counted)
    app = create_app(dataclasses.replace(services, ollama_url=ollama_server.url))
    async with app.run_test(size=(100, 30)) as pilot:
        await open_chat(pilot, app)
        await pilot.press(*"Write a long story about a lighthouse keeper.", "enter")
        await wait_for(pilot, lambda: "total" in status(app))  # the final line
        trace = app.screen.last_trace  # type: ignore[attr-defined]
        answer = app.screen.query(Markdown).last()
    assert trace is not None and trace.server.eval_count > 60  # the model may end its story early
    assert answer.source == trace.text  # nothing lost by batching
    # No two redraws closer than REDRAW_S (the final flush aside).
    gaps = [b - a for a, b in itertools.pairwise(redraws[:-1])]
    assert gaps and min(gaps) >= chat.REDRAW_S * 0.9
    # And no more redraws than the rule allows for the chunks as they arrived in this run (a chunk
    # redraws only once REDRAW_S has passed since the last redraw; ×0.9 for the redraw's own delay): a
    # redraw per chunk fails this wherever chunks come faster than REDRAW_S, and a slow machine whose
    # chunks come further apart than that is allowed one redraw each.
    allowed, last = 1, float("-inf")  # 1: the final flush
    for arrived in trace.content_times:
        if arrived - last >= chat.REDRAW_S * 0.9:
            allowed, last = allowed + 1, arrived
    assert len(redraws) <= allowed, (len(redraws), allowed, len(trace.content_times))


async def test_chat_without_a_server_says_what_to_do(services: WizardDeps) -> None:
    app = create_app(services, start="chat")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "Launch step" in status(app)
        notes = notes_of(app)
        assert notes and notes[0].severity == "error"
        assert "What to do" in notes[0].message
        # Sending without a model warns instead of failing.
        await pilot.press(*"hello", "enter")
        assert any("No model selected" in n.message for n in notes_of(app))
        assert app.screen.query_one("#chat-model", Select).prompt == "(no server yet)"
