"""cgroup v1 and v2 limits from fixture trees laid out like /proc and /sys/fs/cgroup."""

from __future__ import annotations

import pytest

from tests import paths
from toolkit.core.machine.cgroup import (
    CgroupPaths,
    cgroup_limits,
    files_wanted,
    locate_cgroup,
    parse_mountinfo,
    parse_proc_self_cgroup,
    parse_v1_cpu_quota,
    parse_v1_memory_limit,
    parse_v2_cpu_max,
    parse_v2_memory_max,
)
from toolkit.core.machine.hardware import CgroupLimits

FIXTURES = paths.FIXTURES / "detect" / "cgroup"
CID = "3f9a1c2b7d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8"


def _locate(name: str) -> CgroupPaths:
    root = FIXTURES / name
    return locate_cgroup(
        (root / "proc/self/cgroup").read_text(encoding="utf-8"),
        (root / "proc/self/mountinfo").read_text(encoding="utf-8"),
    )


def _limits_from_tree(name: str) -> CgroupLimits:
    """What the engine probe does, done here by hand with the pure functions."""
    root = FIXTURES / name
    where = _locate(name)
    memory_names, cpu_names = files_wanted(where.version)

    def read(directory: str, names: tuple[str, ...]) -> dict[str, str]:
        out = {}
        for file_name in names:
            path = root / directory.lstrip("/") / file_name
            if path.exists():
                out[file_name] = path.read_text(encoding="utf-8")
        return out

    return cgroup_limits(
        where.version,
        [read(d, memory_names) for d in where.memory_dirs],
        [read(d, cpu_names) for d in where.cpu_dirs],
    )


# --- locating -----------------------------------------------------------------------------------


def test_v2_container_with_cgroupns_is_the_mount_point() -> None:
    assert _locate("v2_container_limited") == CgroupPaths(2, ("/sys/fs/cgroup",), ("/sys/fs/cgroup",))


def test_v2_host_walks_up_to_the_mount() -> None:
    where = _locate("v2_host_slice_limited")
    assert where.memory_dirs == (
        "/sys/fs/cgroup/gpuless.slice/gpuless-run.scope",
        "/sys/fs/cgroup/gpuless.slice",
        "/sys/fs/cgroup",
    )


def test_v1_container_without_cgroupns_maps_host_path_to_mount_point() -> None:
    where = _locate("v1_container_limited")
    assert where == CgroupPaths(1, ("/sys/fs/cgroup/memory",), ("/sys/fs/cgroup/cpu,cpuacct",))


def test_hybrid_host_uses_v1_controllers_not_the_empty_unified_tree() -> None:
    where = _locate("v1_this_machine")
    assert where.version == 1
    assert where.memory_dirs[-1] == "/sys/fs/cgroup/memory"
    assert where.memory_dirs[0].startswith("/sys/fs/cgroup/memory/process_api/")
    assert where.cpu_dirs == ("/sys/fs/cgroup/cpu",)


def test_no_cgroup_filesystem() -> None:
    assert _locate("none") == CgroupPaths(None)
    assert _limits_from_tree("none") == CgroupLimits()


def test_parse_mountinfo_reads_controllers_and_escapes() -> None:
    text = (
        "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
        "40 31 0:37 / /sys/fs/cgroup/sys\\040temd rw,relatime - cgroup cgroup rw,name=systemd\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
        "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
    )
    mounts = parse_mountinfo(text)
    assert [(m.mount_point, m.version, sorted(m.controllers)) for m in mounts] == [
        ("/sys/fs/cgroup/memory", 1, ["memory"]),
        ("/sys/fs/cgroup/sys temd", 1, []),
        ("/sys/fs/cgroup/unified", 2, []),
    ]


def test_parse_proc_self_cgroup_splits_joint_controllers() -> None:
    paths = parse_proc_self_cgroup(f"3:cpu,cpuacct:/docker/{CID}\n0::/system.slice/containerd.service\n")
    assert paths == {
        "cpu": f"/docker/{CID}",
        "cpuacct": f"/docker/{CID}",
        "": "/system.slice/containerd.service",
    }


# --- limits -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tree", "expected"),
    [
        ("v2_container_limited", CgroupLimits(version=2, memory_limit_bytes=4 * 1024**3, cpu_limit=2.0)),
        ("v2_container_unlimited", CgroupLimits(version=2, memory_limit_bytes=None, cpu_limit=None)),
        ("v2_host_slice_limited", CgroupLimits(version=2, memory_limit_bytes=8 * 1024**3, cpu_limit=1.5)),
        ("v2_host_unlimited", CgroupLimits(version=2, memory_limit_bytes=None, cpu_limit=None)),
        ("v1_container_limited", CgroupLimits(version=1, memory_limit_bytes=2 * 1024**3, cpu_limit=1.5)),
        ("v1_container_unlimited", CgroupLimits(version=1, memory_limit_bytes=None, cpu_limit=None)),
        ("v1_this_machine", CgroupLimits(version=1, memory_limit_bytes=None, cpu_limit=None)),
    ],
)
def test_limits_from_fixture_trees(tree: str, expected: CgroupLimits) -> None:
    assert _limits_from_tree(tree) == expected


def test_smallest_limit_along_the_path_wins() -> None:
    limits = cgroup_limits(
        2, [{"memory.max": "max"}, {"memory.max": "1073741824"}, {"memory.max": "2147483648"}]
    )
    assert limits.memory_limit_bytes == 1024**3


def test_malformed_file_contributes_nothing() -> None:
    limits = cgroup_limits(1, [{"memory.limit_in_bytes": "garbage"}], [{"cpu.cfs_quota_us": "50000"}])
    assert limits == CgroupLimits(version=1, memory_limit_bytes=None, cpu_limit=None)


def test_v2_values() -> None:
    assert parse_v2_memory_max("max\n") is None
    assert parse_v2_memory_max("536870912\n") == 512 * 1024**2
    assert parse_v2_cpu_max("max 100000\n") is None
    assert parse_v2_cpu_max("200000 100000\n") == 2.0
    assert parse_v2_cpu_max("50000 100000") == 0.5


def test_v1_values() -> None:
    assert parse_v1_memory_limit("9223372036854771712\n") is None  # 4 KiB pages
    assert parse_v1_memory_limit("9223372036854710272\n") is None  # 64 KiB pages (arm64)
    assert parse_v1_memory_limit("2147483648\n") == 2 * 1024**3
    assert parse_v1_cpu_quota("-1\n", "100000\n") is None
    assert parse_v1_cpu_quota("250000\n", "100000\n") == 2.5
