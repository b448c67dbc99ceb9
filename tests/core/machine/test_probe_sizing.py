"""The bandwidth probe's buffer sizing and the figure's stability rule (toolkit.core.machine.probe_sizing)."""

from __future__ import annotations

import pytest

from toolkit.core.machine.probe_sizing import (
    FALLBACK_LLC_BYTES,
    LLC_MULTIPLE,
    MIB,
    MIN_BUFFER_BYTES,
    MIN_STABLE_SPREAD,
    CacheInfo,
    keeps_previous,
    last_level_cache_bytes,
    median,
    parse_cache_size,
    probe_buffer_bytes,
    relative_spread,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("32768K", 32 * MIB),
        ("8M", 8 * MIB),
        ("512", 512),
        ("1G", 1024 * MIB),
        (" 48K\n", 48 * 1024),
        ("", None),
        ("K", None),
        ("0K", None),
        ("12 cores", None),
    ],
)
def test_parse_cache_size(text: str, expected: int | None) -> None:
    assert parse_cache_size(text) == expected


def _laptop() -> list[CacheInfo]:
    """An 8-core laptop: private L1/L2 per core, one shared 16 MiB L3 listed by every core."""
    caches = []
    for cpu in range(8):
        caches += [
            CacheInfo(1, "Data", 48 * 1024, str(cpu)),
            CacheInfo(1, "Instruction", 32 * 1024, str(cpu)),
            CacheInfo(2, "Unified", 1280 * 1024, str(cpu)),
            CacheInfo(3, "Unified", 16 * MIB, "0-7"),
        ]
    return caches


def test_last_level_cache_counts_a_shared_l3_once() -> None:
    assert last_level_cache_bytes(_laptop()) == 16 * MIB


def test_last_level_cache_sums_distinct_instances() -> None:
    """Two CCDs (or sockets), each with its own 32 MiB L3: the probe's threads can fill both."""
    caches = [CacheInfo(3, "Unified", 32 * MIB, "0-7") for _ in range(8)]
    caches += [CacheInfo(3, "Unified", 32 * MIB, "8-15") for _ in range(8)]
    caches += [CacheInfo(2, "Unified", MIB, str(cpu)) for cpu in range(16)]
    assert last_level_cache_bytes(caches) == 64 * MIB


def test_last_level_cache_without_l3_uses_l2_and_ignores_instruction_caches() -> None:
    """A Raspberry Pi 5 style chip (shared L2, no L3 in sysfs) and an instruction cache listed higher."""
    caches = [CacheInfo(2, "Unified", 2 * MIB, "0-3"), CacheInfo(4, "Instruction", 64 * MIB, "0-3")]
    assert last_level_cache_bytes(caches) == 2 * MIB
    assert last_level_cache_bytes([]) is None
    assert last_level_cache_bytes([CacheInfo(1, "Instruction", 32 * 1024, "0")]) is None


@pytest.mark.parametrize(
    ("llc", "threads", "expected_per_thread"),
    [
        (32 * MIB, 2, 64 * MIB),  # this test machine: 4 × 32 MiB over 2 threads
        (256 * MIB, 8, 128 * MIB),  # a server's large L3
        (96 * MIB, 6, 64 * MIB),  # 384 MiB / 6 = 64 MiB
        (100 * MIB, 3, 134 * MIB),  # 400 MiB / 3 = 133.3, rounded up to whole MiB
        (8 * MIB, 4, MIN_BUFFER_BYTES),  # small cache: the per-thread floor
        (None, 1, LLC_MULTIPLE * FALLBACK_LLC_BYTES),  # nothing reported: the safe fallback
    ],
)
def test_buffers_are_at_least_four_times_the_last_level_cache(
    llc: int | None, threads: int, expected_per_thread: int
) -> None:
    per_thread = probe_buffer_bytes(llc, threads)
    assert per_thread == expected_per_thread
    assert per_thread * threads >= LLC_MULTIPLE * (llc or FALLBACK_LLC_BYTES)
    assert per_thread % MIB == 0


def test_buffers_are_capped_by_available_memory() -> None:
    """A huge cache on a machine with 1 GiB free: at most a quarter of it, never swap."""
    per_thread = probe_buffer_bytes(512 * MIB, 4, available_bytes=1024 * MIB)
    assert per_thread * 4 <= 256 * MIB
    assert probe_buffer_bytes(1024 * MIB, 1) <= 2048 * MIB  # the absolute cap


def test_median_and_spread() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 2.0, 3.0]) == 2.5
    assert relative_spread([19.0, 20.0, 21.0, 20.0, 20.0]) == pytest.approx(0.05)
    assert relative_spread([10.0]) == 0.0
    with pytest.raises(ValueError):
        median([])


def test_a_new_figure_within_the_spread_keeps_the_old_one() -> None:
    assert keeps_previous(20.0, 0.08, 21.5, 0.03)  # 7.5% apart, old spread ±8%
    assert keeps_previous(20.0, 0.01, 21.5, 0.09)  # the larger spread of the two counts
    assert not keeps_previous(20.0, 0.03, 23.0, 0.03)  # 15% apart: the machine changed
    assert not keeps_previous(20.0, 0.08, 12.8, 0.04)  # a busy reading far below
    # a lucky tight spread does not let ordinary noise replace the figure
    assert keeps_previous(20.0, 0.0, 20.0 * (1 + MIN_STABLE_SPREAD * 0.9), 0.0)
    assert not keeps_previous(0.0, 0.1, 20.0, 0.1)
