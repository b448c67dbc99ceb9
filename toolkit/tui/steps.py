"""The wizard's steps in order: one place that names them, their keys and what each is for.

The app registers one Textual *mode* per step, so each step keeps its state (a running pull, a chat)
while the user looks at another one, and every step is reachable directly by its number key, from the
step bar and from the command palette.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """One wizard step.

    Attributes:
        id: the mode name, also used in CSS ids.
        title: short name shown in the step bar.
        key: the key that jumps to it.
        summary: one line for the help screen and the command palette.
    """

    id: str
    title: str
    key: str
    summary: str


STEPS: tuple[Step, ...] = (
    Step("machine", "Machine", "1", "What was detected, and the warnings that change the plan."),
    Step("model", "Model", "2", "Ranked models with predicted memory, tokens/s and TTFT; pick one."),
    Step("compose", "Compose", "3", "The tuned compose.yaml, explained; diff and save with a backup."),
    Step("launch", "Launch", "4", "Pull the image and the model, wait for the server, verify the settings."),
    Step(
        "benchmark", "Benchmark", "5", "Measure tokens/s and TTFT; compare with the prediction and history."
    ),
    Step("chat", "Chat", "6", "Chat with the model: streamed Markdown answers, live speed."),
)

STEP_IDS: tuple[str, ...] = tuple(step.id for step in STEPS)


def step_by_id(step_id: str) -> Step:
    for step in STEPS:
        if step.id == step_id:
            return step
    raise KeyError(step_id)


def next_step(step_id: str, offset: int = 1) -> Step | None:
    """The step ``offset`` places after ``step_id`` (before it when negative), None past either end."""
    index = STEP_IDS.index(step_id) + offset
    return STEPS[index] if 0 <= index < len(STEPS) else None
