"""The bench reads the server's slots and stops advising the value that capped its sweep (issue 10).

A real test server (llama.cpp) with OLLAMA_NUM_PARALLEL=1 serves a 1/2/4-stream sweep one request at
a time; the slot count is handed to the runner as ``server_slots`` would read it from a gpuless
container (that lookup itself runs against the real engine in tests/engine/test_tune_docker.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from tests.ollama_server.fixtures import ServerHandle
from toolkit.adapters.bench.runner import BenchRunner
from toolkit.core.bench.config import BenchConfig
from toolkit.core.bench.verdict import verdict

pytestmark = pytest.mark.engine


def test_one_slot_sweep_gives_no_advice_and_points_to_tune(
    ollama_server_factory: Callable[..., ServerHandle],
) -> None:
    handle = ollama_server_factory(num_parallel=1)
    asked: list[str] = []

    def slots_of(url: str) -> int:
        asked.append(url)
        return 1

    config = BenchConfig(
        model="smollm2:135m", url=handle.url, reps=1, num_predict=16, shapes=("chat",), concurrency=(1, 4)
    )
    result = asyncio.run(BenchRunner(config, slots_of=slots_of).run())
    assert asked == [handle.url] and result.server_slots == 1
    assert result.summary()["server_slots"] == 1
    read = verdict(
        result.shapes, result.concurrency, result.users, result.num_parallel, result.ttft_slo_s,
        result.server_slots,
    )  # fmt: skip
    assert read.slots_capped
    assert any("`gpuless tune --users 4`" in line for line in read.lines())
