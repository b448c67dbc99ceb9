"""Text from a server or typed by the user is shown as it is: brackets are not read as markup, and no
escape sequence reaches the terminal.

A hostile or merely unusual server (tests/faults, fault "markup") names its model ``[/]m[b]:latest``,
answers with ``list[int] [/]`` and fails with an error carrying ``[/]``; the user asks about
``list[int]``. Read as Textual/Rich markup, the brackets vanished from the screen, and a stray ``[/]``
crashed the step.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from rich.console import Console
from textual.widgets import Input, Markdown, Select, Static

from tests.faults.server import MARKUP_MODEL, FaultServer
from tests.tui.notes import error_messages
from toolkit.tui.app import create_app
from toolkit.tui.deps import WizardDeps
from toolkit.tui.widgets.bench_history import history_table

from .conftest import settle


@dataclasses.dataclass(frozen=True)
class ChatSeen:
    """What the Chat step showed of two questions to a fault server (the second answer is an error)."""

    model: object
    asked: str
    answer: str
    errors: list[str]
    input_enabled: bool


async def chat_twice(services: WizardDeps, fault: str, question: str) -> ChatSeen:
    with FaultServer(fault) as server:
        app = create_app(dataclasses.replace(services, ollama_url=server.url))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("6")
            await settle(pilot, 10)
            model = app.screen.query_one("#chat-model", Select).value
            app.screen.query_one("#chat-input", Input).focus()
            await pilot.press(*question, "enter")
            await settle(pilot, 10)
            asked = app.screen.query(".msg-user").last()
            assert isinstance(asked, Static)
            answer = app.screen.query(Markdown).last().source
            await pilot.press(*"again", "enter")
            await settle(pilot, 10)
            errors = error_messages(app)
            enabled = not app.screen.query_one("#chat-input", Input).disabled
            assert app.return_code is None  # still running: nothing crashed
            return ChatSeen(model, str(asked.render()), answer, errors, enabled)


async def test_chat_shows_brackets_from_the_user_and_the_server(services: WizardDeps) -> None:
    seen = await chat_twice(services, "markup", "what is list[int]? [/]")
    assert seen.model == MARKUP_MODEL  # the server's only model, listed under its own name
    assert seen.asked == "what is list[int]? [/]"
    assert seen.answer == "It is list[int] [/] ok"
    # the second request fails with an error carrying "[/]": one notification, the step lives on
    assert any("model crashed [/] at list[int]" in message for message in seen.errors), seen.errors
    assert seen.input_enabled


def test_a_history_row_with_markup_in_its_name_renders_as_named() -> None:
    class Run:
        id = 7
        started_at = "2026-11-30T01:00:00"
        name = "[/]m[b]:latest\x1b[31m"
        status = "complete [/]"
        error = None
        requests = 3
        summary: ClassVar[dict[str, Any]] = {}

    console = Console(width=120, record=True, no_color=True)
    console.print(history_table([Run()], "[/]m[b]:latest"))
    shown = console.export_text()
    assert "[/]m[b]:latest" in shown and "complete [/]" in shown and "Earlier runs of [/]m[b]:latest" in shown
    assert "\x1b" not in shown


async def test_chat_keeps_escape_sequences_from_the_terminal(services: WizardDeps) -> None:
    # fault "escapes": the model's name and its answer carry a title change, a screen clear and colours
    seen = await chat_twice(services, "escapes", "hello")
    assert seen.model == "m\x1b[31m:latest"  # the real name, for the API
    assert seen.answer.strip() == "Hello world" and "\x1b" not in seen.answer and "\x07" not in seen.answer
    assert seen.errors and all("\x1b" not in m and "\x07" not in m for m in seen.errors), seen.errors
    assert any("model crashed" in m for m in seen.errors)
