"""The help screen: what each step does and every key, reachable with ? or F1 from anywhere."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from toolkit.tui.steps import STEPS

KEYS = """
| Key | Does |
|---|---|
| 1 … 6 | jump to a step (or click its name in the step bar) |
| n / p | next / previous step |
| c (Launch), ctrl+o (Chat) | connect an app: URLs, model name, env lines, snippets, a key to copy each |
| b, t, u (Benchmark) | run a quick benchmark; tune for 1 user, for 4 users at once |
| ctrl+t | team: share this laptop with teammates (a key each), or join a teammate's share |
| ctrl+p | command palette: every step and action by name |
| ? or F1 | this help |
| esc | stop what is running on this step (a pull, a benchmark, an answer) |
| ctrl+q | quit (running steps are cancelled and cleaned up) |

Errors appear as notifications in the corner with what to do about them.
Colours follow your terminal; set `NO_COLOR=1` for a monochrome screen.
"""


def help_markdown() -> str:
    lines = ["# gpuless wizard", "", "From a bare laptop to a streaming chat, one step per screen.", ""]
    lines += [f"{step.key}. **{step.title}**: {step.summary}" for step in STEPS]
    return "\n".join(lines) + "\n" + KEYS


class HelpScreen(ModalScreen[None]):
    """A modal over the current step; any of esc, q, ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "app.pop_screen", "Close help"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Markdown(help_markdown())
