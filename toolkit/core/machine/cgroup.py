"""Find and read this process's cgroup memory and CPU limits (cgroup v1 and v2), from file text.

When gpuless runs inside a container, host RAM and core counts overstate what it may use: the container's
cgroup caps them. The kernel exposes that in two layouts. v2 has one tree with ``memory.max`` and
``cpu.max``. v1 has one tree per controller, with ``memory.limit_in_bytes``, ``cpu.cfs_quota_us`` and
``cpu.cfs_period_us``. ``/proc/self/cgroup`` and ``/proc/self/mountinfo`` say which layout is in use and
where this process's directory is. Everything here works on text, so the engine probe only reads the files
that ``locate_cgroup`` names.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from toolkit.core.machine.hardware import CgroupLimits

#: v1 reports "no limit" as the largest page-aligned signed 64-bit value (9223372036854771712 with 4 KiB
#: pages, 9223372036854710272 with 64 KiB pages). Anything this large is no limit at all.
V1_UNLIMITED_THRESHOLD = 1 << 62

V2_MEMORY_FILE = "memory.max"
V2_CPU_FILE = "cpu.max"
V1_MEMORY_FILE = "memory.limit_in_bytes"
V1_CPU_QUOTA_FILE = "cpu.cfs_quota_us"
V1_CPU_PERIOD_FILE = "cpu.cfs_period_us"


@dataclass(frozen=True)
class CgroupMount:
    """One cgroup filesystem from /proc/self/mountinfo.

    Attributes:
        mount_point: where it is mounted, e.g. "/sys/fs/cgroup/memory".
        root: the cgroup path that the mount point shows (not "/" inside a container without cgroupns).
        version: 1 for ``cgroup``, 2 for ``cgroup2``.
        controllers: v1 controllers of this hierarchy (e.g. {"cpu", "cpuacct"}); empty for v2.
    """

    mount_point: str
    root: str
    version: int
    controllers: frozenset[str]


@dataclass(frozen=True)
class CgroupPaths:
    """Where to read the limits, each list from this process's own cgroup up to the mount's top.

    A limit may be set on a parent (e.g. a systemd slice) rather than on the leaf, so the effective limit is
    the smallest over the whole list.

    Attributes:
        version: 1 or 2, None when no cgroup filesystem was found.
        memory_dirs: directories holding the memory files, leaf first.
        cpu_dirs: directories holding the CPU quota files, leaf first.
    """

    version: int | None
    memory_dirs: tuple[str, ...] = ()
    cpu_dirs: tuple[str, ...] = ()


def _unescape(path: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as octal (\040 …).
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), path)


def parse_mountinfo(text: str) -> list[CgroupMount]:
    """The cgroup (v1) and cgroup2 mounts listed in ``/proc/self/mountinfo``."""
    mounts: list[CgroupMount] = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields = left.split()
        tail = right.split()
        if len(fields) < 5 or len(tail) < 1:
            continue
        fstype = tail[0]
        if fstype not in ("cgroup", "cgroup2"):
            continue
        super_options = tail[2].split(",") if len(tail) > 2 else []
        version = 2 if fstype == "cgroup2" else 1
        controllers = frozenset(
            opt for opt in super_options if version == 1 and opt not in ("rw", "ro") and "=" not in opt
        )
        mounts.append(CgroupMount(_unescape(fields[4]), _unescape(fields[3]), version, controllers))
    return mounts


def parse_proc_self_cgroup(text: str) -> dict[str, str]:
    """Map each v1 controller to this process's cgroup path; the v2 (unified) entry is under ``""``.

    Lines look like ``4:memory:/docker/abc``, ``1:cpu,cpuacct:/`` or ``0::/user.slice``.
    """
    paths: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.strip().split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if not controllers:
            paths[""] = path
            continue
        for name in controllers.split(","):
            paths[name] = path
    return paths


def _dirs_up(mount: CgroupMount, cgroup_path: str) -> tuple[str, ...]:
    root = mount.root.rstrip("/") or "/"
    if root == "/":
        relative = cgroup_path
    elif cgroup_path == root or cgroup_path.startswith(root + "/"):
        relative = cgroup_path[len(root) :]
    else:
        # The path is outside what this mount shows (a container without cgroupns whose /proc/self/cgroup
        # still names the host path): the mount point itself is this process's cgroup.
        relative = ""
    leaf = posixpath.normpath(posixpath.join(mount.mount_point, relative.lstrip("/")))
    top = posixpath.normpath(mount.mount_point)
    if not (leaf == top or leaf.startswith(top.rstrip("/") + "/")):
        leaf = top
    dirs = [leaf]
    while dirs[-1] != top:
        dirs.append(posixpath.dirname(dirs[-1]))
    return tuple(dirs)


def locate_cgroup(self_cgroup_text: str, mountinfo_text: str) -> CgroupPaths:
    """Which directories hold this process's memory and CPU limits.

    A v1 hierarchy for a controller wins over the unified tree (on "hybrid" hosts the v2 tree at
    /sys/fs/cgroup/unified carries no controllers); without any v1 memory or cpu hierarchy, v2 is used.
    """
    mounts = parse_mountinfo(mountinfo_text)
    paths = parse_proc_self_cgroup(self_cgroup_text)

    def v1_dirs(controller: str) -> tuple[str, ...]:
        for mount in mounts:
            if mount.version == 1 and controller in mount.controllers and controller in paths:
                return _dirs_up(mount, paths[controller])
        return ()

    memory_v1 = v1_dirs("memory")
    cpu_v1 = v1_dirs("cpu")
    if memory_v1 or cpu_v1:
        return CgroupPaths(version=1, memory_dirs=memory_v1, cpu_dirs=cpu_v1)
    unified = next((m for m in mounts if m.version == 2), None)
    if unified is not None and "" in paths:
        dirs = _dirs_up(unified, paths[""])
        return CgroupPaths(version=2, memory_dirs=dirs, cpu_dirs=dirs)
    return CgroupPaths(version=None)


def parse_v2_memory_max(text: str) -> int | None:
    """``memory.max``: a byte count, or ``max`` for no limit."""
    value = text.strip()
    if not value or value == "max":
        return None
    return int(value)


def parse_v2_cpu_max(text: str) -> float | None:
    """``cpu.max``: ``"<quota> <period>"`` in µs, quota ``max`` for no limit → cores allowed."""
    parts = text.split()
    if not parts or parts[0] == "max":
        return None
    quota = int(parts[0])
    period = int(parts[1]) if len(parts) > 1 else 100_000
    return quota / period if quota > 0 and period > 0 else None


def parse_v1_memory_limit(text: str) -> int | None:
    """``memory.limit_in_bytes``: bytes, or a huge sentinel meaning no limit."""
    value = int(text.strip())
    return None if value >= V1_UNLIMITED_THRESHOLD or value <= 0 else value


def parse_v1_cpu_quota(quota_text: str, period_text: str) -> float | None:
    """``cpu.cfs_quota_us`` ÷ ``cpu.cfs_period_us`` → cores allowed; quota -1 means no limit."""
    quota = int(quota_text.strip())
    period = int(period_text.strip())
    return quota / period if quota > 0 and period > 0 else None


def _smallest(values: Sequence[float | int | None]) -> float | int | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def cgroup_limits(
    version: int | None,
    memory_files: Sequence[Mapping[str, str]] = (),
    cpu_files: Sequence[Mapping[str, str]] = (),
) -> CgroupLimits:
    """The effective limits, from the files read in each directory of ``CgroupPaths`` (file name → text).

    A directory whose files are missing or unreadable simply contributes nothing; malformed numbers too.
    """
    if version is None:
        return CgroupLimits()
    memory: list[int | None] = []
    cpu: list[float | None] = []
    for files in memory_files:
        try:
            if version == 2 and V2_MEMORY_FILE in files:
                memory.append(parse_v2_memory_max(files[V2_MEMORY_FILE]))
            elif version == 1 and V1_MEMORY_FILE in files:
                memory.append(parse_v1_memory_limit(files[V1_MEMORY_FILE]))
        except ValueError:
            continue
    for files in cpu_files:
        try:
            if version == 2 and V2_CPU_FILE in files:
                cpu.append(parse_v2_cpu_max(files[V2_CPU_FILE]))
            elif version == 1 and V1_CPU_QUOTA_FILE in files and V1_CPU_PERIOD_FILE in files:
                cpu.append(parse_v1_cpu_quota(files[V1_CPU_QUOTA_FILE], files[V1_CPU_PERIOD_FILE]))
        except ValueError:
            continue
    mem_limit = _smallest(memory)
    cpu_limit = _smallest(cpu)
    return CgroupLimits(
        version=version,
        memory_limit_bytes=int(mem_limit) if mem_limit is not None else None,
        cpu_limit=float(cpu_limit) if cpu_limit is not None else None,
    )


def files_wanted(version: int | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The file names to read in each memory directory and each CPU directory for ``version``."""
    if version == 2:
        return (V2_MEMORY_FILE,), (V2_CPU_FILE,)
    if version == 1:
        return (V1_MEMORY_FILE,), (V1_CPU_QUOTA_FILE, V1_CPU_PERIOD_FILE)
    return (), ()
