"""Machine warnings: each rule fires on the machine it describes and stays quiet otherwise."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from tests import paths
from toolkit.core.machine.dockerinfo import parse_docker_info, unreachable
from toolkit.core.machine.hardware import (
    CgroupLimits,
    CpuInfo,
    DockerEngineInfo,
    Machine,
    MemoryInfo,
    OsName,
    PowerInfo,
)
from toolkit.core.recommend.warnings import describe_machine_warnings
from toolkit.core.units import GIB

FIXTURES = paths.FIXTURES / "detect"

QUIET = Machine(
    os="linux",
    os_release="Debian GNU/Linux 12",
    cpu=CpuInfo("AMD Ryzen 7 7840U", "x86_64", 8, 16, ("avx", "avx2", "avx512f", "f16c", "fma")),
    memory=MemoryInfo(total_bytes=32 * GIB, available_bytes=24 * GIB),
    power=PowerInfo(has_battery=True, on_ac=True, percent=80.0),
    cgroup=CgroupLimits(version=2),
    docker=parse_docker_info(
        json.loads((FIXTURES / "docker_info_linux_engine.json").read_text(encoding="utf-8"))
    ),
)


def _codes(machine: Machine) -> list[str]:
    return [w.code for w in describe_machine_warnings(machine)]


def test_a_healthy_machine_has_no_warnings() -> None:
    assert describe_machine_warnings(QUIET) == []


def test_docker_not_probed_is_not_a_warning() -> None:
    assert _codes(replace(QUIET, docker=DockerEngineInfo())) == []


@pytest.mark.parametrize(
    ("os_name", "fix"),
    [("linux", "systemctl start docker"), ("darwin", "Docker Desktop"), ("windows", "Engine running")],
)
def test_unreachable_engine_says_how_to_fix_per_os(os_name: OsName, fix: str) -> None:
    machine = replace(QUIET, os=os_name, docker=unreachable("FileNotFoundError(2, 'No such file')"))
    (warning,) = describe_machine_warnings(machine)
    assert warning.code == "docker_unreachable"
    assert warning.level == "error"
    assert warning.message.startswith("Docker engine not reachable")
    assert fix in warning.hint


def test_docker_desktop_vm_smaller_than_host() -> None:
    desktop = parse_docker_info(json.loads((FIXTURES / "docker_info_desktop_macos.json").read_text("utf-8")))
    machine = replace(
        QUIET,
        os="darwin",
        cpu=CpuInfo("Apple M2", "arm64", 8, 8, ("dotprod", "i8mm", "neon"), 4),
        memory=MemoryInfo(total_bytes=16 * GIB, available_bytes=10 * GIB),
        docker=desktop,
    )
    warning, gpu = describe_machine_warnings(machine)  # and, on a Mac, the GPU Docker cannot use
    assert (warning.code, gpu.code) == ("docker_desktop_vm_smaller", "mac_gpu_native")
    assert warning.message == "Docker Desktop's VM has 8 CPUs and 7.7 GiB; the host has 8 CPUs and 16.0 GiB"
    assert "Settings → Resources" in warning.hint


def test_docker_desktop_vm_as_large_as_host_is_fine() -> None:
    desktop = replace(QUIET.docker, is_desktop=True, ncpu=16, mem_total_bytes=int(31 * GIB))
    assert _codes(replace(QUIET, docker=desktop)) == []


def test_on_battery() -> None:
    (warning,) = describe_machine_warnings(replace(QUIET, power=PowerInfo(True, False, 42.0)))
    assert warning.code == "on_battery"
    assert "(42%)" in warning.message


def test_unknown_power_state_is_not_battery() -> None:
    assert _codes(replace(QUIET, power=PowerInfo(True, None, None))) == []


def test_x86_without_avx2() -> None:
    cpu = CpuInfo("Intel(R) Celeron(R) N4020", "x86_64", 2, 2, ())
    assert _codes(replace(QUIET, cpu=cpu)) == ["no_avx2"]


def test_arm_without_avx2_is_fine() -> None:
    cpu = CpuInfo("Raspberry Pi 5", "arm64", 4, 4, ("dotprod", "neon"))
    assert _codes(replace(QUIET, cpu=cpu)) == []


def test_swap_in_use_and_swap_enabled() -> None:
    used = replace(QUIET, memory=MemoryInfo(32 * GIB, 2 * GIB, swap_total_bytes=8 * GIB, swap_used_bytes=GIB))
    enabled = replace(QUIET, memory=MemoryInfo(32 * GIB, 20 * GIB, swap_total_bytes=8 * GIB))
    assert [(w.code, w.level) for w in describe_machine_warnings(used)] == [("swap_in_use", "warning")]
    assert [(w.code, w.level) for w in describe_machine_warnings(enabled)] == [("swap_enabled", "info")]


def test_cgroup_limits_below_host() -> None:
    limited = replace(QUIET, cgroup=CgroupLimits(version=2, memory_limit_bytes=4 * GIB, cpu_limit=2.0))
    warnings = describe_machine_warnings(limited)
    assert [w.code for w in warnings] == ["cgroup_memory_limit", "cgroup_cpu_limit"]
    assert warnings[0].message == "gpuless runs in a container limited to 4.0 GiB of the host's 32.0 GiB"
    assert warnings[1].message == "gpuless runs in a container limited to 2 of 16 CPUs"


def test_errors_come_first() -> None:
    machine = replace(
        QUIET,
        power=PowerInfo(True, False, None),
        memory=MemoryInfo(32 * GIB, 20 * GIB, swap_total_bytes=GIB),
        docker=unreachable("connection refused"),
    )
    assert [w.level for w in describe_machine_warnings(machine)] == ["error", "warning", "info"]


def test_a_mac_is_told_that_native_ollama_uses_its_gpu() -> None:
    mac = replace(QUIET, os="darwin", cpu=CpuInfo("Apple M3 Pro", "arm64", 12, 12, ("neon",), 6))
    notes = [w for w in describe_machine_warnings(mac) if w.code == "mac_gpu_native"]
    assert len(notes) == 1 and notes[0].level == "info"
    assert "Apple M3 Pro, 150 GB/s" in notes[0].message and "CPU only" in notes[0].message
    assert "`gpuless up --runtime native`" in notes[0].hint
    assert "mac_gpu_native" not in _codes(replace(mac, cpu=replace(mac.cpu, arch="x86_64")))  # Intel Mac


@pytest.mark.parametrize(
    ("cpu", "gpu"),
    [
        ("AMD Ryzen 7 7840U w/ Radeon 780M Graphics", "Radeon 780M"),
        ("AMD Ryzen 5 5600U with Radeon Graphics", "Radeon Graphics"),
        ("Intel(R) Core(TM) Ultra 7 155H", "Intel Arc graphics"),
    ],
)
def test_an_igpu_in_the_cpu_name_is_named_and_the_figures_called_cpu_only(cpu: str, gpu: str) -> None:
    machine = replace(QUIET, cpu=replace(QUIET.cpu, model=cpu))
    notes = [w for w in describe_machine_warnings(machine) if w.code == "integrated_gpu"]
    assert len(notes) == 1 and f"({gpu})" in notes[0].message and "CPU-only" in notes[0].message
    assert "integrated_gpu" not in _codes(QUIET)  # "AMD Ryzen 7 7840U" alone names no GPU
