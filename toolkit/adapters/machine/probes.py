"""Look at the real machine: read the sources each OS offers and hand the text to ``toolkit.core``.

Linux: /proc/cpuinfo, /sys/devices/cpu_core/cpus (hybrid Intel P-cores), /proc/self/cgroup and mountinfo
plus the cgroup files they point to. macOS: ``sysctl hw machdep.cpu``. Windows: PowerShell
``Win32_Processor`` + ``IsProcessorFeaturePresent`` (see ``core.machine.cpuinfo.WINDOWS_PROBE_FORMAT``).
Everywhere: psutil for memory, swap and battery; docker-py for the engine; a short bandwidth probe.

Every optional source may be missing (no battery, no cgroup, no Docker, a locked-down /proc): detection
then reports "unknown" for that part and never raises. Only a CPU that no method can describe falls back
to psutil and ``platform``.
"""

from __future__ import annotations

import ctypes
import json
import math
import os
import platform
import subprocess
from pathlib import Path

import psutil

from toolkit.adapters.machine import bandwidth as bandwidth_probe
from toolkit.adapters.machine.gpus import probe_gpus
from toolkit.core.machine import cgroup as cgroup_core
from toolkit.core.machine.cpuinfo import (
    WINDOWS_PF_FEATURES,
    WINDOWS_PROBE_FORMAT,
    normalise_arch,
    parse_proc_cpuinfo,
    parse_sysctl,
    parse_windows_probe,
)
from toolkit.core.machine.dockerinfo import unreachable
from toolkit.core.machine.hardware import (
    Bandwidth,
    CgroupLimits,
    CpuInfo,
    DockerEngineInfo,
    Machine,
    MemoryInfo,
    OsName,
    PowerInfo,
)
from toolkit.errors import DockerUnavailableError

#: How long the Docker engine gets to answer ``/info`` during detection.
DOCKER_TIMEOUT_S = 3.0
SUBPROCESS_TIMEOUT_S = 10.0

_PROC = Path("/proc")
_SYS_CPU_CORE = Path("/sys/devices/cpu_core/cpus")


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def detect_os() -> tuple[OsName, str]:
    """The normalised OS name and a readable release string."""
    system = platform.system().lower()
    if system == "linux":
        pretty = ""
        text = _read_text(Path("/etc/os-release")) or ""
        for line in text.splitlines():
            key, _, value = line.partition("=")
            if key == "PRETTY_NAME":
                pretty = value.strip().strip('"')
        kernel = platform.release()
        return "linux", f"{pretty}, kernel {kernel}" if pretty else f"Linux {kernel}"
    if system == "darwin":
        return "darwin", f"macOS {platform.mac_ver()[0] or platform.release()}"
    if system == "windows":
        return "windows", f"Windows {platform.release()} ({platform.version()})"
    return "other", f"{platform.system()} {platform.release()}".strip()


# --- CPU ----------------------------------------------------------------------------------------


def _fallback_cpu() -> CpuInfo:
    logical = psutil.cpu_count(logical=True) or os.cpu_count() or 1
    physical = psutil.cpu_count(logical=False) or logical
    return CpuInfo(
        model=platform.processor() or "unknown CPU",
        arch=normalise_arch(platform.machine()),
        physical_cores=physical,
        logical_cores=logical,
    )


def _run(argv: list[str]) -> str | None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.stdout.strip() else None


def windows_probe_json() -> str:
    """Run the documented Windows method and return its JSON (the input of ``parse_windows_probe``)."""
    command = (
        "Get-CimInstance Win32_Processor | "
        "Select-Object Name,NumberOfCores,NumberOfLogicalProcessors | ConvertTo-Json -Compress"
    )
    out = _run(["powershell", "-NoProfile", "-NonInteractive", "-Command", command])
    processors: object = []
    if out:
        try:
            processors = json.loads(out)
        except ValueError:
            processors = []
    if not processors:
        logical = psutil.cpu_count(logical=True) or 1
        processors = [
            {
                "Name": platform.processor(),
                "NumberOfCores": psutil.cpu_count(logical=False) or logical,
                "NumberOfLogicalProcessors": logical,
            }
        ]
    features: dict[str, bool] = {}
    win_dll = getattr(ctypes, "WinDLL", None)
    if win_dll is not None:
        kernel32 = win_dll("kernel32")
        for name, (number, _) in WINDOWS_PF_FEATURES.items():
            features[name] = bool(kernel32.IsProcessorFeaturePresent(number))
    return json.dumps(
        {
            "format": WINDOWS_PROBE_FORMAT,
            "arch": platform.machine(),
            "processors": processors,
            "features": features,
        }
    )


def probe_cpu() -> CpuInfo:
    """The CPU, by the method of the OS this runs on."""
    system = platform.system().lower()
    try:
        if system == "linux":
            text = _read_text(_PROC / "cpuinfo")
            if text:
                return parse_proc_cpuinfo(
                    text, platform.machine(), performance_cpus=_read_text(_SYS_CPU_CORE)
                )
        elif system == "darwin":
            out = _run(["sysctl", "hw", "machdep.cpu"])
            if out:
                return parse_sysctl(out)
        elif system == "windows":
            return parse_windows_probe(windows_probe_json())
    except (ValueError, KeyError, TypeError):
        pass  # an unexpected format: fall through to what psutil and platform can say
    return _fallback_cpu()


# --- memory, power, cgroup ----------------------------------------------------------------------


