"""The memory budget: how much memory a model may use on a machine, and how much it should use.

Pure: the machine comes in as a ``Machine`` (detected or built from a hardware profile). The policy
(documented constants below):

- ``usable`` = min(host RAM − OS reserve, Docker VM − VM reserve, cgroup limit − 5%): a model larger than
  this does not load without swapping. OS reserve = 1.5 GiB + 10% of RAM (kernel, desktop session, Docker
  daemon, a minimum of page cache).
- ``comfortable`` = the larger of a third of the host's usable memory and what is left after the apps of
  a laptop that is being *used* (browser, editor, chat client: ``APPS_RESERVE_BYTES``), capped by
  ``usable``. A cgroup limit is dedicated to the model, so there ``comfortable = usable``.
"""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.core.machine.hardware import Machine
from toolkit.core.units import GIB

#: OS reserve on the host: fixed part + share of RAM (kernel, desktop, Docker daemon, page cache floor).
HOST_RESERVE_BASE_BYTES = int(1.5 * GIB)
HOST_RESERVE_SHARE = 0.10
#: Docker Desktop's VM keeps this for its own kernel, dockerd and containerd.
VM_RESERVE_BYTES = GIB // 2
#: Inside a cgroup limit, keep this share free so the kernel reclaims page cache instead of OOM-killing.
CGROUP_RESERVE_SHARE = 0.05
#: Share of the host's usable memory a model may always take and still leave the laptop usable.
COMFORT_SHARE = 1 / 3
#: What the apps of a laptop in use (a browser with a dozen tabs, an editor, a chat client) keep
#: resident, beside the OS reserve. A model may take whatever is left when that is more than
#: ``COMFORT_SHARE``: on 16 GB a 7B Q4 model (≈ 5 GiB) then fits comfortably, as users expect, while on
#: 8 GB the share still rules.
APPS_RESERVE_BYTES = 4 * GIB


@dataclass(frozen=True)
class Budget:
    """How much memory a model may use on a machine, and why.

    Attributes:
        host_bytes: installed RAM as the OS reports it.
        docker_vm_bytes: memory of Docker Desktop's VM (or a non-Linux engine), None when Docker is native.
        cgroup_bytes: the memory limit of the cgroup gpuless runs in, None when unlimited.
        limited_by: which of "host RAM", "Docker Desktop VM", "cgroup limit" sets ``usable``.
        reserve_bytes: what is kept back from that limit (OS / VM / cgroup reserve).
        usable_bytes: the most a model can take without swapping ("fits").
        comfortable_bytes: what a model should take so the machine stays usable ("fits comfortably").
    """

    host_bytes: int
    docker_vm_bytes: int | None
    cgroup_bytes: int | None
    limited_by: str
    reserve_bytes: int
    usable_bytes: int
    comfortable_bytes: int


def memory_budget(machine: Machine) -> Budget:
    """The memory budget of ``machine`` (see the module docstring for the policy)."""
    host = machine.memory.total_bytes
    host_reserve = HOST_RESERVE_BASE_BYTES + int(HOST_RESERVE_SHARE * host)
    host_usable = max(host - host_reserve, 0)
    options: list[tuple[int, str, int]] = [(host_usable, "host RAM", host_reserve)]
    docker = machine.docker
    vm_bytes = None
    if docker.reachable and docker.mem_total_bytes and (docker.is_desktop or machine.os != "linux"):
        vm_bytes = docker.mem_total_bytes
        options.append((max(vm_bytes - VM_RESERVE_BYTES, 0), "Docker Desktop VM", VM_RESERVE_BYTES))
    cgroup_bytes = machine.cgroup.memory_limit_bytes
    if cgroup_bytes:
        reserve = int(cgroup_bytes * CGROUP_RESERVE_SHARE)
        options.append((cgroup_bytes - reserve, "cgroup limit", reserve))
    usable, limited_by, reserve = min(options, key=lambda option: option[0])
    beside_apps = max(int(host_usable * COMFORT_SHARE), host_usable - APPS_RESERVE_BYTES)
    comfortable = usable if limited_by == "cgroup limit" else min(beside_apps, usable)
    return Budget(
        host_bytes=host,
        docker_vm_bytes=vm_bytes,
        cgroup_bytes=cgroup_bytes,
        limited_by=limited_by,
        reserve_bytes=reserve,
        usable_bytes=usable,
        comfortable_bytes=comfortable,
    )


__all__ = [
    "APPS_RESERVE_BYTES",
    "CGROUP_RESERVE_SHARE",
    "COMFORT_SHARE",
    "HOST_RESERVE_BASE_BYTES",
    "HOST_RESERVE_SHARE",
    "VM_RESERVE_BYTES",
    "Budget",
    "memory_budget",
]
