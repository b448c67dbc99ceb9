"""Machines for tests, built in one place: a plain x86 CPU with numbers a test can vary, and the fixed laptop
the wizard's snapshots show. A test that needs a detected or shipped machine uses a profile instead
(``machine_from_profile(resolve_profile(...))``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

from toolkit.core.machine.hardware import (
    Bandwidth,
    CgroupLimits,
    CpuInfo,
    DockerEngineInfo,
    Machine,
    MemoryInfo,
    PowerInfo,
)
from toolkit.core.units import GIB


def machine(
    *,
    cores: int = 4,
    simd: tuple[str, ...] = ("avx2", "fma"),
    gbps: float | None = 51.2,
    source: Literal["measured", "profile", "assumed"] = "profile",
    clock: float | None = 3.0,
    ram_gb: float = 16,
    name: str = "test CPU",
    performance_cores: int | None = None,
    **over: Any,
) -> Machine:
    """A Linux x86-64 machine with ``cores`` physical cores (two threads each), ``ram_gb`` GiB all free and
    ``gbps`` of memory bandwidth (None: unknown); ``over`` replaces any other Machine field."""
    built = Machine(
        os="linux",
        os_release="test",
        cpu=CpuInfo(
            model=name,
            arch="x86_64",
            physical_cores=cores,
            logical_cores=cores * 2,
            simd=simd,
            performance_cores=performance_cores,
            clock_ghz=clock,
        ),
        memory=MemoryInfo(total_bytes=int(ram_gb * GIB), available_bytes=int(ram_gb * GIB)),
        bandwidth=None if gbps is None else Bandwidth(gbps=gbps, source=source),
    )
    return replace(built, **over)


def laptop() -> Machine:
    """A 16 GB, 8-core laptop on battery with Docker Desktop's smaller VM: every warning kind shows."""
    return Machine(
        os="linux",
        os_release="Ubuntu 24.04",
        cpu=CpuInfo("AMD Ryzen 7 7840U", "x86_64", 8, 16, ("avx", "avx2", "avx512f", "fma", "f16c")),
        memory=MemoryInfo(16 * GIB, 11 * GIB, swap_total_bytes=4 * GIB, swap_used_bytes=0),
        power=PowerInfo(has_battery=True, on_ac=False, percent=64.0),
        cgroup=CgroupLimits(version=2),
        docker=DockerEngineInfo(
            reachable=True,
            server_version="28.2.2",
            operating_system="Docker Desktop",
            os_type="linux",
            is_desktop=True,
            ncpu=8,
            mem_total_bytes=8 * GIB,
            cgroup_version="2",
            swap_limit=True,
        ),
        bandwidth=Bandwidth(60.0, "profile", "fixture"),
        name="test laptop",
    )
