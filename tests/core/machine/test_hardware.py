"""The machine value detection fills in: the widest SIMD unit named, and its JSON form for history."""

from __future__ import annotations

import json

import pytest

from tests.builders import laptop
from toolkit.core.machine.hardware import ARM_SIMD, X86_SIMD, CpuInfo


@pytest.mark.parametrize(
    ("simd", "best"),
    [
        (("avx", "avx2", "avx512f", "fma"), "avx512f"),
        (("amx", "avx512f"), "amx"),
        (("avx", "fma"), "avx"),
        (("dotprod", "neon", "sve"), "sve"),
        (("neon",), "neon"),
        (("fma", "f16c"), "scalar"),  # no vector unit gpuless grades by
        ((), "scalar"),
    ],
)
def test_best_simd_is_the_widest_present(simd: tuple[str, ...], best: str) -> None:
    cpu = CpuInfo("cpu", "x86_64", 4, 8, simd)
    assert cpu.best_simd == best
    assert all(cpu.has(feature) for feature in simd) and not cpu.has("avx10")


def test_the_feature_lists_do_not_overlap() -> None:
    assert not set(X86_SIMD) & set(ARM_SIMD)


def test_to_dict_is_json_ready_and_complete() -> None:
    machine = laptop()
    data = json.loads(json.dumps(machine.to_dict()))
    assert data["cpu"]["simd"] == list(machine.cpu.simd)
    assert data["memory"]["total_bytes"] == machine.memory.total_bytes
    assert data["docker"]["is_desktop"] is True and data["bandwidth"]["gbps"] == 60.0
    assert data["name"] == "test laptop" and data["power"]["on_ac"] is False
