"""CPU parsing over fixture text: Linux x86 (with and without AVX-512), Linux Arm, macOS, Windows."""

from __future__ import annotations

import pytest

from tests import paths
from toolkit.core.machine.cpuinfo import (
    normalise_arch,
    parse_cpu_list,
    parse_proc_cpuinfo,
    parse_sysctl,
    parse_windows_probe,
)
from toolkit.core.machine.hardware import CpuInfo

FIXTURES = paths.FIXTURES / "detect"


def _read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


# --- Linux x86 ----------------------------------------------------------------------------------


def test_ryzen_7840u_has_avx512_and_smt() -> None:
    cpu = parse_proc_cpuinfo(_read("linux_x86_ryzen7_7840u.cpuinfo"), "x86_64")
    assert cpu == CpuInfo(
        model="AMD Ryzen 7 7840U w/ Radeon 780M Graphics",
        arch="x86_64",
        physical_cores=8,
        logical_cores=16,
        simd=("avx", "avx2", "avx512_vnni", "avx512f", "f16c", "fma"),
        performance_cores=None,
    )
    assert cpu.best_simd == "avx512f"


def test_core_ultra_155h_is_hybrid_without_avx512() -> None:
    cpu = parse_proc_cpuinfo(
        _read("linux_x86_core_ultra7_155h.cpuinfo"),
        "x86_64",
        performance_cpus=_read("linux_x86_core_ultra7_155h.cpu_core_cpus"),
    )
    assert cpu.model == "Intel(R) Core(TM) Ultra 7 155H"
    assert (cpu.physical_cores, cpu.logical_cores, cpu.performance_cores) == (16, 22, 6)
    assert cpu.simd == ("avx", "avx2", "avx_vnni", "f16c", "fma")
    assert not cpu.has("avx512f")
    assert cpu.best_simd == "avx2"


def test_core_ultra_without_sysfs_hybrid_file_has_no_p_core_count() -> None:
    cpu = parse_proc_cpuinfo(_read("linux_x86_core_ultra7_155h.cpuinfo"), "x86_64", performance_cpus="")
    assert cpu.performance_cores is None


def test_this_machines_own_cpuinfo() -> None:
    cpu = parse_proc_cpuinfo(_read("linux_x86_this_machine.cpuinfo"), "x86_64")
    assert cpu == CpuInfo(
        model="Intel(R) Xeon(R) Processor @ 2.50GHz",
        arch="x86_64",
        physical_cores=2,
        logical_cores=2,
        simd=("avx", "avx2", "avx512_vnni", "avx512f", "f16c", "fma"),
    )


def test_amx_flags_fold_into_one_feature() -> None:
    text = (
        "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8470\nphysical id\t: 0\ncore id\t\t: 0\n"
        "cpu cores\t: 1\nflags\t\t: fpu avx avx2 fma f16c avx512f avx512_vnni amx_bf16 amx_tile amx_int8\n"
    )
    cpu = parse_proc_cpuinfo(text, "x86_64")
    assert cpu.simd == ("amx", "avx", "avx2", "avx512_vnni", "avx512f", "f16c", "fma")
    assert cpu.best_simd == "amx"


def test_physical_cores_from_cpu_cores_times_sockets_when_core_ids_are_missing() -> None:
    # Some hypervisors omit "core id": fall back to "cpu cores" × distinct "physical id".
    blocks = [
        f"processor\t: {i}\nmodel name\t: Virtual CPU\nphysical id\t: {i // 4}\n"
        "cpu cores\t: 2\nflags\t\t: avx2\n"
        for i in range(8)
    ]
    cpu = parse_proc_cpuinfo("\n".join(blocks), "x86_64")
    assert (cpu.physical_cores, cpu.logical_cores) == (4, 8)


def test_no_avx_at_all() -> None:
    text = (
        "processor\t: 0\nmodel name\t: Intel(R) Celeron(R) N4020\ncore id\t\t: 0\nphysical id\t: 0\n"
        "flags\t\t: sse sse2 ssse3\n"
    )
    cpu = parse_proc_cpuinfo(text, "x86_64")
    assert cpu.simd == ()
    assert cpu.best_simd == "scalar"


def test_empty_cpuinfo_is_an_error() -> None:
    with pytest.raises(ValueError, match="no 'processor'"):
        parse_proc_cpuinfo("", "x86_64")


# --- Linux Arm ----------------------------------------------------------------------------------


def test_raspberry_pi_5() -> None:
    cpu = parse_proc_cpuinfo(_read("linux_arm_raspberry_pi5.cpuinfo"), "aarch64")
    assert cpu == CpuInfo(
        model="Raspberry Pi 5 Model B Rev 1.0 (Cortex-A76)",
        arch="arm64",
        physical_cores=4,
        logical_cores=4,
        simd=("dotprod", "neon"),
    )
    assert cpu.best_simd == "neon"


