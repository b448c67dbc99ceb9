"""The Connect panel: opened from Launch (c), Chat (ctrl+o) and with no server; keys copy each part."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from textual.widgets import Input, Select, Static

from tests.tui.notes import notes_of
from toolkit.core.compose.connect_info import connect_info
from toolkit.tui.app import GpulessApp, create_app
from toolkit.tui.deps import WizardDeps
from toolkit.tui.screens.connect import CLIPBOARD_NOTE, ConnectScreen

from .conftest import CLOSED_URL, settle, text_of

URL = "http://127.0.0.1:11434"
MODEL = "smollm2:135m"


def panel_text(app: GpulessApp) -> str:
    screen = app.screen
    assert isinstance(screen, ConnectScreen)
    return "\n".join(text_of(widget) for widget in screen.query(Static))


def messages(app: GpulessApp) -> list[str]:
    """The Connect panel's notifications (a step behind it may have its own)."""
    return [n.message for n in notes_of(app) if n.title == "Connect"]


async def test_keys_copy_each_part_and_the_first_copy_explains_osc52(services: WizardDeps) -> None:
    app = create_app(services, start="chat")
    async with app.run_test(size=(80, 24)) as pilot:
        app.action_connect(URL, MODEL)
        await settle(pilot)
        text = panel_text(app)
        info = connect_info(URL, MODEL)
        for value in (
            info.openai_base_url,
            info.ollama_url,
            MODEL,
            "OPENAI_API_KEY=ollama",
            "from openai import",
        ):
            assert value in text
        for key, expected in (
            ("y", info.snippet("python").text),
            ("u", info.openai_base_url),
            ("m", MODEL),
            ("e", info.env_lines),
            ("c", info.snippet("curl").text),
            ("j", info.snippet("javascript").text),
            ("o", info.ollama_url),
        ):
            await pilot.press(key)
            assert app.clipboard == expected, key
        notes = messages(app)
        assert notes[0] == "Copied the Python snippet.\n" + CLIPBOARD_NOTE
        assert notes[1] == "Copied the OpenAI base URL."  # the note only once
        await pilot.press("escape")
        assert not isinstance(app.screen, ConnectScreen) and app.current_mode == "chat"


async def test_without_a_server_it_says_what_to_do_and_copies_nothing(services: WizardDeps) -> None:
    app = create_app(services, start="launch")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("escape", "c")  # no model yet: esc leaves the model field, which has the keys
        await settle(pilot)
        assert f"No Ollama server answers at {CLOSED_URL}." in panel_text(app)
        assert "Launch step (press 4)" in panel_text(app)
        await pilot.press("y")
        assert app.clipboard == ""
        assert messages(app)[-1] == "Nothing to copy yet: no server was found."


async def test_a_step_key_leaves_the_panel_for_that_step(services: WizardDeps) -> None:
    app = create_app(services, start="launch")
    async with app.run_test(size=(80, 24)) as pilot:
        app.action_connect(URL, MODEL)
        await settle(pilot)
        await pilot.press("6")
        assert app.current_mode == "chat" and not isinstance(app.screen, ConnectScreen)
        await pilot.press("escape", "4")  # esc leaves the chat prompt so the step key works
        assert app.current_mode == "launch" and not isinstance(app.screen, ConnectScreen)


@pytest.mark.engine
async def test_after_launch_c_opens_it_for_the_launched_model(
    services: WizardDeps, ollama_server: Any
) -> None:
    app = create_app(dataclasses.replace(services, ollama_url=ollama_server.url), start="launch")
    async with app.run_test(size=(80, 24)) as pilot:
        app.screen.query_one("#launch-model", Input).value = MODEL
        await pilot.press("ctrl+s")
        await settle(pilot, 120)
        assert "Press c to connect an app" in text_of(app.screen.query_one("#launch-result", Static))
        await pilot.press("c")
        await settle(pilot)
        assert f"OpenAI base URL  {ollama_server.url}/v1" in panel_text(app)
        await pilot.press("m")
        assert app.clipboard == MODEL


@pytest.mark.engine
async def test_from_chat_ctrl_o_opens_it_for_the_model_being_chatted_with(
    services: WizardDeps, ollama_server: Any
) -> None:
    app = create_app(dataclasses.replace(services, ollama_url=ollama_server.url), start="chat")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        select = app.screen.query_one("#chat-model", Select)
        select.value = "gemma3:270m"
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert "model            gemma3:270m" in panel_text(app)
        await pilot.press("u")
        assert app.clipboard == ollama_server.url + "/v1"
