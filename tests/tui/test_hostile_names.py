"""Issue 20 item 1 in the wizard: a server whose model name, version, errors and answers carry a
window-title change (OSC), a colour (CSI), an 8-bit CSI (0x9b) and a DCS string (tests/faults fault
"hostile") reaches no screen of the wizard (Chat, Connect, Benchmark) as a control character.

The pilot's screen is exported as the terminal would draw it (``export_screenshot``, the rendered
segments); the wizard's own styling is not text, so any ESC, BEL or C1 byte in it came from the server.
"""

from __future__ import annotations

import dataclasses
import html
import re

from textual.widgets import Input

from tests.faults.server import HOSTILE_MODEL, FaultServer
from tests.tui.notes import error_messages
from toolkit.tui.app import create_app
from toolkit.tui.deps import WizardDeps

from .conftest import settle

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _text(shot: str) -> str:
    """The words of an exported screen (tags dropped, entities and non-breaking spaces undone)."""
    return html.unescape(re.sub(r"<[^>]+>", "", shot.split("</style>")[-1])).replace("\xa0", " ")


def _check(shot: str, where: str) -> None:
    found = _CONTROL.findall(shot)
    assert not found, f"{where}: {found[:5]}"


async def test_hostile_names_reach_no_wizard_screen(services: WizardDeps) -> None:
    with FaultServer("hostile") as server:
        app = create_app(dataclasses.replace(services, ollama_url=server.url))
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("6")  # Chat: lists the server's models, answers, then fails
            await settle(pilot, 10)
            app.screen.query_one("#chat-input", Input).focus()
            await pilot.press(*"hi", "enter")
            await settle(pilot, 10)
            await pilot.press(*"again", "enter")
            await settle(pilot, 10)
            shot = app.export_screenshot()
            _check(shot, "chat")
            assert "PWNED-TITLE" not in shot and "dcs-payload" not in shot  # the sequences went whole
            errors = error_messages(app)
            assert errors and not any(_CONTROL.search(m) for m in errors), errors
            app.action_connect(server.url, HOSTILE_MODEL)
            await settle(pilot, 5)
            shot = app.export_screenshot()
            _check(shot, "connect")
            # The name is shown without its sequences (a snippet shows it JSON-escaped, as text).
            assert "evilRED:latest" in shot
            assert "POST /api/chat" in server.requests


async def test_hostile_names_reach_no_benchmark_screen(services: WizardDeps) -> None:
    overrides = {"reps": 1, "shapes": ("chat",), "concurrency": (), "num_predict": 8, "max_seconds": 20.0}
    with FaultServer("hostile") as server:
        svc = dataclasses.replace(services, ollama_url=server.url, bench_overrides=overrides)
        app = create_app(svc, start="benchmark")
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot, 1)
            await pilot.press("b")  # the server's first model: the hostile name
            await settle(pilot, 10)
            shot = app.export_screenshot()
            _check(shot, "benchmark")
            assert "PWNED-TITLE" not in shot and "dcs-payload" not in shot
            assert "warm-up done" in _text(shot)  # the run got past loading the hostile-named model
            errors = error_messages(app)
            assert any("model crashedevilRED second line" in m for m in errors), errors
            assert not any(_CONTROL.search(m) for m in errors)
