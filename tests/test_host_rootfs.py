"""scripts/host_rootfs.py packs the test image's base from this host's own Debian 12 packages: a rootfs
docker can import (no path twice, /bin and friends as the merged-/usr symlinks), with python3, the libraries
llama.cpp needs, `sh`, and a world-writable /tmp."""

from __future__ import annotations

import importlib.util
import stat
import tarfile
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "host_rootfs.py"


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("host_rootfs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_packed_rootfs_holds_what_the_image_runs(tmp_path: Path) -> None:
    host_rootfs = _module()
    out = tmp_path / "base.tar"
    try:
        count = host_rootfs.write(out)
    except host_rootfs.NotUsable as reason:  # such a host builds the base with mmdebstrap instead
        pytest.skip(f"not a Debian 12 host: {reason}")
    with tarfile.open(out) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert len(names) == len(set(names)) == count + 4  # docker import refuses a path given twice
    by_name = {m.name: m for m in members}
    for merged in ("bin", "lib", "lib64", "sbin"):
        assert by_name[merged].issym() and by_name[merged].linkname == f"usr/{merged}"
    assert not any(name.startswith(("bin/", "lib/", "sbin/")) for name in names)
    assert by_name["tmp"].isdir() and stat.S_IMODE(by_name["tmp"].mode) == 0o1777
    for needed in ("usr/bin/python3.11", "usr/bin/dash", "usr/lib/python3.11/json/__init__.py", "etc/passwd"):
        assert needed in by_name, needed
    libs = [name for name in names if name.startswith("usr/lib/x86_64-linux-gnu/")]
    if libs:  # x86_64; an Arm host has the same under aarch64-linux-gnu
        assert any("libgomp.so.1" in name for name in libs) and any("libstdc++.so.6" in name for name in libs)
    assert not any(name.startswith("usr/share/doc/") for name in names)
