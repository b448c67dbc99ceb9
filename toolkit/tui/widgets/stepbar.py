"""The row of step names under the header: where you are, and a click target for every step."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from toolkit.tui.steps import STEPS


class StepBar(Static):
    """``1 Machine › 2 Model › …`` with the current step highlighted; each name is clickable."""

    def __init__(self, current: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.current = current

    def on_mount(self) -> None:
        self.update(self.render_steps())

    def render_steps(self) -> Content:
        parts: list[Content] = []
        for step in STEPS:
            label = f" {step.key} {step.title} "
            style = "reverse bold" if step.id == self.current else ""
            action = f"@click=app.goto('{step.id}')"
            parts.append(Content.styled(label, f"{style} {action}".strip()))
        return Content("›").join(parts)
