"""The platform classifier agrees with the published data set's labels and with the shipped profiles."""

from __future__ import annotations

import tomllib

import pytest

from tests import paths
from toolkit.core.machine.hardware import CpuInfo
from toolkit.core.machine.platform_class import PLATFORM_CLASS_MEANINGS, platform_class

DATA = paths.DATA / "published_cpu_speeds.toml"
PROFILES = paths.ROOT / "profiles" / "hardware"


def cpu(model: str, simd: tuple[str, ...] = ("avx", "avx2", "fma"), arch: str = "x86_64") -> CpuInfo:
    return CpuInfo(model=model, arch=arch, physical_cores=8, logical_cores=16, simd=simd)


def test_every_published_point_gets_its_label() -> None:
    points = tomllib.loads(DATA.read_text(encoding="utf-8"))["point"]
    for point in points:
        arch = "arm64" if "neon" in point["simd"] else "x86_64"
        got = platform_class(cpu(point["machine"], tuple(sorted(point["simd"])), arch))
        assert got == point["platform"], (point["id"], point["machine"], got)


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ("apple-m1-8gb", "apple"),
        ("core-ultra-16gb-lpddr5x", "intel_12plus"),
        ("laptop-16gb-ddr4", "amd_zen2_3"),
        ("laptop-16gb-ddr5", "amd_zen4"),
        ("laptop-32gb-ddr5", "intel_12plus"),
        ("laptop-8gb-ddr4", "intel_pre12"),
        ("windows-8gb-wsl2", "intel_pre12"),
    ],
)
def test_shipped_profiles(profile: str, expected: str) -> None:
    raw = tomllib.loads((PROFILES / f"{profile}.toml").read_text(encoding="utf-8"))
    assert platform_class(cpu(raw["cpu_model"], tuple(raw["simd"]), raw["arch"])) == expected


def test_name_decides_before_simd() -> None:
    # Intel's 11th gen laptops have AVX-512 and VNNI: the name, not the SIMD set, says pre-12
    assert platform_class(cpu("11th Gen Intel(R) Core(TM) i5-1135G7", ("avx2", "avx512f"))) == "intel_pre12"
    assert platform_class(cpu("Intel(R) Core(TM) i7-10750H CPU @ 2.60GHz")) == "intel_pre12"
    assert platform_class(cpu("13th Gen Intel(R) Core(TM) i7-1360P")) == "intel_12plus"
    # an Atom-class N100 has AVX-VNNI but the bandwidth of the older class
    assert platform_class(cpu("Intel(R) N100", ("avx2", "avx_vnni"))) == "intel_pre12"
    # an Intel name without a generation falls back to the SIMD set
    assert platform_class(cpu("Intel(R) Core(TM) processor", ("avx2", "avx_vnni"))) == "intel_12plus"


def test_servers_virtual_and_unknown_cpus_are_other() -> None:
    assert platform_class(cpu("AMD EPYC 9654", ("avx2", "avx512f"))) == "other"
    assert platform_class(cpu("Intel(R) Xeon(R) Processor @ 2.50GHz", ("avx2", "avx512f"))) == "other"
    assert platform_class(cpu("QEMU Virtual CPU version 2.5+")) == "other"
    assert platform_class(cpu("test CPU")) == "other"
    assert platform_class(cpu("Ampere Altra", ("neon",), arch="riscv64")) == "other"


def test_arm_split_and_amd_by_avx512() -> None:
    assert platform_class(cpu("Apple M3 Pro", ("neon",), arch="arm64")) == "apple"
    assert platform_class(cpu("Cortex-A76", ("neon",), arch="arm64")) == "arm_board"
    assert platform_class(cpu("AMD Ryzen 7 7840U", ("avx2", "avx512f"))) == "amd_zen4"
    assert platform_class(cpu("AMD Ryzen 7 7735U", ("avx2",))) == "amd_zen2_3"
    assert set(PLATFORM_CLASS_MEANINGS) == {
        "apple",
        "amd_zen4",
        "amd_zen2_3",
        "intel_12plus",
        "intel_pre12",
        "arm_board",
        "other",
    }
