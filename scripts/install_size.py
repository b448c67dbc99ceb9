"""Print how much disk a fresh ``pip install .`` of gpuless takes, and which distributions take it.

Issue 25 item 8: the install weighed 124 MB, more than half of it numpy, which only the ~1 s bandwidth probe
uses. This script installs the project into a temporary venv (uv, offline: from the local wheel cache, so it
measures the dependencies the lock already pulled) and sums the installed files of every distribution,
as their RECORD lists them. ``--without NAME`` also prints the total without that distribution (what
making it an optional extra would save). The venv is removed afterwards.

    python3 scripts/install_size.py [--without numpy] [--online]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Run inside the new venv: every distribution's installed bytes (its RECORD's files that exist).
_MEASURE = """
import json, os
from importlib import metadata
sizes = {}
for dist in metadata.distributions():
    total = 0
    for path in dist.files or ():
        located = dist.locate_file(path)
        try:
            total += os.stat(located).st_size
        except OSError:
            pass
    sizes[dist.metadata["Name"]] = total
print(json.dumps(sizes))
"""


def _uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def measure(online: bool) -> dict[str, int]:
    """Bytes per distribution of ``pip install .`` into a new venv (pip itself not counted)."""
    with tempfile.TemporaryDirectory(prefix="gpuless-size-") as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([*_uv(), "venv", "-q", "--python", sys.executable, str(venv)], check=True)
        python = venv / "bin" / "python"
        install = [*_uv(), "pip", "install", "-q", "--python", str(python), str(ROOT)]
        subprocess.run(install if online else [*install, "--offline"], check=True)
        out = subprocess.run([str(python), "-c", _MEASURE], check=True, capture_output=True, text=True)
    sizes: dict[str, int] = json.loads(out.stdout)
    sizes.pop("pip", None)
    return sizes


def _mb(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:6.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--without", action="append", default=[], metavar="NAME")
    parser.add_argument("--online", action="store_true", help="let uv download what the cache lacks")
    args = parser.parse_args()
    sizes = measure(args.online)
    total = sum(sizes.values())
    python = sys.version.split()[0]
    print(f"fresh `pip install .` ({len(sizes)} distributions, Python {python}): {_mb(total)}")
    for name, size in sorted(sizes.items(), key=lambda item: -item[1])[:12]:
        print(f"  {_mb(size)}  {size / total * 100:4.1f}%  {name}")
    for name in args.without:
        left = total - sizes.get(name, 0)
        print(f"without {name}: {_mb(left)} ({(total - left) / total * 100:.0f}% less)")


if __name__ == "__main__":
    main()
