"""compose.yaml as the Compose step shows it: comments wrapped as comments, whatever the terminal's width.

Soft wrapping (rich's ``word_wrap``) continues a long ``# comment`` on a line without ``#``, which reads as
YAML that is not there, and copies as broken YAML. So before it is highlighted, every comment longer than
the width is re-wrapped into lines that each start with the comment's own indent and ``#``; a comment
after a value (``key: v  # why``) moves above its line. Only the picture changes: the file written is the
text as generated.
"""

from __future__ import annotations

import re
import textwrap

from rich.console import Console, ConsoleOptions, RenderResult
from rich.syntax import Syntax

#: A comment after a YAML value: two spaces or more, then ``#`` and a space (a ``#`` inside a value,
#: as in a URL fragment, has no space before it).
_TRAILING = re.compile(r"^(?P<code>\s*\S.*?)\s{2,}#\s(?P<comment>.*)$")
#: Columns the panel's border and the scroll bar take from the width rich gives.
_MARGIN = 1


def wrap_comments(text: str, width: int) -> str:
    """``text`` with every comment line wider than ``width`` re-wrapped into ``#`` lines."""
    width = max(width, 20)
    out: list[str] = []
    for line in text.splitlines():
        if len(line) <= width:
            out.append(line)
            continue
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if stripped.startswith("#"):
            comment, code = stripped.lstrip("#").strip(), None
        elif (match := _TRAILING.match(line)) is not None and '"' not in match["comment"]:
            comment, code = match["comment"], match["code"]
        else:
            out.append(line)  # a long value: left to the soft wrap
            continue
        prefix = f"{indent}# "
        out += textwrap.wrap(
            comment, width, initial_indent=prefix, subsequent_indent=prefix, break_on_hyphens=False
        ) or [prefix.rstrip()]
        if code is not None:
            out.append(code)
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


class YamlView:
    """A rich renderable: ``text`` highlighted as YAML with its comments wrapped to the width it gets."""

    def __init__(self, text: str, theme: str = "ansi_dark") -> None:
        self.text = text
        self.theme = theme

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        wrapped = wrap_comments(self.text, options.max_width - _MARGIN)
        yield Syntax(wrapped, "yaml", theme=self.theme, word_wrap=True)