def probe_memory() -> MemoryInfo:
    memory = psutil.virtual_memory()
    try:
        swap = psutil.swap_memory()
        swap_total, swap_used = int(swap.total), int(swap.used)
    except (OSError, RuntimeError):
        swap_total = swap_used = 0
    return MemoryInfo(
        total_bytes=int(memory.total),
        available_bytes=int(memory.available),
        swap_total_bytes=swap_total,
        swap_used_bytes=swap_used,
    )


def busy_share(seconds: float = 0.5) -> float | None:
    """The share of all CPU time in use over the next ``seconds`` (a benchmark reads it just before it
    starts, while the server idles: what it sees is other work); None where psutil cannot tell."""
    try:
        return float(psutil.cpu_percent(interval=seconds)) / 100.0
    except (OSError, RuntimeError, ValueError):
        return None


def probe_power() -> PowerInfo:
    """Battery and AC state; unknown (``on_ac=None``) on desktops, VMs and when psutil cannot tell."""
    sensors = getattr(psutil, "sensors_battery", None)
    if sensors is None:
        return PowerInfo()
    try:
        battery = sensors()
    except (OSError, RuntimeError, NotImplementedError):
        return PowerInfo()
    if battery is None:
        return PowerInfo()
    plugged = battery.power_plugged
    return PowerInfo(
        has_battery=True,
        on_ac=bool(plugged) if plugged is not None else None,
        percent=float(battery.percent) if battery.percent is not None else None,
    )


def probe_cgroup(root: Path = Path("/")) -> CgroupLimits:
    """The memory and CPU limits of this process's cgroup (Linux only; empty elsewhere).

    ``root`` prefixes every path read (tests point it at a fixture tree laid out like /proc and /sys).
    """
    self_cgroup = _read_text(root / "proc" / "self" / "cgroup")
    mountinfo = _read_text(root / "proc" / "self" / "mountinfo")
    if not self_cgroup or not mountinfo:
        return CgroupLimits()
    where = cgroup_core.locate_cgroup(self_cgroup, mountinfo)
    memory_names, cpu_names = cgroup_core.files_wanted(where.version)

    def read_dir(directory: str, names: tuple[str, ...]) -> dict[str, str]:
        found: dict[str, str] = {}
        for name in names:
            text = _read_text(root / directory.lstrip("/") / name)
            if text is not None:
                found[name] = text
        return found

    return cgroup_core.cgroup_limits(
        where.version,
        [read_dir(d, memory_names) for d in where.memory_dirs],
        [read_dir(d, cpu_names) for d in where.cpu_dirs],
    )


# --- Docker -------------------------------------------------------------------------------------


def probe_docker(timeout: float = DOCKER_TIMEOUT_S) -> DockerEngineInfo:
    """Ask the Docker engine for ``/info``; an unreachable engine is a value, not an exception.

    It connects the way ``gpuless up`` does (``toolkit.adapters.docker.engine``: DOCKER_HOST, else the
    current Docker CLI context), so an engine ``detect`` finds is the one ``up`` uses.
    """
    try:
        from toolkit.adapters.docker import engine as docker_engine
    except ImportError:
        return unreachable("the docker Python package is not installed")
    try:
        client = docker_engine.connect(timeout)
    except DockerUnavailableError as error:
        return DockerEngineInfo(reachable=False, error=error.message)
    try:
        return docker_engine.read_engine_info(client)
    except docker_engine.ENGINE_ERRORS as error:
        return unreachable(f"{type(error).__name__}: {error}", docker_engine.endpoint())
    finally:
        client.close()


# --- everything ---------------------------------------------------------------------------------


def probe_bandwidth(
    cpu: CpuInfo, memory: MemoryInfo, limits: CgroupLimits, *, refresh: bool, cache_dir: Path | None
) -> Bandwidth | None:
    """The cached (in ``cache_dir``; None: no cache) or freshly measured bandwidth; None if the probe
    cannot run here."""
    threads = cpu.physical_cores
    if limits.cpu_limit is not None:
        threads = max(1, min(threads, math.ceil(limits.cpu_limit)))
    try:
        if cache_dir is None:
            return bandwidth_probe.measure_bandwidth(threads=threads)
        return bandwidth_probe.cached_bandwidth(
            cpu.model, memory.total_bytes, cache_dir=cache_dir, refresh=refresh, threads=threads
        )
    except (ImportError, MemoryError, RuntimeError):
        return None


def detect_machine(
    *,
    measure_bandwidth: bool = True,
    docker: bool = True,
    refresh_bandwidth: bool = False,
    cache_dir: Path | None = None,
) -> Machine:
    """Everything gpuless can learn about this machine (see ``Machine``). Never raises for a missing
    optional source; with ``docker=False`` the engine is not contacted and reported as not probed.
    ``cache_dir`` (the settings' cache directory) keeps the bandwidth figure between runs."""
    os_name, os_release = detect_os()
    cpu = probe_cpu()
    memory = probe_memory()
    limits = probe_cgroup() if os_name == "linux" else CgroupLimits()
    return Machine(
        os=os_name,
        os_release=os_release,
        cpu=cpu,
        memory=memory,
        power=probe_power(),
        cgroup=limits,
        docker=probe_docker() if docker else DockerEngineInfo(),
        gpus=probe_gpus(),
        bandwidth=probe_bandwidth(cpu, memory, limits, refresh=refresh_bandwidth, cache_dir=cache_dir)
        if measure_bandwidth
        else None,
    )
