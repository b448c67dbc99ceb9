"""The row of step names under the header: where you are, and a click target for every step."""

from __future__ import annotations

from textual.content import Content
from textual.events import Resize
from textual.widgets import Static

from toolkit.tui.steps import STEPS


def step_labels(width: int) -> tuple[list[str], str]:
    """The steps' labels and their separator, the roomiest form that fits ``width`` columns: every step
    stays named down to 60 columns (`` 1 Machine › … `` at 80, ``1 Machine›…`` at 60), then the numbers."""
    forms = (
        ([f" {s.key} {s.title} " for s in STEPS], "›"),
        ([f"{s.key} {s.title}" for s in STEPS], "›"),
        ([f" {s.key} " for s in STEPS], "›"),
    )
    for labels, separator in forms:
        if sum(map(len, labels)) + len(separator) * (len(labels) - 1) <= width:
            return labels, separator
    return forms[-1]


class StepBar(Static):
    """``1 Machine › 2 Model › …`` with the current step highlighted; each name is clickable."""

    def __init__(self, current: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.current = current

    def on_mount(self) -> None:
        self.update(self.render_steps(self.size.width or 80))

    def on_resize(self, event: Resize) -> None:
        self.update(self.render_steps(event.size.width))

    def render_steps(self, width: int = 80) -> Content:
        labels, separator = step_labels(width)
        parts: list[Content] = []
        for step, label in zip(STEPS, labels, strict=True):
            style = "reverse bold" if step.id == self.current else ""
            action = f"@click=app.goto('{step.id}')"
            parts.append(Content.styled(label, f"{style} {action}".strip()))
        return Content(separator).join(parts)
