"""The bandwidth probe and its cache: never a non-finite figure (issue 11 item 10: no "nan GB/s"); a stable
figure (a re-measurement replaces it only beyond the spread); buffers sized from the reported caches
(issue 12)."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest

from toolkit.adapters.machine import bandwidth
from toolkit.core.machine.hardware import Bandwidth
from toolkit.core.machine.probe_sizing import FALLBACK_LLC_BYTES, MIB, last_level_cache_bytes


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_cached_figures_are_measured_again(tmp_path: Path, raw: str) -> None:
    key = bandwidth.cache_key("CPU", 1)
    entry = f'{{"gbps": {raw}, "measured_at": 1.0}}'
    text = f'{{"format": {bandwidth.CACHE_FORMAT}, "entries": {{"{key}": {entry}}}}}'
    (tmp_path / bandwidth.CACHE_FILE).write_text(text, encoding="utf-8")
    calls = []

    def probe() -> Bandwidth:
        calls.append(1)
        return Bandwidth(gbps=9.5, source="measured", detail="test probe")

    result = bandwidth.cached_bandwidth(
        "CPU", 1, cache_dir=tmp_path, measure=probe, load=lambda: 0.0, now=lambda: 2.0
    )
    assert result.gbps == 9.5 and calls == [1]
    written = json.loads((tmp_path / bandwidth.CACHE_FILE).read_text(encoding="utf-8"))
    assert math.isfinite(written["entries"][key]["gbps"])


# --- stability: a re-measurement replaces the figure only beyond the spread (issue 12) ------------


class _Probe:
    """Returns the next scripted figure at each call."""

    def __init__(self, *figures: tuple[float, float]) -> None:
        self.figures = list(figures)
        self.calls = 0

    def __call__(self) -> Bandwidth:
        gbps, spread = self.figures[self.calls]
        self.calls += 1
        return Bandwidth(gbps=gbps, source="measured", detail=f"probe {gbps}", spread=spread)


def _get(tmp_path: Path, probe: _Probe, *, refresh: bool, at: float, load: float = 0.0) -> Bandwidth:
    return bandwidth.cached_bandwidth(
        "CPU", 16, cache_dir=tmp_path, refresh=refresh, measure=probe, load=lambda: load, now=lambda: at
    )


def test_a_remeasure_within_the_spread_keeps_the_stored_figure(tmp_path: Path) -> None:
    probe = _Probe((20.0, 0.08), (21.2, 0.05), (20.5, 0.02))
    assert _get(tmp_path, probe, refresh=True, at=10.0).gbps == 20.0
    again = _get(tmp_path, probe, refresh=True, at=20.0)
    assert probe.calls == 2 and again.gbps == 20.0 and again.spread == 0.08
    assert "confirmed now (21.2 GB/s" in again.detail
    # an expired entry is re-measured, and a figure within the spread still keeps it, with a new date
    late = 20.0 + bandwidth.CACHE_MAX_AGE_S + 1
    assert _get(tmp_path, probe, refresh=False, at=late).gbps == 20.0 and probe.calls == 3
    stored = bandwidth.read_cache(tmp_path / bandwidth.CACHE_FILE)[bandwidth.cache_key("CPU", 16)]
    assert stored["gbps"] == 20.0 and stored["measured_at"] == late


def test_a_remeasure_beyond_the_spread_replaces_the_stored_figure(tmp_path: Path) -> None:
    probe = _Probe((20.0, 0.03), (26.0, 0.04))
    _get(tmp_path, probe, refresh=True, at=10.0)
    new = _get(tmp_path, probe, refresh=True, at=20.0)
    assert new.gbps == 26.0 and new.detail == "probe 26.0"
    assert _get(tmp_path, probe, refresh=False, at=30.0).gbps == 26.0 and probe.calls == 2


def test_a_busy_remeasure_keeps_the_stored_figure(tmp_path: Path) -> None:
    probe = _Probe((20.0, 0.03), (12.8, 0.2), (12.8, 0.2))
    _get(tmp_path, probe, refresh=True, at=10.0)
    busy = _get(tmp_path, probe, refresh=True, at=20.0, load=3.0)
    assert busy.gbps == 20.0 and "busy" in busy.detail and "12.8" in busy.detail
    assert probe.calls == 2


def test_a_busy_figure_is_a_stopgap_until_the_machine_is_idle(tmp_path: Path) -> None:
    # With nothing stored, the busy figure is returned with a note and kept as a stopgap: the next
    # commands on the still busy machine reuse it instead of each paying the probe again.
    probe = _Probe((12.8, 0.2), (11.0, 0.2), (20.0, 0.03))
    first = _get(tmp_path, probe, refresh=False, at=10.0, load=3.0)
    assert first.gbps == 12.8 and "machine busy (load 3.0 per CPU): may read low" in first.detail
    again = _get(tmp_path, probe, refresh=False, at=600.0, load=2.0)
    assert again.gbps == 12.8 and "cached 10 min ago" in again.detail and probe.calls == 1
    # for an hour at most, then measured again (still busy: a new stopgap)
    later = _get(tmp_path, probe, refresh=False, at=10.0 + bandwidth.BUSY_CACHE_MAX_AGE_S + 1, load=2.0)
    assert later.gbps == 11.0 and probe.calls == 2
    # the first run on an idle machine measures a clean figure, which replaces the stopgap for good
    idle = _get(tmp_path, probe, refresh=False, at=4000.0, load=0.1)
    assert idle.gbps == 20.0 and probe.calls == 3
    assert _get(tmp_path, probe, refresh=False, at=5000.0, load=3.0).gbps == 20.0 and probe.calls == 3
    entries = json.loads((tmp_path / bandwidth.CACHE_FILE).read_text())["entries"]
    assert "busy_load" not in entries[bandwidth.cache_key("CPU", 16)]


# --- the caches the OS reports, and a real short probe -------------------------------------------


def _sysfs(root: Path, cpu: int, index: int, level: int, kind: str, size: str, shared: str) -> None:
    directory = root / f"cpu{cpu}" / "cache" / f"index{index}"
    directory.mkdir(parents=True)
    for name, value in (("level", str(level)), ("type", kind), ("size", size), ("shared_cpu_list", shared)):
        (directory / name).write_text(value + "\n", encoding="utf-8")


def test_sysfs_caches_give_the_last_level_cache(tmp_path: Path) -> None:
    for cpu in range(4):  # two L3 instances of 16 MiB, each shared by two CPUs
        _sysfs(tmp_path, cpu, 0, 1, "Data", "48K", str(cpu))
        _sysfs(tmp_path, cpu, 1, 1, "Instruction", "32K", str(cpu))
        _sysfs(tmp_path, cpu, 2, 2, "Unified", "1280K", str(cpu))
        _sysfs(tmp_path, cpu, 3, 3, "Unified", "16384K", "0-1" if cpu < 2 else "2-3")
    (tmp_path / "cpufreq").mkdir()  # other sysfs entries are ignored
    caches = bandwidth.read_sysfs_caches(tmp_path)
    assert len(caches) == 16
    assert last_level_cache_bytes(caches) == 32 * MIB
    assert bandwidth.read_sysfs_caches(tmp_path / "absent") == []


def test_real_short_probe_reports_median_spread_and_memory_sized_buffers() -> None:
    import numpy as np

    llc = bandwidth.last_level_cache()
    result = bandwidth.measure_bandwidth(threads=2, budget_s=0.8)
    assert result.source == "measured"
    assert 0.0 <= result.spread < 1.0
    assert "median of" in result.detail and "spread ±" in result.detail
    per_thread_mib = int(result.detail.split(" × ")[1].split(" MiB")[0])
    # Without a cache size from the OS the fallback size stands in for it.
    assert per_thread_mib * MIB * 2 >= 4 * (llc or FALLBACK_LLC_BYTES), (per_thread_mib, llc)
    # The figure is in GB/s of this machine: the same read timed here, on one thread, lands within a
    # factor of four of it (a unit slip would be 1000×), at whatever speed this machine runs now.
    array = np.ones(per_thread_mib * MIB // 8)
    reads, started = 0, time.perf_counter()
    while reads < 3 or time.perf_counter() - started < 0.3:
        array.max()
        reads += 1
    here = reads * array.nbytes / (time.perf_counter() - started) / 1e9
    assert here / 4 <= result.gbps <= here * 4, (result.gbps, here)


class _Clock:
    """The probe's clock (``bandwidth.time``): a pass takes ``slowdown`` × what it was given."""

    def __init__(self, setup_s: float, slowdown: float) -> None:
        self.now = 0.0
        self.setup_s = setup_s
        self.slowdown = slowdown

    def perf_counter(self) -> float:
        return self.now

    def last_level_cache(self) -> int:  # read during the setup, which costs setup_s
        self.now += self.setup_s
        return 32 * MIB

    def trial(self, _arrays: object, seconds: float) -> float:
        self.now += seconds * self.slowdown
        return 10.0


