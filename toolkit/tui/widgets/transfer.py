"""A labelled progress bar for a download: bytes done of total, and the speed over the last seconds."""

from __future__ import annotations

import time
from collections import deque

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar

from toolkit.tui import fmt

#: Speed is averaged over this many seconds of progress events.
SPEED_WINDOW_S = 3.0


class Transfer(Horizontal):
    """``Image  [=====-----]  1.2 GiB / 3.4 GiB · 45 MiB/s · Downloading``"""

    DEFAULT_CSS = """
    Transfer { height: 1; }
    Transfer > .transfer-name { width: 8; text-style: bold; }
    Transfer > ProgressBar { width: 30; }
    Transfer > .transfer-detail { width: 1fr; color: $text-muted; padding-left: 1; }
    """

    def __init__(self, name: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.label = name
        self._samples: deque[tuple[float, int]] = deque()

    def compose(self) -> ComposeResult:
        yield Label(self.label, classes="transfer-name")
        yield ProgressBar(total=100, show_eta=False, show_percentage=True)
        yield Label("waiting", classes="transfer-detail")

    def reset(self, detail: str = "waiting") -> None:
        self._samples.clear()
        self.query_one(ProgressBar).update(total=100, progress=0)
        self.detail(detail)

    def detail(self, text: str) -> None:
        self.query_one(".transfer-detail", Label).update(text)

    def advance_to(self, status: str, completed: int | None, total: int | None) -> None:
        """Show one progress event (bytes over all layers so far, as the engine reported them)."""
        bar = self.query_one(ProgressBar)
        if total:
            bar.update(total=total, progress=completed or 0)
        if completed is None or not total:
            self.detail(status)
            return
        now = time.monotonic()
        self._samples.append((now, completed))
        while self._samples and now - self._samples[0][0] > SPEED_WINDOW_S:
            self._samples.popleft()
        speed = None
        if len(self._samples) >= 2:
            (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
            if t1 > t0:
                speed = (b1 - b0) / (t1 - t0)
        parts = [f"{fmt.size(completed)} / {fmt.size(total)}"]
        if speed is not None:
            parts.append(fmt.rate(speed))
        parts.append(status)
        self.detail(" · ".join(parts))

    def finish(self, text: str) -> None:
        bar = self.query_one(ProgressBar)
        bar.update(total=bar.total or 1, progress=bar.total or 1)
        self.detail(text)
