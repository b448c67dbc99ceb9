"""Messages the steps send to the app when they produce something later steps need.

Screens never reach into each other: a step posts one of these, the app records it in its reactive
wizard state, and the screens that care watch that state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.message import Message

from toolkit.core.machine.hardware import Machine


class MachineDetected(Message):
    """Detection finished (or a machine was chosen from a hardware profile)."""

    def __init__(self, machine: Machine) -> None:
        super().__init__()
        self.machine = machine


class ModelChosen(Message):
    """The user picked a model row (``choice`` is the recommendation's candidate object)."""

    def __init__(self, choice: Any) -> None:
        super().__init__()
        self.choice = choice


class ComposeSaved(Message):
    """compose.yaml was written."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path


class EngineReady(Message):
    """An Ollama server answers at ``url`` and has ``model``."""

    def __init__(self, url: str, model: str) -> None:
        super().__init__()
        self.url = url
        self.model = model
