"""Chat: a model switch starts a new conversation and says so. Quitting says what is still running."""

from __future__ import annotations

import dataclasses

from textual.containers import VerticalScroll
from textual.widgets import Select, Static

from toolkit.tui.app import create_app, still_running
from toolkit.tui.deps import WizardDeps

from .conftest import settle, text_of


async def test_switching_the_model_starts_a_new_conversation(services: WizardDeps) -> None:
    app = create_app(services, start="chat")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        select = screen.query_one("#chat-model", Select)
        select.set_options([("smollm2:135m", "smollm2:135m"), ("gemma3:270m", "gemma3:270m")])
        select.value = "smollm2:135m"
        await pilot.pause()
        # A conversation with the first model.
        screen.history.extend(  # type: ignore[attr-defined]
            [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
        )
        await screen.query_one("#chat-log", VerticalScroll).mount(Static("hi", classes="msg-user"))
        select.value = "gemma3:270m"
        await pilot.pause()
        assert screen.history == []  # type: ignore[attr-defined]
        assert not screen.query_one("#chat-log", VerticalScroll).children
        status = text_of(screen.query_one("#chat-status", Static))
        assert status.startswith("Switched from smollm2:135m to gemma3:270m: new conversation.")
        # Choosing the same model again keeps the conversation.
        screen.history.append({"role": "user", "content": "again"})  # type: ignore[attr-defined]
        select.value = "gemma3:270m"
        await pilot.pause()
        assert len(screen.history) == 1  # type: ignore[attr-defined]


async def test_quitting_names_what_is_still_running_and_how_to_stop_it(services: WizardDeps) -> None:
    app = create_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert still_running(app) is None  # nothing launched: nothing to say
        app.engine = ("http://127.0.0.1:11500", "smollm2:135m")
        attached = still_running(app)
        assert attached is not None and "did not start it" in attached
    docker = create_app(dataclasses.replace(services, launch_mode="docker"))
    async with docker.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        docker.engine = ("http://127.0.0.1:11434", "smollm2:135m")
        note = still_running(docker)
        assert note is not None
        assert f"container {services.settings.container_name} at http://127.0.0.1:11434" in note
        assert "`gpuless down`" in note
