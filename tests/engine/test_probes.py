"""Detection on this real machine, the real Docker engine, and the bandwidth probe and its cache."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import NamedTuple

import psutil
import pytest

from toolkit.adapters.machine import bandwidth
from toolkit.adapters.machine.probes import (
    detect_machine,
    probe_cgroup,
    probe_docker,
    probe_power,
    windows_probe_json,
)
from toolkit.core.machine.cpuinfo import WINDOWS_PROBE_FORMAT, parse_windows_probe
from toolkit.core.machine.hardware import Bandwidth, CgroupLimits, PowerInfo

CGROUP_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "detect" / "cgroup"
linux_only = pytest.mark.skipif(platform.system() != "Linux", reason="reads /proc and /sys/fs/cgroup")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never touch the user's real cache (the CLI passes Settings().cache_dir to detection)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("GPULESS_CACHE_DIR", str(cache))
    return cache


def test_detect_matches_what_the_os_reports() -> None:
    machine = detect_machine(measure_bandwidth=False, docker=False)
    assert machine.cpu.logical_cores == os.cpu_count()
    assert machine.cpu.physical_cores == psutil.cpu_count(logical=False)
    assert machine.cpu.arch in ("x86_64", "arm64")
    assert machine.cpu.model and machine.cpu.model != "unknown CPU"
    assert machine.memory.total_bytes == psutil.virtual_memory().total
    assert 0 < machine.memory.available_bytes <= machine.memory.total_bytes
    assert machine.memory.swap_total_bytes == psutil.swap_memory().total
    assert machine.bandwidth is None
    assert machine.docker.reachable is False and machine.docker.error is None  # not probed
    json.dumps(machine.to_dict())  # JSON-ready


@linux_only
def test_detect_on_linux_reads_proc_cpuinfo_flags() -> None:
    flags = next(
        line.split(":", 1)[1].split()
        for line in Path("/proc/cpuinfo").read_text().splitlines()
        if line.startswith(("flags", "Features"))
    )
    cpu = detect_machine(measure_bandwidth=False, docker=False).cpu
    assert ("avx2" in cpu.simd) == ("avx2" in flags)
    assert ("avx512f" in cpu.simd) == ("avx512f" in flags)
    assert ("neon" in cpu.simd) == ("asimd" in flags)


@pytest.mark.skipif(platform.system() == "Windows", reason="checks the fallback taken without PowerShell")
def test_windows_probe_output_is_what_the_parser_reads() -> None:
    # Off Windows there is no PowerShell and no kernel32: the probe falls back to psutil for the
    # processor list and reports no features, and its JSON must still parse into a CpuInfo.
    text = windows_probe_json()
    assert json.loads(text)["format"] == WINDOWS_PROBE_FORMAT
    cpu = parse_windows_probe(text)
    assert cpu.logical_cores == os.cpu_count()
    assert cpu.physical_cores == psutil.cpu_count(logical=False)
    assert cpu.simd == ()


@linux_only
def test_power_matches_the_kernels_power_supply_files() -> None:
    # Read apart from psutil (which the probe wraps): the kernel's own power supplies. A "Device" scope
    # battery is a mouse's or a headset's, not the machine's.
    root = Path("/sys/class/power_supply")
    supplies = sorted(root.iterdir()) if root.is_dir() else []

    def read(supply: Path, name: str) -> str:
        return (supply / name).read_text(encoding="utf-8").strip() if (supply / name).is_file() else ""

    batteries = [s for s in supplies if read(s, "type") == "Battery" and read(s, "scope") != "Device"]
    mains = [s for s in supplies if read(s, "type") == "Mains"]
    power = probe_power()
    assert power.has_battery == bool(batteries), [s.name for s in supplies]
    if batteries and mains:  # a laptop: on AC exactly when a mains supply is online
        assert power.on_ac == any(read(s, "online") == "1" for s in mains)
    if not batteries:  # a desktop, server or VM: AC state unknown, not "on battery"
        assert power.on_ac is None and power.percent is None


class Battery(NamedTuple):
    """What ``psutil.sensors_battery()`` returns (its fields, in its order)."""

    percent: float
    secsleft: int
    power_plugged: bool | None


@pytest.mark.parametrize(
    ("battery", "expected"),
    [
        (Battery(64.0, 3600, False), PowerInfo(has_battery=True, on_ac=False, percent=64.0)),
        (Battery(99.5, -2, True), PowerInfo(has_battery=True, on_ac=True, percent=99.5)),
        # psutil says "plugged" is None when the OS cannot tell: unknown, not on battery.
        (Battery(50, -1, None), PowerInfo(has_battery=True, on_ac=None, percent=50.0)),
        (None, PowerInfo()),
        (OSError("no /sys"), PowerInfo()),
    ],
)
def test_power_probe_reads_what_psutil_reports(
    monkeypatch: pytest.MonkeyPatch, battery: object, expected: PowerInfo
) -> None:
    def sensors() -> object:
        if isinstance(battery, Exception):
            raise battery
        return battery

    monkeypatch.setattr(psutil, "sensors_battery", sensors, raising=False)
    assert probe_power() == expected


@linux_only
def test_cgroup_on_this_machine_is_found() -> None:
    limits = probe_cgroup()
    assert limits.version in (1, 2)
    if limits.memory_limit_bytes is not None:
        assert limits.memory_limit_bytes > 0


def test_cgroup_probe_over_fixture_trees() -> None:
    assert probe_cgroup(CGROUP_FIXTURES / "v2_container_limited") == CgroupLimits(2, 4 * 1024**3, 2.0)
    assert probe_cgroup(CGROUP_FIXTURES / "v1_container_limited") == CgroupLimits(1, 2 * 1024**3, 1.5)
    assert probe_cgroup(CGROUP_FIXTURES / "v1_container_unlimited") == CgroupLimits(1, None, None)
    assert probe_cgroup(CGROUP_FIXTURES / "does-not-exist") == CgroupLimits()


# --- Docker -------------------------------------------------------------------------------------


@pytest.mark.docker
def test_real_docker_engine() -> None:
    engine = probe_docker()
    if not engine.reachable:
        pytest.skip(f"Docker engine not available: {engine.error}")
    assert engine.error is None
    assert engine.server_version
    assert engine.os_type == "linux"
    assert engine.ncpu == os.cpu_count()
    assert engine.mem_total_bytes is not None and engine.mem_total_bytes > 0
    assert engine.cgroup_version in ("1", "2")


def test_unreachable_docker_is_a_value_with_a_useful_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    started = time.perf_counter()
    engine = probe_docker()
    assert time.perf_counter() - started < 5
    assert engine.reachable is False
    assert engine.error == (
        "Docker engine not reachable at unix:///nonexistent.sock: "
        "no Docker socket there (engine not installed or not running)"
    )


def test_refused_tcp_docker_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:9")  # loopback discard port: nothing listens
    engine = probe_docker(timeout=2)
    assert engine.reachable is False
    assert engine.error is not None and "tcp://127.0.0.1:9" in engine.error


# --- bandwidth ----------------------------------------------------------------------------------


def test_bandwidth_probe_measures() -> None:
    # How its budget cuts passes is tested on a controlled clock (test_bandwidth_cache.py): the wall time
    # of a real run depends on this machine's speed.
    result = bandwidth.measure_bandwidth(threads=psutil.cpu_count(logical=False))
    assert result.source == "measured"
    assert result.gbps > 0
    assert "numpy max-reduce" in result.detail


def test_detect_with_bandwidth_caches_it(_private_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bandwidth, "BUSY_LOAD_PER_CPU", float("inf"))  # cache even on a busy shared box
    first = detect_machine(measure_bandwidth=True, docker=False, cache_dir=_private_cache)
    assert first.bandwidth is not None and first.bandwidth.gbps > 0
    assert (_private_cache / bandwidth.CACHE_FILE).exists()
    second = detect_machine(measure_bandwidth=True, docker=False, cache_dir=_private_cache)
    assert second.bandwidth is not None
    assert second.bandwidth.gbps == first.bandwidth.gbps
    assert "cached" in second.bandwidth.detail


def quiet() -> float:
    return 0.0


class _CountingProbe:
    def __init__(self, gbps: float) -> None:
        self.calls = 0
        self.gbps = gbps

    def __call__(self) -> Bandwidth:
        self.calls += 1
        return Bandwidth(gbps=self.gbps, detail="test probe")


def test_cache_roundtrip_refresh_and_expiry(tmp_path: Path) -> None:
    probe = _CountingProbe(42.5)
    clock = [1_000_000.0]

    def get(refresh: bool = False, model: str = "CPU A") -> Bandwidth:
        return bandwidth.cached_bandwidth(
            model,
            16 * 1024**3,
            cache_dir=tmp_path,
            refresh=refresh,
            measure=probe,
            now=lambda: clock[0],
            load=quiet,
        )

    assert get().gbps == 42.5 and probe.calls == 1
    clock[0] += 3600 * 24
    hit = get()
    assert probe.calls == 1 and hit.gbps == 42.5 and hit.detail == "test probe; cached 24 h ago"
    get(refresh=True)
    assert probe.calls == 2
    get(model="CPU B")  # other hardware, other entry
    assert probe.calls == 3
    clock[0] += bandwidth.CACHE_MAX_AGE_S + 1
    get()
    assert probe.calls == 4  # stale
    entries = bandwidth.read_cache(tmp_path / bandwidth.CACHE_FILE)
    assert set(entries) == {
        bandwidth.cache_key("CPU A", 16 * 1024**3),
        bandwidth.cache_key("CPU B", 16 * 1024**3),
    }
    assert [p.name for p in tmp_path.iterdir()] == [bandwidth.CACHE_FILE]  # no temporary files left behind


@pytest.mark.parametrize("content", ["{not json", "[]", '{"format": 99, "entries": {}}', ""])
def test_corrupt_cache_is_ignored_and_rewritten(tmp_path: Path, content: str) -> None:
    path = tmp_path / bandwidth.CACHE_FILE
    path.write_text(content, encoding="utf-8")
    probe = _CountingProbe(7.0)
    result = bandwidth.cached_bandwidth("CPU", 1024, cache_dir=tmp_path, measure=probe, load=quiet)
    assert result.gbps == 7.0 and probe.calls == 1
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == bandwidth.CACHE_FORMAT
    assert data["entries"][bandwidth.cache_key("CPU", 1024)]["gbps"] == 7.0


def test_corrupt_entry_is_ignored(tmp_path: Path) -> None:
    bandwidth.write_cache(tmp_path / bandwidth.CACHE_FILE, {bandwidth.cache_key("CPU", 1): {"gbps": "fast"}})
    probe = _CountingProbe(3.0)
    assert bandwidth.cached_bandwidth("CPU", 1, cache_dir=tmp_path, measure=probe, load=quiet).gbps == 3.0
    assert probe.calls == 1


def test_busy_machine_figure_is_returned_with_a_note_and_kept_only_while_busy(tmp_path: Path) -> None:
    probe = _CountingProbe(5.0)
    result = bandwidth.cached_bandwidth("CPU", 1, cache_dir=tmp_path, measure=probe, load=lambda: 2.5)
    assert result.gbps == 5.0
    assert result.detail == "test probe; machine busy (load 2.5 per CPU): may read low"
    bandwidth.cached_bandwidth("CPU", 1, cache_dir=tmp_path, measure=probe, load=lambda: 2.5)
    assert probe.calls == 1  # still busy: the stopgap is reused
    bandwidth.cached_bandwidth("CPU", 1, cache_dir=tmp_path, measure=probe, load=quiet)
    assert probe.calls == 2  # idle: measured again
