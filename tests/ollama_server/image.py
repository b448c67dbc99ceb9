"""Build context and content hash for the test image (used by scripts/prepare-test-machine.sh).

`python -m tests.ollama_server.image hash` prints a hash of everything that goes into the image (server
source, Dockerfile, launcher, xllamacpp version, model digests), stored as the image label
`gpuless.test.source-hash` so a changed source triggers a rebuild. `... context DIR` fills DIR with the
files the Dockerfile copies, their Python compiled: the image does not write bytecode, so without it every
`ollama` the healthcheck runs (every 5 s in each test container) compiled the server's modules again, a
third of a second of CPU each time.
"""

from __future__ import annotations

import compileall
import hashlib
import importlib.metadata
import py_compile
import shutil
import subprocess
import sys
from pathlib import Path

from .registry import pypi_sources, write_registry

HERE = Path(__file__).resolve().parent
HASH_LABEL = "gpuless.test.source-hash"


def _sources() -> list[Path]:
    files = [
        p for p in HERE.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    ]
    return sorted(p for p in files if p.name not in ("README.md", "fixtures.py"))


def source_hash() -> str:
    digest = hashlib.sha256()
    for path in _sources():
        digest.update(str(path.relative_to(HERE)).encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(importlib.metadata.version("xllamacpp").encode())
    for name, path in sorted(pypi_sources().items()):
        digest.update(f"{name}:{path.stat().st_size}".encode())
    return digest.hexdigest()[:24]


def build_context(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(HERE / "docker" / "Dockerfile", target / "Dockerfile")
    shutil.copy2(HERE / "docker" / "ollama", target / "ollama")
    pkg = target / "ollama_server"
    if pkg.exists():
        shutil.rmtree(pkg)
    shutil.copytree(HERE, pkg, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "docker", "fixtures.py"))
    site = target / "site-packages"
    if not (site / "xllamacpp").is_dir():
        version = importlib.metadata.version("xllamacpp")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--quiet",  # twice: no warnings about this machine's empty local index directories
                "--disable-pip-version-check",
                "--no-deps",
                "--target",
                str(site),
                f"xllamacpp=={version}",
            ],
            check=True,
        )
    # unchecked-hash: valid whatever the copied files' times (this host's Python 3.11 and the image's
    # read the same bytecode)
    for tree in (pkg, site):
        compileall.compile_dir(tree, quiet=2, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    write_registry(target / "registry", pypi_sources(), copy=True)


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "hash":
        print(source_hash())
    elif len(sys.argv) == 3 and sys.argv[1] == "context":
        build_context(Path(sys.argv[2]))
    else:
        sys.exit("usage: python -m tests.ollama_server.image hash | context DIR")
