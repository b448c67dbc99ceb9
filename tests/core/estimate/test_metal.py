"""The native-Ollama (Metal) estimate: which machines are Macs with a known chip, and how the figures move."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests import paths
from toolkit.adapters.resources import load_catalog, resolve_profile
from toolkit.core.catalog.model import ModelSpec, QuantVariant
from toolkit.core.estimate.metal import APPLE_CHIPS, apple_chip, mac_chip, metal_estimate
from toolkit.core.machine.cpuinfo import parse_sysctl
from toolkit.core.machine.profile import machine_from_profile

DETECT_FIXTURES = paths.FIXTURES / "detect"


@pytest.mark.parametrize(
    ("name", "chip"),
    [
        ("Apple M2", "Apple M2"),
        ("Apple M3 Pro", "Apple M3 Pro"),
        ("apple m1 max", "Apple M1 Max"),
        ("Apple M2 Ultra", "Apple M2 Ultra"),
        ("Apple M4 Pro (14 cores)", "Apple M4 Pro"),
    ],
)
def test_chip_names_are_recognised(name: str, chip: str) -> None:
    found = apple_chip(name)
    assert found is not None and found.name == chip


@pytest.mark.parametrize("name", ["Apple M9", "Intel(R) Core(TM) i7-13700H", "AMD Ryzen 7 7840U", ""])
def test_other_chips_get_no_metal_figure(name: str) -> None:
    assert apple_chip(name) is None


def test_only_a_mac_on_arm64_is_a_metal_machine() -> None:
    mac = machine_from_profile(resolve_profile("apple-m3-pro-18gb"))
    chip = mac_chip(mac)
    assert chip is not None and chip.bandwidth_gbps == 150
    assert mac_chip(replace(mac, os="linux")) is None  # Asahi Linux: no Metal
    assert mac_chip(replace(mac, cpu=replace(mac.cpu, arch="x86_64"))) is None  # Rosetta/Intel Mac
    assert mac_chip(machine_from_profile(resolve_profile("laptop-16gb-ddr5"))) is None


def _qwen3b() -> tuple[ModelSpec, QuantVariant]:
    for model in load_catalog().models:
        for variant in model.variants:
            if variant.tag == "qwen2.5:3b-instruct-q4_K_M":
                return model, variant
    raise AssertionError("qwen2.5:3b-instruct-q4_K_M is not in the catalog")


def test_decode_follows_bandwidth_and_depth_prefill_follows_gpu_cores() -> None:
    model, variant = _qwen3b()
    m2, m2_max = APPLE_CHIPS["Apple M2"], APPLE_CHIPS["Apple M2 Max"]
    short = metal_estimate(model, variant, m2, depth=64)
    deep = metal_estimate(model, variant, m2, depth=4000)
    assert deep.decode_tps < short.decode_tps  # the KV history is read every step
    assert deep.prefill_tps == short.prefill_tps
    assert metal_estimate(model, variant, m2_max, depth=64).decode_tps > 1.5 * short.decode_tps
    binned = metal_estimate(model, variant, m2, depth=64, gpu_cores=8)
    assert binned.prefill_tps == pytest.approx(short.prefill_tps * 8 / 10)
    assert short.ttft_s == pytest.approx(512 / short.prefill_tps + 1 / short.decode_tps)


@pytest.mark.parametrize(
    ("fixture", "chip"),
    [("macos_apple_m1_pro.sysctl", "Apple M1 Pro"), ("macos_apple_m2.sysctl", "Apple M2")],
)
def test_a_detected_mac_is_found_from_its_sysctl(fixture: str, chip: str) -> None:
    """What detection reads on a real Mac (sysctl) names the chip the Metal estimate needs."""
    mac = replace(machine_from_profile(resolve_profile("apple-m2-16gb")), cpu=parse_sysctl(_sysctl(fixture)))
    found = mac_chip(mac)
    assert found is not None and found.name == chip
    assert mac_chip(replace(mac, cpu=parse_sysctl(_sysctl("macos_intel_i9_9880h.sysctl")))) is None


def _sysctl(name: str) -> str:
    return (DETECT_FIXTURES / name).read_text("utf-8")
