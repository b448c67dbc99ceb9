"""Fixtures of the engine tests.

``ollama_shim``: an ``ollama`` program on PATH that runs the test server (tests/ollama_server: Ollama's
HTTP API over real llama.cpp), for the tests of the native runtime: ``gpuless up --runtime native``
starts it as it would start the real one. Models are stored under the test's tmp_path.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ollama_shim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ollama_registry: Path) -> Path:
    """An ``ollama`` executable on PATH that runs the test server; models stored under tmp_path."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "ollama"
    shim.write_text(f'#!/bin/sh\ncd "{REPO_ROOT}" && exec "{sys.executable}" -m tests.ollama_server "$@"\n')
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("OLLAMA_TEST_REGISTRY", str(ollama_registry))
    return shim
