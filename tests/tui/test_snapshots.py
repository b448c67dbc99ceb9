"""SVG snapshots of every step at 60x20, 80x24 and 120x40 (update with ``pytest --snapshot-update``).

Deterministic by construction: a fixed machine, the shipped catalog, a compose directory that does not
exist, no server (a closed loopback port), history off and nothing running.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from toolkit.tui.app import create_app
from toolkit.tui.deps import WizardDeps
from toolkit.tui.steps import STEP_IDS

from .conftest import settle

SIZES = [(60, 20), (80, 24), (120, 40)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("step", STEP_IDS)
def test_step_snapshot(snap_compare: Any, services: WizardDeps, step: str, size: tuple[int, int]) -> None:
    fixed = dataclasses.replace(services, compose_dir=Path("/nonexistent/gpuless-project"))
    app = create_app(fixed, start=step)

    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        if step in ("chat", "launch"):
            pilot.app.screen.set_focus(None)  # no blinking cursor in the picture (it made launch flaky)

    assert snap_compare(app, terminal_size=size, run_before=ready)


def test_help_snapshot(snap_compare: Any, services: WizardDeps) -> None:
    app = create_app(services)

    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)


def test_connect_snapshot(snap_compare: Any, services: WizardDeps) -> None:
    app = create_app(services, start="launch")

    async def ready(pilot: Pilot[None]) -> None:
        pilot.app.action_connect("http://127.0.0.1:11434", "smollm2:135m")  # type: ignore[attr-defined]
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)


def test_launch_without_docker_snapshot(
    snap_compare: Any, services: WizardDeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The no-Docker panel at 80x24 (Linux advice, no `ollama` on PATH: both fixed here)."""
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    monkeypatch.setattr("platform.system", lambda: "Linux")
    monkeypatch.setattr("shutil.which", lambda _name: None)
    fixed = dataclasses.replace(
        services, launch_mode="docker", compose_dir=Path("/nonexistent/gpuless-project")
    )
    app = create_app(fixed, start="launch")

    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        pilot.app.screen.query_one("#launch-model").value = "qwen2.5:1.5b"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)
