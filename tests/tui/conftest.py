"""Fixtures for the wizard's pilot and snapshot tests: a fixed machine and services pointing at tmp dirs.

Snapshots must not change between runs, so the machine is a fixed value (not detection), the compose
directory is a temporary one, history is off unless a test asks for it, and ``live`` is False.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static

from tests.builders import laptop
from tests.tui.notes import recording  # noqa: F401  (autouse: every notification is recorded)
from toolkit.core.machine.hardware import Machine
from toolkit.settings import Settings
from toolkit.tui.deps import WizardDeps

#: A port on loopback where nothing listens: the "engine unreachable" case, answered at once.
CLOSED_URL = "http://127.0.0.1:9"


def tiny_bench(concurrency: tuple[int, ...] = ()) -> dict[str, Any]:
    """The smallest benchmark the Benchmark step runs (``Services.bench_overrides``): one chat request of
    8 tokens without a warm-up, then the sweep's ``concurrency`` levels (none by default)."""
    return {"reps": 1, "num_predict": 8, "shapes": ("chat",), "concurrency": concurrency, "warmup": False}


@pytest.fixture
def machine() -> Machine:
    return laptop()


@pytest.fixture
def services(tmp_path: Path, machine: Machine) -> WizardDeps:
    settings = Settings(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache")
    return WizardDeps(
        settings=settings,
        ollama_url=CLOSED_URL,
        detect=lambda: machine,
        compose_dir=tmp_path / "project",
        launch_mode="attach",
        history_path=None,
    )


async def settle(pilot: Pilot[None], seconds: float = 30.0) -> None:
    """Let every worker finish (failed ones included: their failure is what some tests check)."""
    for _ in range(int(seconds / 0.05)):
        await pilot.pause(0.05)
        if not any(w.is_running or w.state.name == "PENDING" for w in pilot.app.workers):
            await pilot.pause()
            return
    raise AssertionError(f"workers still running after {seconds} s")


def text_of(widget: Static, width: int = 200) -> str:
    """The plain text a Static shows (strings, rich Text, tables, syntax) as rendered at ``width``."""
    content = widget.content
    if isinstance(content, str):
        return content
    console = Console(width=width, no_color=True, record=True, file=io.StringIO())
    console.print(content)
    return console.export_text()
