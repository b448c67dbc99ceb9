"""The test registry's cache under ~/.cache is built by every test lane at once on a fresh machine.

CI on a new machine failed 81 tests at setup: one lane read ``index.json`` while another was writing it
(an empty file), and three lanes assembling Gemma's GGUF into one path found each other's half-written
file. The cache is now built under a lock and each file lands by rename; this test builds it from four
processes at once into an empty cache and checks every one sees the whole registry.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.engine

BUILD = (
    "from tests.ollama_server.registry import Registry, default_registry_dir;"
    "print(','.join(sorted(Registry(default_registry_dir()).entries)))"
)


def test_four_lanes_building_a_fresh_cache_at_once_all_see_the_whole_registry(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    root = Path(__file__).resolve().parents[2]
    builds = [
        subprocess.Popen(
            [sys.executable, "-c", BUILD],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [b.communicate(timeout=240) for b in builds]
    assert [b.returncode for b in builds] == [0, 0, 0, 0], [err[-400:] for _, err in results]
    assert {out.strip() for out, _ in results} == {"gemma3:270m,smollm2-think:135m,smollm2:135m"}
    left = sorted(p.name for p in (tmp_path / "gpuless-test-ollama").rglob("*") if p.is_file())
    assert left == [".lock", "gemma-3-270m-q4_k_m.gguf", "index.json"]
