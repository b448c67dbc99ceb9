"""The memory budget: what the host, Docker Desktop's VM or a cgroup limit leaves for a model."""

from __future__ import annotations

from tests import builders
from toolkit.core.machine.hardware import CgroupLimits, DockerEngineInfo, Machine
from toolkit.core.recommend.budget import COMFORT_SHARE, VM_RESERVE_BYTES, memory_budget
from toolkit.core.units import GIB


def bare(ram_gib: float, **over: object) -> Machine:
    return builders.machine(ram_gb=ram_gib, gbps=None, **over)


def test_budget_host_reserve_scales_with_ram() -> None:
    small, big = memory_budget(bare(8)), memory_budget(bare(32))
    assert small.limited_by == big.limited_by == "host RAM"
    assert small.reserve_bytes == int(1.5 * GIB + 0.8 * GIB)
    assert big.reserve_bytes > small.reserve_bytes
    assert small.usable_bytes == 8 * GIB - small.reserve_bytes
    assert small.comfortable_bytes == int(small.usable_bytes * COMFORT_SHARE)


def test_budget_docker_desktop_vm_limits() -> None:
    vm = DockerEngineInfo(reachable=True, is_desktop=True, mem_total_bytes=4 * GIB, ncpu=8)
    budget = memory_budget(bare(16, docker=vm))
    assert budget.limited_by == "Docker Desktop VM"
    assert budget.usable_bytes == 4 * GIB - VM_RESERVE_BYTES
    # a native Linux engine reports host memory: not a separate limit
    native = DockerEngineInfo(reachable=True, is_desktop=False, mem_total_bytes=16 * GIB)
    assert memory_budget(bare(16, docker=native)).limited_by == "host RAM"


def test_budget_cgroup_limit_is_dedicated() -> None:
    budget = memory_budget(bare(32, cgroup=CgroupLimits(version=2, memory_limit_bytes=6 * GIB)))
    assert budget.limited_by == "cgroup limit"
    assert budget.usable_bytes == budget.comfortable_bytes == 6 * GIB - int(6 * GIB * 0.05)
