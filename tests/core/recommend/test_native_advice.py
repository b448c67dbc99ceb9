"""The sentences on what a speed figure means and when a GPU outside Docker would be faster."""

from __future__ import annotations

import pytest

from tests import builders
from toolkit.core.estimate.metal import MetalEstimate
from toolkit.core.recommend.native_advice import (
    NATIVE_COMMAND,
    igpu_reason,
    integrated_gpu,
    native_reason,
    speed_basis,
)


def test_speed_basis_says_what_depth_the_figures_are_at() -> None:
    default = speed_basis(decode_depth=576, prompt_tokens=512, answer_tokens=256, default_depth=True)
    assert "decode after 576 tokens of context (a 512-token prompt and the first 64 of the answer)" in default
    assert "TTFT is a 512-token prompt's first token" in default and "256 tokens after it" in default
    chosen = speed_basis(decode_depth=4096, prompt_tokens=512, answer_tokens=256, default_depth=False)
    assert "after 4,096 tokens of context (--ctx-depth)" in chosen and "first 64" not in chosen


def test_native_reason_puts_metal_beside_docker() -> None:
    metal = MetalEstimate("Apple M2", 100.0, 10, 42.4, 310.0, 1.26, 576, 512)
    line = native_reason("qwen2.5:7b", 9.06, metal)
    assert line.startswith("This Mac's GPU (Apple M2, 100 GB/s, 10 GPU cores assumed)")
    assert f"`{NATIVE_COMMAND}`" in line and "~42 tok/s" in line and "TTFT 1.3 s" in line
    assert line.endswith("in Docker, CPU only, 9.1 tok/s.")


@pytest.mark.parametrize(
    ("cpu", "os", "gpu"),
    [
        ("AMD Ryzen 7 8840U w/ Radeon 780M Graphics", "linux", "Radeon 780M"),
        ("AMD Ryzen AI 9 HX 370 w/ Radeon 890M", "windows", "Radeon 890M"),
        ("AMD Ryzen 5 5600G with Radeon Graphics", "linux", "Radeon Graphics"),
        ("Intel(R) Core(TM) Ultra 7 155H", "linux", "Intel Arc graphics"),
        ("Snapdragon X Elite - X1E78100 - Qualcomm Oryon CPU", "windows", "Adreno graphics"),
        ("Intel(R) Core(TM) i7-8550U CPU @ 1.80GHz", "linux", None),  # has an iGPU its name does not tell
        ("AMD Ryzen 7 8840U w/ Radeon 780M Graphics", "darwin", None),  # a Mac gets the Metal sentence
    ],
)
def test_integrated_gpu_from_the_cpu_name(cpu: str, os: str, gpu: str | None) -> None:
    assert integrated_gpu(builders.machine(name=cpu, os=os)) == gpu


def test_igpu_reason_names_the_gpu_and_the_setting() -> None:
    line = igpu_reason("Radeon 780M")
    assert "(Radeon 780M)" in line and "OLLAMA_IGPU_ENABLE=1" in line and "benchmark both" in line
