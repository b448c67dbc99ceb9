"""What-if machines: hardware profiles, the ``Machine`` each describes, and a machine with parts replaced.

``gpuless recommend --profile laptop-16gb-ddr5`` plans for a machine gpuless is not running on; the
profile (TOML or JSON, shipped in ``profiles/hardware/`` or the user's own file) is validated here with
one clear ``ProfileError`` line, and ``machine_from_profile`` turns it into the same ``Machine`` the
probes produce, so the estimator and the planner need not know where a machine came from.
``what_if`` answers ``--ram`` / ``--cores`` / ``--bandwidth``: the same machine with those replaced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from toolkit.core.fields import optional, positive, required
from toolkit.core.machine.hardware import (
    ARM_SIMD,
    X86_SIMD,
    Bandwidth,
    CgroupLimits,
    CpuInfo,
    DockerEngineInfo,
    Machine,
    MemoryInfo,
    OsName,
)
from toolkit.core.units import GIB
from toolkit.errors import ProfileError, UsageError


@dataclass(frozen=True)
class HardwareProfile:
    """A typical machine for what-if questions ("what would a 16 GB DDR5 laptop run?").

    Attributes:
        name: short id used on the command line, e.g. "laptop-16gb-ddr5".
        label: one-line description for display.
        os: the host OS.
        ram_bytes: installed RAM.
        memory_type: e.g. "DDR5-5600 dual channel".
        bandwidth_gbps: theoretical peak (MT/s × bus width), GB/s.
        cpu_bandwidth_share: fraction of ``bandwidth_gbps`` the CPU cores can draw at all (1.0 on x86
            laptops; lower on Apple SoCs whose peak figure is sized for the GPU).
        cpu_model, arch, physical_cores, logical_cores, performance_cores, simd, clock_ghz: see ``CpuInfo``.
        docker_desktop: Docker runs in a VM (Docker Desktop on macOS/Windows, WSL2).
        docker_vm_share: fraction of host RAM the Docker VM gets (Docker Desktop's default is 50%).
        bandwidth_note: where the bandwidth figure comes from and how much of it decode gets.
        notes: anything else worth showing.
    """

    name: str
    label: str
    os: OsName
    ram_bytes: int
    memory_type: str
    bandwidth_gbps: float
    cpu_model: str
    arch: str
    physical_cores: int
    logical_cores: int
    simd: tuple[str, ...]
    performance_cores: int | None = None
    clock_ghz: float | None = None
    cpu_bandwidth_share: float = 1.0
    docker_desktop: bool = False
    docker_vm_share: float = 0.5
    bandwidth_note: str = ""
    notes: str = ""


def machine_from_profile(profile: HardwareProfile) -> Machine:
    """The ``Machine`` a profile describes; Docker is Desktop's VM or a native engine, as the profile says."""
    gbps = round(profile.bandwidth_gbps * profile.cpu_bandwidth_share, 2)
    detail = f"{profile.memory_type}: {profile.bandwidth_gbps:g} GB/s theoretical"
    if profile.cpu_bandwidth_share < 1.0:
        detail += f" × {profile.cpu_bandwidth_share:g} reachable by the CPU"
    if profile.docker_desktop:
        docker = DockerEngineInfo(
            reachable=True,
            operating_system="Docker Desktop",
            os_type="linux",
            is_desktop=True,
            ncpu=profile.logical_cores,
            mem_total_bytes=int(profile.ram_bytes * profile.docker_vm_share),
        )
    else:
        docker = DockerEngineInfo(
            reachable=True,
            operating_system="Docker Engine",
            os_type="linux",
            ncpu=profile.logical_cores,
            mem_total_bytes=profile.ram_bytes,
        )
    return Machine(
        os=profile.os,
        os_release=profile.label,
        cpu=CpuInfo(
            model=profile.cpu_model,
            arch=profile.arch,
            physical_cores=profile.physical_cores,
            logical_cores=profile.logical_cores,
            simd=profile.simd,
            performance_cores=profile.performance_cores,
            clock_ghz=profile.clock_ghz,
        ),
        memory=MemoryInfo(total_bytes=profile.ram_bytes, available_bytes=profile.ram_bytes),
        cgroup=CgroupLimits(),
        docker=docker,
        bandwidth=Bandwidth(gbps=gbps, source="profile", detail=detail),
        name=profile.name,
    )


_OS_NAMES: tuple[OsName, ...] = ("linux", "darwin", "windows", "other")


def parse_hardware_profile(data: Mapping[str, Any], *, default_name: str = "profile") -> HardwareProfile:
    """Validate a hardware profile (TOML or JSON). RAM is given as ``ram_gb`` (GiB) or ``ram_bytes``."""
    if not isinstance(data, Mapping):
        raise ProfileError("a hardware profile must be a table/object")
    name = optional(data, "name", str, "profile", default_name)
    ctx = f"profile {name}"
    if "ram_bytes" in data:
        ram = required(data, "ram_bytes", int, ctx)
    else:
        ram_gb = required(data, "ram_gb", float, ctx)
        positive(ram_gb, "ram_gb", ctx)
        ram = int(ram_gb * GIB)
    positive(ram, "ram_bytes", ctx)
    bandwidth = required(data, "bandwidth_gbps", float, ctx)
    positive(bandwidth, "bandwidth_gbps", ctx)
    physical = required(data, "physical_cores", int, ctx)
    positive(physical, "physical_cores", ctx)
    logical = optional(data, "logical_cores", int, ctx, physical)
    if logical < physical:
        raise ProfileError(f"{ctx}: logical_cores ({logical}) cannot be below physical_cores ({physical})")
    performance = optional(data, "performance_cores", int, ctx, None)
    if performance is not None and not 0 < performance <= physical:
        raise ProfileError(f"{ctx}: performance_cores must be between 1 and physical_cores")
    os_name = optional(data, "os", str, ctx, "linux")
    if os_name not in _OS_NAMES:
        raise ProfileError(f"{ctx}: os must be one of {', '.join(_OS_NAMES)}, not {os_name!r}")
    simd_raw = optional(data, "simd", list, ctx, [])
    known = set(X86_SIMD) | set(ARM_SIMD)
    for feature in simd_raw:
        if feature not in known:
            raise ProfileError(f"{ctx}: unknown SIMD feature {feature!r} (known: {', '.join(sorted(known))})")
    share = optional(data, "cpu_bandwidth_share", float, ctx, 1.0)
    vm_share = optional(data, "docker_vm_share", float, ctx, 0.5)
    for key, value in (("cpu_bandwidth_share", share), ("docker_vm_share", vm_share)):
        if not 0 < value <= 1:
            raise ProfileError(f"{ctx}: {key} must be in (0, 1], not {value!r}")
    clock = optional(data, "clock_ghz", float, ctx, None)
    if clock is not None:
        positive(clock, "clock_ghz", ctx)
    return HardwareProfile(
        name=name,
        label=optional(data, "label", str, ctx, name),
        os=os_name,
        ram_bytes=ram,
        memory_type=optional(data, "memory_type", str, ctx, "unknown"),
        bandwidth_gbps=bandwidth,
        cpu_bandwidth_share=share,
        cpu_model=optional(data, "cpu_model", str, ctx, "unknown CPU"),
        arch=optional(data, "arch", str, ctx, "x86_64"),
        physical_cores=physical,
        logical_cores=logical,
        performance_cores=performance,
        simd=tuple(sorted(simd_raw)),
        clock_ghz=clock,
        docker_desktop=bool(optional(data, "docker_desktop", bool, ctx, False)),
        docker_vm_share=vm_share,
        bandwidth_note=optional(data, "bandwidth_note", str, ctx, ""),
        notes=optional(data, "notes", str, ctx, ""),
    )


def what_if(
    machine: Machine,
    *,
    ram_gb: float | None = None,
    cores: int | None = None,
    bandwidth_gbps: float | None = None,
) -> Machine:
    """``machine`` with RAM (GiB), physical cores or bandwidth (GB/s, a theoretical peak) replaced.

    Replacing RAM drops the cgroup limit and a native engine's memory figure (they described the old
    RAM); a Docker Desktop VM keeps its share of the new RAM.
    """
    for label, value in (("--ram", ram_gb), ("--cores", cores), ("--bandwidth", bandwidth_gbps)):
        if value is not None and not value > 0:
            raise UsageError(f"{label} must be positive, not {value:g}")
    changed = []
    if ram_gb is not None:
        total = int(ram_gb * GIB)
        docker = machine.docker
        if docker.mem_total_bytes and machine.memory.total_bytes:
            share = docker.mem_total_bytes / machine.memory.total_bytes if docker.is_desktop else 1.0
            docker = replace(docker, mem_total_bytes=int(total * min(share, 1.0)))
        machine = replace(
            machine,
            memory=replace(machine.memory, total_bytes=total, available_bytes=total),
            cgroup=replace(machine.cgroup, memory_limit_bytes=None),
            docker=docker,
        )
        changed.append(f"{ram_gb:g} GiB RAM")
    if cores is not None:
        cpu = replace(
            machine.cpu,
            physical_cores=cores,
            logical_cores=max(cores, machine.cpu.logical_cores),
            performance_cores=None,
        )
        machine = replace(machine, cpu=cpu, cgroup=replace(machine.cgroup, cpu_limit=None))
        changed.append(f"{cores} cores")
    if bandwidth_gbps is not None:
        machine = replace(
            machine,
            bandwidth=Bandwidth(gbps=bandwidth_gbps, source="profile", detail="given on the command line"),
        )
        changed.append(f"{bandwidth_gbps:g} GB/s")
    if changed:
        machine = replace(machine, name=f"{machine.name} with {', '.join(changed)}")
    return machine


__all__ = ["HardwareProfile", "machine_from_profile", "parse_hardware_profile", "what_if"]
