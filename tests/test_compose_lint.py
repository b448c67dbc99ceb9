"""The shipped compose files pass a security linter (compose-lint, from PyPI).

On engines with a bridge network (every shipped example: published 127.0.0.1 ports) no finding may be
HIGH or CRITICAL, and each MEDIUM finding that remains is named in a comment of the file with the
reason it stays. Host networking (engines without a bridge) is a finding by nature; its comment says
why it is used.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

GOLDEN = sorted((Path(__file__).resolve().parents[1] / "compose").glob("*.yaml"))


def _lint(path: Path) -> list[dict[str, object]]:
    binary = shutil.which("compose-lint")
    if binary is None:
        pytest.fail("compose-lint is not installed (it is in the test extra: pip install -e '.[test]')")
    done = subprocess.run(
        [binary, "check", "--format", "json", "--no-env", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    report = json.loads(done.stdout)
    assert not report["errors"], report["errors"]
    findings: list[dict[str, object]] = report["findings"]
    return findings


@pytest.mark.parametrize("path", GOLDEN, ids=[p.name for p in GOLDEN])
def test_golden_file_has_no_high_finding_and_names_each_medium_one(path: Path) -> None:
    findings = _lint(path)
    assert not [f for f in findings if f["severity"] in ("high", "critical")], findings
    comments = " ".join(line for line in path.read_text().splitlines() if line.strip().startswith("#"))
    for finding in findings:
        if finding["severity"] == "medium":
            assert str(finding["rule_id"]) in comments, finding
