"""One benchmark run as ``gpuless bench`` and the wizard's Benchmark step both make it.

A ``Benchmark`` puts together what a run needs besides its ``BenchConfig``: the history it is stored
in (none: nothing stored, nor calibrated), the live counter (requests done, time left), the server's
slot count (``server_slots``: its NUM_PARALLEL advice needs it) and, when the run earns it, this
machine's calibration (``estimating.record_benchmark``, with the CPU share other work used as it
started). The front ends only choose the config and show what comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.adapters.bench.history import History
from toolkit.adapters.bench.progress import LiveProgress
from toolkit.adapters.bench.runner import BenchRunner, RequestCallback
from toolkit.adapters.docker.project_lock import exclusive
from toolkit.adapters.docker.server_slots import server_slots, serving_container
from toolkit.adapters.machine import probes
from toolkit.core.bench.config import BenchConfig, BenchResult
from toolkit.core.bench.run import RunRow
from toolkit.core.catalog.model import Catalog
from toolkit.core.estimate.calibration import CalibrationRun
from toolkit.core.machine.hardware import Machine
from toolkit.services.estimating import record_benchmark


@dataclass(frozen=True)
class BenchOutcome:
    """What a finished run gives: the result (stored when history is on) and the calibration it
    told about (``CalibrationRun``: stored, distrusted, or every ratio rejected), None when none."""

    result: BenchResult
    calibration: CalibrationRun | None


class Benchmark:
    """One run of ``config``, ready to start.

    Args:
        config: what to run.
        history_path: the SQLite file of runs; None stores nothing (and so calibrates nothing).
        machine: the machine the server runs on (predictions, calibration); None predicts from the
            server's ``/api/show`` alone and calibrates nothing.
        catalog: the model catalog; None estimates the model from ``/api/show``.
        calibration_path: where this machine's calibration is kept; the run is recorded there when it
            earns it (with history and a machine only: ``calibrates`` says whether it will). None
            leaves the calibration alone.
        progress: one human-readable line per step (without the counter: ``live.prefix()`` gives it).
        on_request: (phase, shape, streams, metrics) after each finished request, once counted.
        echo: told each progress line behind the counter, terminal-safe (the CLI's stderr).
    """

    def __init__(
        self,
        config: BenchConfig,
        *,
        history_path: Path | None,
        machine: Machine | None,
        catalog: Catalog | None,
        calibration_path: Path | None,
        progress: Callable[[str], None] | None = None,
        on_request: RequestCallback | None = None,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.live = LiveProgress(config, echo or (lambda _line: None))
        self.machine = machine
        self.history = History(history_path) if history_path is not None else None
        self.calibration_path = calibration_path
        self.calibrates = calibration_path is not None and self.history is not None and machine is not None
        self._progress = progress
        self._on_request = on_request
        self.runner = BenchRunner(
            config,
            history=self.history,
            machine=machine,
            catalog=catalog,
            progress=self._line if progress is not None or echo is not None else None,
            on_request=self._request,
            slots_of=server_slots,
        )

    @property
    def result(self) -> BenchResult:
        """What was measured so far: the whole result after ``run``, the partial one after a fault."""
        return self.runner.result

    def _line(self, text: str) -> None:
        self.live.line(text)
        if self._progress is not None:
            self._progress(text)

    def _request(self, phase: str, shape: str, streams: int, metrics: Mapping[str, Any]) -> None:
        self.live.request(phase, shape, streams, metrics)
        if self._on_request is not None:
            self._on_request(phase, shape, streams, metrics)

    @contextlib.contextmanager
    def held(self, native_dir: Path | None = None) -> Iterator[None]:
        """The project lock of the gpuless server behind the URL, when there is one (its container's, else,
        with ``native_dir``, the native server's gpuless recorded there): a tune restarts the server it
        measures, so it and a bench of it run one at a time (ContainerError when held)."""
        with contextlib.ExitStack() as hold:
            served_by = serving_container(self.runner.url, native_dir=native_dir)
            if served_by is not None:
                hold.enter_context(exclusive(served_by, command="bench"))
            yield

    async def run(self) -> BenchOutcome:
        """Run to the end and calibrate when the run earns it. A fault or a cancellation is raised again,
        ``result`` holding what finished; the history is closed either way."""
        try:
            # Read while the server idles, before the first request: what it sees is other work.
            busy = await asyncio.to_thread(probes.busy_share) if self.calibrates else None
            result = await self.runner.run()
        finally:
            if self.history is not None:
                self.history.close()
        told = None
        if self.calibrates and self.calibration_path is not None and self.machine is not None:
            told = await asyncio.to_thread(
                record_benchmark, self.calibration_path, self.machine, result, busy=busy
            )
        return BenchOutcome(result, told)


@contextlib.contextmanager
def stored_runs(path: Path) -> Iterator[History]:
    """The benchmark history at ``path``, open for the block (``gpuless history``, the step's table)."""
    with History(path) as history:
        yield history


def recent_runs(path: Path, model: str | None, limit: int = 5) -> list[RunRow]:
    """The latest runs of ``model`` (its name or its served model; every model when None)."""
    with History(path) as history:
        runs = [r for r in history.list_runs(limit=20) if model is None or model in (r.name, r.model)]
    return runs[:limit]
