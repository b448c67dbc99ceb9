"""The wizard with a model that thinks, on the test server's thinking model (Ollama's rules: see
tests/engine/test_thinking_models.py): Chat sends thinking off and says so, Chat and the Connect panel warn
that other clients get thinking on, and the Benchmark step's result says thinking was off, as the CLI does.
"""

from __future__ import annotations

import dataclasses

import pytest
from textual.widgets import Input, Markdown, Select, Static

from tests.ollama_server.fixtures import ServerHandle
from toolkit.core.catalog.thinking import chat_note, served_thinking_warning, thinking_line
from toolkit.tui.app import create_app
from toolkit.tui.deps import WizardDeps
from toolkit.tui.screens.chat import ChatScreen

from .conftest import settle, text_of, tiny_bench
from .test_chat import status, wait_for
from .test_connect import panel_text

THINK = "smollm2-think:135m"
PLAIN = "smollm2:135m"

pytestmark = pytest.mark.engine


async def test_chat_turns_thinking_off_and_warns_only_for_the_model_that_thinks(
    services: WizardDeps, ollama_thinking_server: ServerHandle
) -> None:
    app = create_app(dataclasses.replace(services, ollama_url=ollama_thinking_server.url), start="chat")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        select = screen.query_one("#chat-model", Select)
        line = screen.query_one("#chat-thinking", Static)
        select.value = THINK
        await settle(pilot)
        assert line.display
        assert text_of(line) == f"{chat_note(THINK, think=False)}\n{served_thinking_warning(THINK)}"
        assert "thinking off" in text_of(line)

        screen.query_one("#chat-input", Input).focus()
        await pilot.press(*"What is the capital of France?", "enter")
        await wait_for(pilot, lambda: "decode" in status(app) and "total" in status(app))  # the final line
        answer = screen.query(Markdown).last().source
        trace = screen.last_trace
        assert trace is not None and trace.text.strip(), "the answer stayed empty"
        # Thinking off: no reasoning arrived at all (with it on, the server sends reasoning chunks first),
        # and the answer holds none of the template's thinking block.
        assert trace.reasoning_times == ()
        assert "<think>" not in answer and "</think>" not in answer
        assert screen.history[-1] == {"role": "assistant", "content": trace.text}

        select.value = PLAIN  # a model that cannot think: the line goes
        await settle(pilot)
        assert not line.display


@pytest.mark.parametrize("model", [THINK, PLAIN])
async def test_connect_panel_warns_when_the_served_model_thinks(
    services: WizardDeps, ollama_thinking_server: ServerHandle, model: str
) -> None:
    app = create_app(dataclasses.replace(services, ollama_url=ollama_thinking_server.url))
    async with app.run_test(size=(120, 40)) as pilot:
        app.action_connect(ollama_thinking_server.url, model)
        await settle(pilot)
        text = panel_text(app)
        assert f"model            {model}" in text  # the panel found the server and the model
        assert '"none"' in text  # every snippet turns thinking off, whatever the model
        summary = text_of(app.screen.query_one("#connect-summary", Static))
        assert (served_thinking_warning(model) in summary) is (model == THINK)


@pytest.mark.parametrize("model", [THINK, PLAIN])
async def test_benchmark_result_says_thinking_was_off(
    services: WizardDeps, ollama_thinking_server: ServerHandle, model: str
) -> None:
    svc = dataclasses.replace(
        services,
        ollama_url=ollama_thinking_server.url,
        bench_overrides=tiny_bench(),
    )
    app = create_app(svc, start="benchmark")
    async with app.run_test(size=(120, 40)) as pilot:
        app.engine = (ollama_thinking_server.url, model)
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot, 120)
        assert "(complete)" in text_of(app.screen.query_one("#bench-result", Static))
        live = text_of(app.screen.query_one("#bench-live", Static)).splitlines()
        # thinking off, and none of the reasoning the model would write came: the line has no "but ..."
        assert thinking_line(False, 0) in live
        assert (served_thinking_warning(model) in live) is (model == THINK)