def test_graviton3_has_sve_and_i8mm() -> None:
    cpu = parse_proc_cpuinfo(_read("linux_arm_graviton3.cpuinfo"), "aarch64")
    assert cpu.model == "Neoverse-V1"
    assert (cpu.physical_cores, cpu.logical_cores) == (4, 4)
    assert cpu.simd == ("dotprod", "i8mm", "neon", "sve")
    assert cpu.best_simd == "sve"


def test_big_little_arm_lists_both_core_types() -> None:
    def block(i: int, part: str) -> str:
        return (
            f"processor\t: {i}\nFeatures\t: fp asimd asimddp\nCPU implementer\t: 0x41\n"
            f"CPU architecture: 8\nCPU part\t: {part}\n"
        )

    text = "\n".join([block(0, "0xd05"), block(1, "0xd05"), block(2, "0xd0b"), block(3, "0xfff")])
    cpu = parse_proc_cpuinfo(text, "aarch64")
    assert cpu.model == "Cortex-A55 + Cortex-A76 + Arm part 0x41:0xfff"


# --- macOS --------------------------------------------------------------------------------------


def test_apple_m2() -> None:
    cpu = parse_sysctl(_read("macos_apple_m2.sysctl"))
    assert cpu == CpuInfo(
        model="Apple M2",
        arch="arm64",
        physical_cores=8,
        logical_cores=8,
        simd=("dotprod", "i8mm", "neon"),
        performance_cores=4,
    )


def test_apple_m1_pro_has_no_i8mm() -> None:
    cpu = parse_sysctl(_read("macos_apple_m1_pro.sysctl"))
    assert cpu.model == "Apple M1 Pro"
    assert (cpu.physical_cores, cpu.logical_cores, cpu.performance_cores) == (10, 10, 8)
    assert cpu.simd == ("dotprod", "neon")


def test_intel_mac_reads_avx2_from_leaf7() -> None:
    cpu = parse_sysctl(_read("macos_intel_i9_9880h.sysctl"))
    assert cpu == CpuInfo(
        model="Intel(R) Core(TM) i9-9880H CPU @ 2.30GHz",
        arch="x86_64",
        physical_cores=8,
        logical_cores=16,
        simd=("avx", "avx2", "f16c", "fma"),
        performance_cores=None,  # one perf level: not a hybrid CPU
    )


def test_intel_mac_word_lists_alone_are_enough() -> None:
    # Only the machdep word lists, no hw.optional keys: AVX1.0 in features, AVX2/AVX512F/VNNI in leaf7.
    text = (
        "machdep.cpu.brand_string: Intel(R) Core(TM) i7-1068NG7 CPU @ 2.30GHz\n"
        "machdep.cpu.features: FPU SSE SSE2 FMA AVX1.0 F16C\n"
        "machdep.cpu.leaf7_features: BMI1 AVX2 AVX512F AVX512DQ AVX512VNNI\n"
        "hw.physicalcpu: 4\nhw.logicalcpu: 8\n"
    )
    cpu = parse_sysctl(text)
    assert cpu.simd == ("avx", "avx2", "avx512_vnni", "avx512f", "f16c", "fma")
    assert (cpu.physical_cores, cpu.logical_cores) == (4, 8)


# --- Windows ------------------------------------------------------------------------------------


def test_windows_x86_single_object() -> None:
    cpu = parse_windows_probe(_read("windows_x86_i7_1260p.json"))
    assert cpu == CpuInfo(
        model="12th Gen Intel(R) Core(TM) i7-1260P",
        arch="x86_64",
        physical_cores=12,
        logical_cores=16,
        simd=("avx", "avx2", "f16c", "fma"),  # fma and f16c inferred from AVX2
    )


def test_windows_two_sockets_sum_and_trim_name() -> None:
    cpu = parse_windows_probe(_read("windows_x86_two_socket_xeon.json"))
    assert cpu.model == "Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz"
    assert (cpu.physical_cores, cpu.logical_cores) == (48, 96)
    assert cpu.simd == ("avx", "avx2", "avx512f", "f16c", "fma")


def test_windows_arm() -> None:
    cpu = parse_windows_probe(_read("windows_arm_snapdragon_x_elite.json"))
    assert cpu.arch == "arm64"
    assert (cpu.physical_cores, cpu.logical_cores) == (12, 12)
    assert cpu.simd == ("dotprod", "i8mm", "neon")


@pytest.mark.parametrize(
    "text", ["[]", '{"arch": "AMD64"}', '{"arch": "AMD64", "processors": []}', "not json"]
)
def test_windows_malformed_probe_is_an_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_windows_probe(text)


# --- helpers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("x86_64", "x86_64"),
        ("AMD64", "x86_64"),
        ("aarch64", "arm64"),
        ("arm64", "arm64"),
        ("riscv64", "riscv64"),
    ],
)
def test_normalise_arch(raw: str, expected: str) -> None:
    assert normalise_arch(raw) == expected


def test_parse_cpu_list() -> None:
    assert parse_cpu_list("0-3,8,10-11\n") == frozenset({0, 1, 2, 3, 8, 10, 11})
    assert parse_cpu_list("") == frozenset()
