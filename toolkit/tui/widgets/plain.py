"""A text widget for text that may come from elsewhere: shown as it is, never read as markup.

Every status line, result and message of the wizard can hold a server's words (model names, errors,
answers) or the user's: Textual would read their brackets as markup (and crash on a stray ``[/]``) and
pass escape sequences through to the terminal (a title change, a cleared screen). ``Plain`` is a
``Static`` with markup off whose string content is cleaned like the CLI's output
(``toolkit.core.safe_text.terminal_safe``); rich renderables (tables, syntax) are shown as given.
"""

from __future__ import annotations

from typing import Any

from textual.visual import VisualType
from textual.widgets import Static

from toolkit.core.safe_text import terminal_safe


class Plain(Static):
    """``Static`` for outside text: no markup, no escape sequences."""

    def __init__(self, content: VisualType = "", **kwargs: Any) -> None:
        super().__init__(_clean(content), markup=False, **kwargs)

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        super().update(_clean(content), layout=layout)


def _clean(content: VisualType) -> VisualType:
    return terminal_safe(content) if isinstance(content, str) else content
