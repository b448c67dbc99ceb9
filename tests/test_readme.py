"""README.md must start with the two commands a new user runs, and CI must run the same test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _quick_start() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.match(r"```(?:sh|bash)?\n(.*?)\n```", text, re.S)
    assert match, "README.md must open with a code block holding the two quick-start commands"
    return [line.strip() for line in match.group(1).splitlines() if line.strip()]


def test_readme_starts_with_install_and_test_commands() -> None:
    commands = _quick_start()
    assert len(commands) == 2
    install, test = commands
    assert "pip install" in install and "gpuless" in install
    assert test.startswith("bash ") and (ROOT / test.split()[-1]).is_file()  # a script of the repository


def test_ci_runs_the_readme_test_command() -> None:
    test_command = _quick_start()[1]
    ci_lines = [line.strip() for line in (ROOT / ".ci/run").read_text(encoding="utf-8").splitlines()]
    assert test_command in ci_lines
    assert "export GPULESS_REQUIRE_ENGINES=1" in ci_lines
    assert ci_lines.index("export GPULESS_REQUIRE_ENGINES=1") < ci_lines.index(test_command)
