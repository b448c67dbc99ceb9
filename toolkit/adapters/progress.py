"""Progress of a long download (a container image or a model), reported through one callback type.

The CLI draws a progress bar from these events and the TUI will draw its own; the runners only call
the callback, so they never know how progress is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Progress:
    """One progress event.

    Attributes:
        phase: "image" (Docker image pull), "health" (waiting for the container's healthcheck; no
            byte counts) or "model" (Ollama ``/api/pull``).
        status: the engine's own words, e.g. "Downloading", "pulling manifest", "success".
        completed: bytes done so far over all layers, None when not known yet.
        total: bytes to download over all layers seen so far, None when not known.
    """

    phase: Literal["image", "health", "model"]
    status: str
    completed: int | None = None
    total: int | None = None

    @property
    def fraction(self) -> float | None:
        if self.completed is None or not self.total:
            return None
        return min(1.0, self.completed / self.total)


ProgressCallback = Callable[[Progress], None]


class LayerTotals:
    """Sums per-layer byte counts into one completed/total pair (layers report independently)."""

    def __init__(self) -> None:
        self._done: dict[str, int] = {}
        self._total: dict[str, int] = {}

    def update(self, layer: str, completed: int | None, total: int | None) -> tuple[int | None, int | None]:
        if total:
            self._total[layer] = total
        if completed is not None:
            self._done[layer] = completed
        if not self._total:
            return None, None
        return sum(self._done.values()), sum(self._total.values())

    def finish(self, layer: str) -> None:
        """A layer is complete (e.g. "Pull complete"): count all of its bytes as done."""
        if layer in self._total:
            self._done[layer] = self._total[layer]
