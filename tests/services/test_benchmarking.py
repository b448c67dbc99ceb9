"""``services.benchmarking.Benchmark``: the one run ``gpuless bench`` and the wizard's Benchmark step
make, with its history, live counter and calibration put together the same way for both."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from toolkit.adapters.resources import resolve_profile
from toolkit.core.bench.config import BenchConfig
from toolkit.core.machine.profile import machine_from_profile
from toolkit.services.benchmarking import Benchmark, recent_runs

MODEL = "smollm2:135m"
MACHINE = machine_from_profile(resolve_profile("laptop-16gb-ddr5"))


def _config(url: str) -> BenchConfig:
    return BenchConfig(
        model=MODEL, url=url, reps=2, num_predict=16, shapes=("chat",), concurrency=(), max_seconds=300.0
    )


def test_it_calibrates_only_with_history_a_machine_and_a_calibration_file(tmp_path: Path) -> None:
    config = _config("http://127.0.0.1:9")  # nothing is sent: only what the run would do is read
    history, calibration = tmp_path / "h.sqlite3", tmp_path / "calibration.json"

    def calibrates(**changes: Any) -> bool:
        given: dict[str, Any] = {
            "history_path": history, "machine": MACHINE, "catalog": None, "calibration_path": calibration,
        }  # fmt: skip
        run = Benchmark(config, **{**given, **changes})
        if run.history is not None:
            run.history.close()
        return run.calibrates

    assert calibrates()
    assert not calibrates(history_path=None)  # history off stores nothing, the calibration included
    assert not calibrates(machine=None)
    assert not calibrates(calibration_path=None)  # --no-calibrate, or B in the wizard


@pytest.mark.engine
def test_a_run_counts_every_request_stores_the_run_and_echoes_behind_the_counter(
    ollama_server: Any, tmp_path: Path
) -> None:
    seen: list[Mapping[str, Any]] = []
    echoed: list[str] = []
    raw: list[str] = []
    run = Benchmark(
        _config(ollama_server.url),
        history_path=tmp_path / "h.sqlite3",
        machine=MACHINE,
        catalog=None,
        calibration_path=None,
        progress=raw.append,
        on_request=lambda _phase, _shape, _streams, metrics: seen.append(metrics),
        echo=echoed.append,
    )
    outcome = asyncio.run(run.run())
    assert outcome.result.status == "complete" and outcome.calibration is None
    assert len(seen) == run.live.done == 2  # two reps of one shape, the warm-up not counted
    assert len(echoed) == len(raw) >= 1
    assert all(line.startswith("[") and text in line for line, text in zip(echoed, raw, strict=True))
    stored = recent_runs(tmp_path / "h.sqlite3", MODEL)
    assert [row.id for row in stored] == [outcome.result.run_id]
    assert recent_runs(tmp_path / "h.sqlite3", "another-model:1b") == []
