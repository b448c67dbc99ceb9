"""Where the tests' files are, so a test module reads them the same way from any folder depth."""

from __future__ import annotations

from pathlib import Path

#: The tests/ folder.
TESTS = Path(__file__).resolve().parent
#: The repository's root.
ROOT = TESTS.parent
#: Captured inputs (detection files, Docker and Ollama answers, hardware profiles).
FIXTURES = TESTS / "fixtures"
#: Published figures the estimator is checked against.
DATA = TESTS / "data"
