"""Text from elsewhere shown in the wizard exactly as it is.

Textual reads ``[...]`` in a string as markup, and Rich does the same in a table cell: a model name, an
error or a question with brackets in it lost them on screen (``list[int]`` showed as ``list``), and one
with a stray closing tag (``[/]``) crashed the step. The wizard's text widgets are
``toolkit.tui.widgets.plain.Plain`` (no markup); what goes through Rich (table cells, titles, the chat's
model list) or through the few widgets that use markup for their own key hints passes through here.
Escape sequences are removed as in the CLI (``toolkit.core.safe_text``).
"""

from __future__ import annotations

from rich.text import Text
from textual.markup import escape

from toolkit.core.safe_text import terminal_safe


def plain(value: object) -> Text:
    """``value`` as Rich text that no markup is read into (for table cells and titles)."""
    return Text(terminal_safe(str(value)))


def escaped(value: object) -> str:
    """``value`` for a string that other parts mark up: its own brackets shown, not read."""
    return escape(terminal_safe(str(value)))
