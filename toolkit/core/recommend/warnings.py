"""What about a detected machine the user should know before picking a model.

Detection only gathers facts; this module judges them (a Docker Desktop VM smaller than the host, running
on battery, an x86 CPU without AVX2, swap, an unreachable engine, a cgroup limit, a Mac's GPU or a laptop's
iGPU that Ollama in Docker cannot use) and says what to do about each, so the CLI and the TUI show the same
advice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from toolkit.core.estimate.metal import mac_chip
from toolkit.core.machine.gpu import discrete_of
from toolkit.core.machine.hardware import Machine
from toolkit.core.recommend.native_advice import NATIVE_COMMAND, integrated_gpu
from toolkit.core.units import format_memory as _gib

Level = Literal["info", "warning", "error"]

#: Docker Desktop's VM is "smaller than the host" when it has less than this share of host memory.
DESKTOP_MEMORY_SHARE = 0.9


@dataclass(frozen=True)
class MachineWarning:
    """One finding about the machine.

    Attributes:
        code: stable identifier for programs and tests, e.g. "docker_unreachable".
        level: "info" (worth knowing), "warning" (slows or limits things), "error" (blocks a step).
        message: one line saying what was found.
        hint: one line saying what to do about it.
    """

    code: str
    level: Level
    message: str
    hint: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_ENGINE_HINTS = {
    "linux": (
        "start it with `sudo systemctl start docker`; on 'permission denied' add yourself to the docker "
        "group (`sudo usermod -aG docker $USER`, then log in again)"
    ),
    "darwin": (
        "start Docker Desktop (or Colima / OrbStack) and check `docker info`; Docker Desktop's socket is "
        "~/.docker/run/docker.sock (export DOCKER_HOST=unix://$HOME/.docker/run/docker.sock)"
    ),
    "windows": "start Docker Desktop and wait until it shows 'Engine running', then check `docker info`",
}


def _docker_warnings(machine: Machine) -> list[MachineWarning]:
    docker = machine.docker
    found: list[MachineWarning] = []
    if not docker.reachable:
        if docker.error is not None:  # no error means the engine was not probed at all
            hint = _ENGINE_HINTS.get(machine.os, "start the Docker engine and check `docker info`")
            found.append(
                MachineWarning("docker_unreachable", "error", docker.error, hint[0].upper() + hint[1:])
            )
        return found
    if not docker.is_desktop:
        return found
    small_cpu = docker.ncpu is not None and docker.ncpu < machine.cpu.logical_cores
    small_mem = (
        docker.mem_total_bytes is not None
        and docker.mem_total_bytes < DESKTOP_MEMORY_SHARE * machine.memory.total_bytes
    )
    if small_cpu or small_mem:
        vm_mem = _gib(docker.mem_total_bytes) if docker.mem_total_bytes is not None else "? GiB"
        vm_cpus = docker.ncpu if docker.ncpu is not None else "?"
        found.append(
            MachineWarning(
                "docker_desktop_vm_smaller",
                "warning",
                f"Docker Desktop's VM has {vm_cpus} CPUs and {vm_mem}; "
                f"the host has {machine.cpu.logical_cores} CPUs and {_gib(machine.memory.total_bytes)}",
                "Models are sized to the VM; raise its limits in Docker Desktop → Settings → Resources "
                "(WSL 2 backend: in %UserProfile%\\.wslconfig)",
            )
        )
    return found


def _gpu_notes(machine: Machine) -> list[MachineWarning]:
    """A GPU gpuless's container does not use: a Mac's (Metal), an iGPU (the CPU's name or the OS shows
    it), a discrete GPU the OS lists."""
    chip = mac_chip(machine)
    if chip is not None:
        return [
            MachineWarning(
                "mac_gpu_native",
                "info",
                f"This Mac's GPU ({chip.name}, {chip.bandwidth_gbps:g} GB/s) is not reachable from Docker: "
                "Ollama in Docker runs on the CPU only",
                f"Native Ollama uses the GPU (Metal): `{NATIVE_COMMAND}`; `gpuless recommend` shows both "
                "speeds",
            )
        ]
    notes: list[MachineWarning] = []
    gpu = integrated_gpu(machine)
    if gpu is not None:
        notes.append(
            MachineWarning(
                "integrated_gpu",
                "info",
                f"This CPU has an integrated GPU ({gpu}); gpuless's speed figures are CPU-only",
                "A natively installed Ollama may use it with OLLAMA_IGPU_ENABLE=1; benchmark it against the "
                "CPU",
            )
        )
    discrete = discrete_of(machine.gpus)
    if discrete is not None:
        notes.append(
            MachineWarning(
                "discrete_gpu",
                "info",
                f"This machine has a discrete GPU ({discrete.name}); gpuless's speed figures and its "
                "container are CPU-only",
                "A natively installed Ollama uses it (`gpuless up --runtime native`), and is then much "
                "faster than these figures",
            )
        )
    return notes


def describe_machine_warnings(machine: Machine) -> list[MachineWarning]:
    """Everything worth telling the user about ``machine``, most severe first."""
    found = _docker_warnings(machine)

    cgroup = machine.cgroup
    if cgroup.memory_limit_bytes is not None and cgroup.memory_limit_bytes < machine.memory.total_bytes:
        found.append(
            MachineWarning(
                "cgroup_memory_limit",
                "warning",
                f"gpuless runs in a container limited to {_gib(cgroup.memory_limit_bytes)} of the host's "
                f"{_gib(machine.memory.total_bytes)}",
                "Models are sized to the container limit; run gpuless on the host to use all memory",
            )
        )
    if cgroup.cpu_limit is not None and cgroup.cpu_limit < machine.cpu.logical_cores:
        found.append(
            MachineWarning(
                "cgroup_cpu_limit",
                "warning",
                f"gpuless runs in a container limited to {cgroup.cpu_limit:g} of "
                f"{machine.cpu.logical_cores} CPUs",
                "Speed estimates use the limit; run gpuless on the host for the full figure",
            )
        )

    cpu = machine.cpu
    if cpu.arch == "x86_64" and not cpu.has("avx2"):
        found.append(
            MachineWarning(
                "no_avx2",
                "warning",
                f"{cpu.model} has no AVX2: llama.cpp falls back to much slower kernels",
                "Expect a fraction of the usual speed; prefer the smallest models",
            )
        )

    power = machine.power
    if power.has_battery and power.on_ac is False:
        level = f" ({power.percent:.0f}%)" if power.percent is not None else ""
        found.append(
            MachineWarning(
                "on_battery",
                "warning",
                f"Running on battery{level}: laptops lower their clocks, so speed drops",
                "Plug in before benchmarking to measure the real figure",
            )
        )

    memory = machine.memory
    if memory.swap_used_bytes > 0:
        found.append(
            MachineWarning(
                "swap_in_use",
                "warning",
                f"{_gib(memory.swap_used_bytes)} of swap in use: memory is already tight",
                "Close other programs; gpuless keeps the model container out of swap "
                "(memswap_limit = mem_limit)",
            )
        )
    elif memory.swap_total_bytes > 0:
        found.append(
            MachineWarning(
                "swap_enabled",
                "info",
                f"Swap is enabled ({_gib(memory.swap_total_bytes)}): a model that does not fit would page, "
                "and generation would crawl",
                "gpuless sizes the model to RAM and sets memswap_limit = mem_limit on the container",
            )
        )

    found.extend(_gpu_notes(machine))
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(found, key=lambda w: order[w.level])