@pytest.mark.parametrize(
    ("setup_s", "slowdown", "passes", "elapsed_s"),
    [
        (0.2, 1.0, 5, 1.10),  # passes of (1.2 - 0.2) / 5 × 0.9 = 0.18 s: all five fit
        (0.2, 3.0, 2, 1.28),  # a busy machine: the third would start past the budget
        (2.0, 1.0, 1, 2.04),  # a setup longer than the budget: one short pass still gives a figure
    ],
)
def test_probe_starts_no_pass_past_its_budget(
    monkeypatch: pytest.MonkeyPatch, setup_s: float, slowdown: float, passes: int, elapsed_s: float
) -> None:
    # The budget's rule on a controlled clock: the same passes on a slow machine and a fast one.
    clock = _Clock(setup_s, slowdown)
    monkeypatch.setattr(bandwidth, "time", clock)
    monkeypatch.setattr(bandwidth, "last_level_cache", clock.last_level_cache)
    monkeypatch.setattr(bandwidth, "_trial", clock.trial)
    result = bandwidth.measure_bandwidth(threads=1, budget_s=1.2, buffer_bytes=MIB)
    assert result.gbps == 10.0
    assert f"median of {passes} passes" in result.detail
    assert clock.now == pytest.approx(elapsed_s)
    assert f", {elapsed_s:.2f} s" in result.detail
