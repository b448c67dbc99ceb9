"""The whole wizard, keys only: Machine → Model → Compose → Launch → Benchmark → Chat, against the real
loopback test server (llama.cpp under Ollama's API) in attach mode."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from textual.widgets import Input, Markdown, Static

from toolkit.tui.app import create_app
from toolkit.tui.deps import WizardDeps

from .conftest import settle, text_of, tiny_bench

MODEL = "smollm2:135m"


@pytest.mark.engine
async def test_from_detection_to_a_streamed_chat_answer(
    services: WizardDeps, ollama_server: Any, tmp_path: Any
) -> None:
    svc = dataclasses.replace(
        services,
        ollama_url=ollama_server.url,
        history_path=tmp_path / "history.sqlite3",
        bench_overrides=tiny_bench((1,)),
    )
    app = create_app(svc)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        assert "Detected." in text_of(app.screen.query_one("#machine-status", Static))

        await pilot.press("n")  # Model: the pick is made for the detected machine
        await settle(pilot)
        assert app.current_mode == "model" and app.choice is not None

        await pilot.press("n", "s")  # Compose: saved into the project directory
        await settle(pilot)
        assert app.compose_path == svc.compose_path and svc.compose_path.exists()
        assert app.choice.tag in svc.compose_path.read_text()

        await pilot.press("n")  # Launch: the picked tag is prefilled; the test server only has the toy models
        model_field = app.screen.query_one("#launch-model", Input)
        assert model_field.value == app.choice.tag
        model_field.value = MODEL
        await pilot.press("ctrl+s")
        await settle(pilot, 120)
        assert app.engine == (ollama_server.url, MODEL)

        await pilot.press("n", "b")  # Benchmark: a one-request run
        await settle(pilot, 120)
        assert "complete" in text_of(app.screen.query_one("#bench-result", Static))

        await pilot.press("n")  # Chat
        await settle(pilot)
        await pilot.press(*"Say hello.", "enter")
        await settle(pilot, 120)
        answer = app.screen.query(Markdown).last()
        assert answer.source.strip()
        assert "tok/s" in text_of(app.screen.query_one("#chat-status", Static))
