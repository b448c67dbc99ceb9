"""Write the test image's base root filesystem as a tar, from this host's own Debian 12 packages.

scripts/prepare-test-machine.sh needs a bookworm rootfs with python3 and libgomp1 and no registry. mmdebstrap
downloads and unpacks about a hundred packages for it (about 50 s); on a host that runs Debian 12 itself,
the same packages are already installed, so their files (as `dpkg -L` lists them, without docs and man
pages) are packed straight from the disk in a second or two. Exit code 3 (and a reason on stderr) when the
host is not Debian 12 or lacks a package: the caller then uses mmdebstrap.

Usage: python3 scripts/host_rootfs.py OUT.tar
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

#: What the image runs: the test server (python3), llama.cpp (libgomp1, libstdc++6) and `sh -c` (dash).
ROOTS = ("python3", "libgomp1", "libstdc++6", "dash", "coreutils", "libc-bin", "base-files")
#: Files of no use in a container.
SKIP = re.compile(r"^/usr/share/(doc|man|info|locale|lintian)(/|$)")
#: Files made at install time rather than shipped (dpkg does not list them), which the image still wants.
GENERATED = ("/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/ld.so.cache")
#: Debian 12 merges /bin, /lib, /lib64 and /sbin into /usr: those four are symlinks there.
MERGED = ("bin", "lib", "lib64", "sbin")
NOT_USABLE = 3


class NotUsable(Exception):
    """This host cannot provide the rootfs; the message says why."""


def _query(args: list[str]) -> str:
    done = subprocess.run(["dpkg-query", *args], capture_output=True, text=True, check=False)
    return done.stdout


def _installed_depends() -> dict[str, str]:
    """Every installed package's Depends and Pre-Depends, from one dpkg-query."""
    table: dict[str, str] = {}
    for line in _query(["-W", "-f", "${Package}\t${Status}\t${Depends}, ${Pre-Depends}\n"]).splitlines():
        name, status, depends = line.split("\t", 2)
        if status == "install ok installed":
            table[name] = depends
    return table


def closure(roots: tuple[str, ...]) -> list[str]:
    """The installed packages ``roots`` need (Depends and Pre-Depends, the first installed alternative)."""
    installed = _installed_depends()
    todo, seen = list(roots), set[str]()
    while todo:
        package = todo.pop()
        if package in seen:
            continue
        if package not in installed:
            raise NotUsable(f"package {package} is not installed here")
        seen.add(package)
        for group in filter(None, (part.strip() for part in installed[package].split(","))):
            names = [re.sub(r"\s*\(.*?\)", "", alt).strip().split(":")[0] for alt in group.split("|")]
            chosen = next((name for name in names if name in installed), None)
            if chosen is not None:  # a virtual package (awk) with no installed provider of that name
                todo.append(chosen)
    return sorted(seen)


def files_of(packages: list[str]) -> list[str]:
    """The packages' directories, files and symlinks, on the paths they really have (through the merged
    /usr). Directories come with their modes: /tmp must be world-writable in the image too."""
    listed = _query(["-L", *packages]).splitlines() + list(GENERATED)
    paths: set[str] = set()
    for path in listed:
        if not path.startswith("/") or SKIP.match(path) or path.lstrip("/") in MERGED:
            continue  # the merged directories' symlinks are packed once, first
        real = os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))
        if os.path.islink(real) or os.path.isfile(real) or os.path.isdir(real):
            paths.add(real)
    return sorted(paths | _bytecode(paths))


def _bytecode(paths: set[str]) -> set[str]:
    """The compiled modules Debian made at install time (py3compile; dpkg does not list them) of the
    Python files among ``paths``, with their ``__pycache__`` directories. Without them the image's Python
    compiles every standard module it imports, each time it starts (the healthcheck's `ollama list`,
    every 5 s in each container)."""
    found: set[str] = set()
    for path in paths:
        if path.endswith(".py") and os.path.isfile(path):
            cache = os.path.join(os.path.dirname(path), "__pycache__")
            stem = os.path.basename(path)[:-3]
            compiled = [os.path.join(cache, name) for name in _listing(cache) if name.startswith(f"{stem}.")]
            if compiled:
                found.update((cache, *compiled))
    return found


_listings: dict[str, list[str]] = {}


def _listing(directory: str) -> list[str]:
    if directory not in _listings:
        _listings[directory] = sorted(os.listdir(directory)) if os.path.isdir(directory) else []
    return _listings[directory]


def write(out: Path) -> int:
    """Pack the rootfs into ``out``; returns how many files it holds."""
    release = Path("/etc/debian_version")
    if not release.is_file() or not release.read_text().startswith("12"):
        raise NotUsable("the host is not Debian 12 (bookworm)")
    if not all(os.path.islink(f"/{name}") for name in MERGED):
        raise NotUsable("the host's /bin, /lib, /lib64 and /sbin are not merged into /usr")
    paths = files_of(closure(ROOTS))
    with tarfile.open(out, "w") as tar:
        for name in MERGED:
            tar.add(f"/{name}", arcname=name, recursive=False)
        for path in paths:
            tar.add(path, arcname=path.lstrip("/"), recursive=False)
    return len(paths)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    try:
        count = write(Path(argv[0]))
    except NotUsable as reason:
        print(f"host_rootfs: {reason}", file=sys.stderr)
        return NOT_USABLE
    print(f"{count} files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
