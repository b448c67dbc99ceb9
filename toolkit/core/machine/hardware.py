"""What gpuless knows about a machine: the data types every later step reads.

Probes in ``adapters.machine.probes`` fill these from the real machine; hardware profiles fill them for
what-if questions. They are plain frozen dataclasses so they can be compared, cached, serialised to
JSON (``to_dict``) and built from fixtures in tests.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

OsName = Literal["linux", "darwin", "windows", "other"]

#: The SIMD feature names gpuless reports, normalised across /proc/cpuinfo, sysctl and Windows.
X86_SIMD = ("avx", "avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx", "fma", "f16c")
ARM_SIMD = ("neon", "sve", "dotprod", "i8mm")


@dataclass(frozen=True)
class CpuInfo:
    """The CPU as the OS describes it.

    Attributes:
        model: marketing name, e.g. "AMD Ryzen 7 7840U w/ Radeon 780M Graphics".
        arch: normalised architecture, "x86_64" or "arm64" (or what the OS said, if neither).
        physical_cores: cores without SMT siblings (what llama.cpp uses for threads).
        logical_cores: hardware threads.
        simd: SIMD features present, a sorted tuple drawn from ``X86_SIMD`` / ``ARM_SIMD``.
        performance_cores: P-cores on a hybrid CPU (Apple, Intel 12th gen+) when known, else None.
        clock_ghz: sustained all-core clock when known (hardware profiles); None lets estimates fall
            back to the "@ 2.50GHz" in the model name or a default.
    """

    model: str
    arch: str
    physical_cores: int
    logical_cores: int
    simd: tuple[str, ...] = ()
    performance_cores: int | None = None
    clock_ghz: float | None = None

    def has(self, feature: str) -> bool:
        return feature in self.simd

    @property
    def best_simd(self) -> str:
        """The widest vector unit present, as a short label for display and estimates."""
        for name in ("amx", "avx512f", "avx2", "avx", "sve", "neon"):
            if name in self.simd:
                return name
        return "scalar"


@dataclass(frozen=True)
class MemoryInfo:
    """Physical memory and swap in bytes, as psutil reports them for the whole OS."""

    total_bytes: int
    available_bytes: int
    swap_total_bytes: int = 0
    swap_used_bytes: int = 0


@dataclass(frozen=True)
class PowerInfo:
    """Battery vs AC. Laptops on battery often throttle, which lowers measured speed.

    Attributes:
        has_battery: a battery was found at all.
        on_ac: True on AC power, False on battery, None when unknown (desktops, VMs).
        percent: charge level, if there is a battery.
    """

    has_battery: bool = False
    on_ac: bool | None = None
    percent: float | None = None


@dataclass(frozen=True)
class CgroupLimits:
    """Limits of the control group this process runs in (set when gpuless itself runs in a container).

    Attributes:
        version: 1 or 2, None if no cgroup filesystem was found (macOS, Windows).
        memory_limit_bytes: memory.max (v2) / memory.limit_in_bytes (v1); None when unlimited.
        cpu_limit: cores allowed by the CPU quota (cpu.max / cfs_quota_us ÷ period); None when unlimited.
    """

    version: int | None = None
    memory_limit_bytes: int | None = None
    cpu_limit: float | None = None


@dataclass(frozen=True)
class DockerEngineInfo:
    """The Docker engine as its own ``/info`` reports it (on Docker Desktop: the VM, not the host).

    Attributes:
        reachable: the engine answered.
        error: why it did not, in one line, when unreachable.
        server_version: engine version, e.g. "28.2.2".
        operating_system: e.g. "Docker Desktop", "Debian GNU/Linux 12 (bookworm)".
        os_type: "linux" or "windows" (the kind of containers it runs).
        is_desktop: Docker Desktop (a VM whose CPU and memory are smaller than the host's).
        ncpu: logical CPUs the engine can use.
        mem_total_bytes: memory the engine can use.
        cgroup_version: "1" or "2".
        swap_limit: the engine can limit swap (needed for memswap_limit to take effect).
        rootless: a rootless engine (``name=rootless`` in its security options): no memlock ulimit, ports
            through its user-mode network.
        is_podman: Podman's Docker-compatible API, not Docker's engine.
        has_bridge: the engine has a "bridge" network (published ports work); None if not asked. A
            ``dockerd --bridge=none`` engine has none, and only host networking reaches the server.
    """

    reachable: bool = False
    error: str | None = None
    server_version: str | None = None
    operating_system: str | None = None
    os_type: str | None = None
    is_desktop: bool = False
    ncpu: int | None = None
    mem_total_bytes: int | None = None
    cgroup_version: str | None = None
    swap_limit: bool | None = None
    rootless: bool = False
    is_podman: bool = False
    has_bridge: bool | None = None


@dataclass(frozen=True)
class Bandwidth:
    """Memory read bandwidth, the number that bounds decode speed on a CPU.

    Attributes:
        gbps: gigabytes (1e9) per second.
        source: "measured" (the short probe), "profile" (a hardware profile), or "assumed" (a default).
        detail: how it was obtained, for display (e.g. "numpy max-reduce, 2 threads × 64 MiB, median of
            5 passes, spread ±3%").
        spread: the probe's passes' half-range relative to their median (0.03 = ±3%); 0.0 when not
            measured or unknown.
    """

    gbps: float
    source: Literal["measured", "profile", "assumed"] = "measured"
    detail: str = ""
    spread: float = 0.0


@dataclass(frozen=True)
class GpuInfo:
    """A GPU the operating system shows (Linux: /sys/class/drm; Windows: Win32_VideoController), read by
    ``toolkit.adapters.machine.gpus`` and classified by ``toolkit.core.machine.gpu``.

    Attributes:
        vendor: "intel", "amd", "nvidia" or "other".
        name: what to call it ("Intel integrated graphics (i915, 8086:9a49)", or Windows' name).
        pci_id: "vendor:device" in hex ("8086:9a49"), "" when unknown.
        driver: the kernel driver (i915, xe, amdgpu, nvidia), "" when unknown.
        integrated: True for a GPU inside the CPU package that shares system memory (an iGPU).
    """

    vendor: str
    name: str
    pci_id: str = ""
    driver: str = ""
    integrated: bool = False


@dataclass(frozen=True)
class Machine:
    """Everything detection found. ``recommend`` and ``compose`` are functions of this value.

    Attributes:
        os: normalised OS name.
        os_release: human-readable OS version.
        cpu: see ``CpuInfo``.
        memory: see ``MemoryInfo``.
        power: see ``PowerInfo``.
        cgroup: see ``CgroupLimits``.
        docker: see ``DockerEngineInfo``.
        bandwidth: measured or assumed memory bandwidth; None if unknown.
        gpus: the GPUs the OS shows (none read for a profile, or where nothing could be read).
        name: a label, e.g. the hardware profile's name for what-if machines; "this machine" otherwise.
    """

    os: OsName
    os_release: str
    cpu: CpuInfo
    memory: MemoryInfo
    power: PowerInfo = field(default_factory=PowerInfo)
    cgroup: CgroupLimits = field(default_factory=CgroupLimits)
    docker: DockerEngineInfo = field(default_factory=DockerEngineInfo)
    bandwidth: Bandwidth | None = None
    gpus: tuple[GpuInfo, ...] = ()
    name: str = "this machine"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists)."""
        return asdict(self)
