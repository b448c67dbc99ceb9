"""Shared test configuration.

Tests marked ``docker``, ``engine`` or ``browser`` need the real Docker engine, the real llama.cpp engine
or Debian's chromium. On a developer machine without them they skip with a reason; CI sets
``GPULESS_REQUIRE_ENGINES=1`` and then any such skip is reported as a failure, so a green CI run means
they really ran. It also keeps each Docker module's tests in one of the lanes scripts/test.sh runs.
"""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from toolkit.adapters.resources import load_catalog
from toolkit.core.catalog.model import Catalog

REQUIRE_ENGINES = os.environ.get("GPULESS_REQUIRE_ENGINES") == "1"

# Fixtures for the Ollama-API test engine (tests/ollama_server/README.md).
pytest_plugins = ["tests.ollama_server.fixtures"]
#: The repository, where the ``ollama`` shim runs the test server from.
REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The shipped model catalog (catalog.toml), parsed once."""
    return load_catalog()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if not (REQUIRE_ENGINES and report.skipped):
        return
    marker = next(filter(None, map(item.get_closest_marker, ("browser", "docker", "engine"))), None)
    if marker is None:
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"{marker.name} test skipped but GPULESS_REQUIRE_ENGINES=1 makes it mandatory: {reason}"


# The suite runs in lanes (scripts/test.sh: pytest-xdist, three workers on two cores). A llama.cpp runner
# with two threads stalls at every barrier while another lane holds a core (a 4 s test took 79 s), so in
# lanes the test server's runners default to one thread (OLLAMA_TEST_NUM_THREAD, a test-only setting; a
# request's or model's num_thread still wins).
IN_LANES = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1
if IN_LANES:
    os.environ.setdefault("OLLAMA_TEST_NUM_THREAD", "1")


# tryfirst: xdist's own hook reads the groups into the node ids (``--dist loadgroup``), so they must be
# marked before it runs; marked after, they were ignored and a module's tests spread over the lanes.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A Docker test module runs in one lane, in file order: its module-scoped container (the tune tests')
    is started once rather than once per lane, and its tests that leave the configuration as they found it
    run before the one that changes it. A test already in a named group (tests shared across modules, such
    as the pool's) stays in it.

    In lanes, the tests on the real llama.cpp engine are handed out before the plain ones (a stable sort,
    so each module keeps its order): xdist gives out the groups first, then single tests in collection
    order, so the run ends on short plain tests that fill the lanes evenly rather than on long engine tests
    collected last (the wizard's)."""
    for item in items:
        if item.get_closest_marker("docker") and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
    if IN_LANES:
        items.sort(key=lambda item: item.get_closest_marker("engine") is None)


# A test marked ``quiet`` decides by comparing measurements of two configurations (a tune's winner). The
# other lane's llama.cpp runner comes and goes in bursts, and a burst that lands on one configuration's
# few seconds of measurement and not the other's reads as a 30-40% difference that is not there (seen:
# "lowers aggregate tok/s by 37%" for a candidate that measures +11% on a quiet machine). So in lanes a
# quiet test holds the lanes' lock exclusively and every other test holds it shared: the quiet test waits
# for the other lane's current test to end, then runs alone. A gate lock in front keeps a waiting quiet
# test from being starved by the other lane taking its shared hold again between two tests. (scripts/test.sh
# runs the quiet tests after the lanes instead, so no lane idles; the lock serves runs that mix them.)
@pytest.fixture(autouse=True)
def _lanes_lock(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    if not IN_LANES:
        yield
        return
    root = tmp_path_factory.getbasetemp().parent  # shared by the xdist workers of this run
    quiet = request.node.get_closest_marker("quiet") is not None
    with open(root / "lanes.gate", "a") as gate, open(root / "lanes.lock", "a") as lock:
        fcntl.flock(gate, fcntl.LOCK_EX)
        fcntl.flock(lock, fcntl.LOCK_EX if quiet else fcntl.LOCK_SH)
        if not quiet:
            fcntl.flock(gate, fcntl.LOCK_UN)
        yield


@pytest.fixture
def ollama_shim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ollama_registry: Path) -> Path:
    """An ``ollama`` executable on PATH that runs the test server (Ollama's HTTP API over real llama.cpp),
    for the tests of the native runtime: ``gpuless up --runtime native`` starts it as it would start the
    real one. Models are stored under tmp_path."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "ollama"
    shim.write_text(f'#!/bin/sh\ncd "{REPO_ROOT}" && exec "{sys.executable}" -m tests.ollama_server "$@"\n')
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("OLLAMA_TEST_REGISTRY", str(ollama_registry))
    return shim
