"""Shared test configuration.

Tests marked ``docker`` or ``engine`` need the real Docker engine or the real llama.cpp engine. On a
developer machine without them they skip with a reason; CI sets ``GPULESS_REQUIRE_ENGINES=1`` and then
any such skip is reported as a failure, so a green CI run means they really ran.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

REQUIRE_ENGINES = os.environ.get("GPULESS_REQUIRE_ENGINES") == "1"

# Fixtures for the Ollama-API test engine (tests/ollama_server/README.md).
pytest_plugins = ["tests.ollama_server.fixtures"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if not (REQUIRE_ENGINES and report.skipped):
        return
    marker = item.get_closest_marker("docker") or item.get_closest_marker("engine")
    if marker is None:
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"{marker.name} test skipped but GPULESS_REQUIRE_ENGINES=1 makes it mandatory: {reason}"
