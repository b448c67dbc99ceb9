"""What the wizard told the user in notifications, recorded as they are made.

Textual keeps the toasts on screen in a private list (``App._notifications``) that also drops them as
they time out; the tests read this record instead. The ``tui`` conftest wraps ``App.notify`` for every
test of the folder (``recording``), so every notification an app made is here, expired or not.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from textual.app import App


@dataclass(frozen=True)
class Note:
    """One notification: its text, title and severity ("information", "warning" or "error")."""

    message: str
    title: str
    severity: str


_made: weakref.WeakKeyDictionary[App[Any], list[Note]] = weakref.WeakKeyDictionary()


def notes_of(app: App[Any]) -> list[Note]:
    """Every notification ``app`` made, oldest first."""
    return list(_made.get(app, []))


def error_messages(app: App[Any]) -> list[str]:
    """The messages of the error notifications ``app`` made."""
    return [note.message for note in notes_of(app) if note.severity == "error"]


@pytest.fixture(autouse=True)
def recording(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Record each ``App.notify`` call (then notify as usual) for the test's duration."""
    original = App.notify

    def notify(self: App[Any], message: str, **kwargs: Any) -> None:
        note = Note(str(message), kwargs.get("title", ""), kwargs.get("severity", "information"))
        _made.setdefault(self, []).append(note)
        original(self, message, **kwargs)

    monkeypatch.setattr(App, "notify", notify)
    yield
