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
from toolkit.tui.app import create_app
from toolkit.tui.screens.benchmark import history_table
from toolkit.tui.services import Services

from .conftest import settle


async def test_chat_shows_brackets_from_the_user_and_the_server(services: Services) -> None:
    with FaultServer("markup") as server:
        app = create_app(dataclasses.replace(services, ollama_url=server.url))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("6")
            await settle(pilot, 10)
            select = app.screen.query_one("#chat-model", Select)
            assert select.value == MARKUP_MODEL  # the server's only model, listed under its own name
            app.screen.query_one("#chat-input", Input).focus()
            await pilot.press(*"what is list[int]? [/]", "enter")
            await settle(pilot, 10)
            asked = app.screen.query(".msg-user").last()
            assert isinstance(asked, Static)
            assert str(asked.render()) == "what is list[int]? [/]"
            assert app.screen.query(Markdown).last().source == "It is list[int] [/] ok"
            # the second request fails with an error carrying "[/]": one notification, the step lives on
            await pilot.press(*"again", "enter")
            await settle(pilot, 10)
            errors = [n.message for n in app._notifications if n.severity == "error"]
            assert any("model crashed [/] at list[int]" in message for message in errors), errors
            assert app.screen.query_one("#chat-input", Input).disabled is False
            assert app.return_code is None  # still running: nothing crashed


def test_a_history_row_with_markup_in_its_name_renders_as_named() -> None:
    class Run:
        id = 7
        started_at = "2026-11-30T01:00:00"
        name = "[/]m[b]:latest\x1b[31m"
        status = "complete [/]"
        summary: ClassVar[dict[str, Any]] = {}

    console = Console(width=120, record=True, no_color=True)
    console.print(history_table([Run()], "[/]m[b]:latest"))
    shown = console.export_text()
    assert "[/]m[b]:latest" in shown and "complete [/]" in shown and "Earlier runs of [/]m[b]:latest" in shown
    assert "\x1b" not in shown


async def test_chat_keeps_escape_sequences_from_the_terminal(services: Services) -> None:
    # fault "escapes": the model's name and its answer carry a title change, a screen clear and colours
    with FaultServer("escapes") as server:
        app = create_app(dataclasses.replace(services, ollama_url=server.url))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("6")
            await settle(pilot, 10)
            select = app.screen.query_one("#chat-model", Select)
            assert select.value == "m\x1b[31m:latest"  # the real name, for the API
            app.screen.query_one("#chat-input", Input).focus()
            await pilot.press(*"hello", "enter")
            await settle(pilot, 10)
            answer = app.screen.query(Markdown).last().source
            assert answer.strip() == "Hello world" and "\x1b" not in answer and "\x07" not in answer
            await pilot.press(*"again", "enter")  # the second answer is an error with escapes in it
            await settle(pilot, 10)
            errors = [n.message for n in app._notifications if n.severity == "error"]
            assert errors and all("\x1b" not in m and "\x07" not in m for m in errors), errors
            assert any("model crashed" in m for m in errors)
