"""The live counter of a benchmark run: requests done of planned, seconds elapsed, seconds left.

``gpuless bench`` (on stderr) and the wizard's Benchmark step put it before each progress line of
``BenchRunner``; it is fed by the runner's ``on_request`` callback. The arithmetic is
``toolkit.core.bench.schedule``; this adds the clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from toolkit.core.bench.schedule import eta_s, planned_requests, progress_prefix
from toolkit.core.safe_text import terminal_safe


class LiveProgress:
    """Counts finished requests of one run against its plan (``config`` is a ``BenchConfig``)."""

    def __init__(
        self,
        config: Any,
        echo: Callable[[str], None] = lambda _line: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.planned = planned_requests(
            config.reps, config.shapes, config.concurrency, config.rounds, config.max_requests
        )
        self.max_seconds = float(config.max_seconds)
        self.echo = echo
        self.clock = clock
        self.start = clock()
        self.done = 0
        self.first_done: float | None = None

    def prefix(self) -> str:
        """E.g. "[4/13 · 3.2 s · about 6 s left]" as of now."""
        elapsed = self.clock() - self.start
        eta = eta_s(self.planned, self.done, elapsed, self.first_done, self.max_seconds)
        return progress_prefix(self.planned, self.done, elapsed, eta)

    def request(self, _phase: str, _shape: str, _streams: int, _metrics: Any) -> None:
        """The runner's ``on_request``: one more measured request finished."""
        self.done += 1
        if self.first_done is None:
            self.first_done = self.clock() - self.start

    def line(self, text: str) -> None:
        """The runner's ``progress``: echo the line behind the counter, terminal-safe (it names the
        model and the server's errors)."""
        self.echo(terminal_safe(f"{self.prefix()} {text}", one_line=True))
