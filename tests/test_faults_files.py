"""Issue 20 item 10: damaged input costs neither memory nor a crash, and nothing of the user's is lost.

Each row writes one damaged file, runs the real command (a subprocess) and checks the exit code, one
clear ``gpuless:`` line (or, for recommend, one sentence), no traceback, bounded time, and the file left
byte for byte as it was.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests import cli_run

#: Nine levels of nine aliases: 9**9 (387 million) strings once expanded, in an unused x- block.
_LEVELS = zip("abcdefgh", "bcdefghi", strict=True)
BOMB = (
    "x-bomb:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(f"  {c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in _LEVELS)
    + "services:\n  ollama:\n    image: ollama/ollama\n"
)
SELF_ALIAS = "x-loop: &loop [*loop]\nservices:\n  ollama:\n    image: ollama/ollama\n"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "GPULESS_OLLAMA_URL"}
    return {**env, "GPULESS_DATA_DIR": str(tmp_path / "data"), "GPULESS_CACHE_DIR": str(tmp_path / "cache")}


def _run(args: list[str], tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    proc = cli_run.gpuless(*args, cwd=tmp_path, env=_env(tmp_path), inherit=False, timeout=60)
    return proc, time.monotonic() - started


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("gpuless:")]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize(
    ("text", "says"),
    [(BOMB, "expands to more than 100,000 values through its aliases"),
     (SELF_ALIAS, "has an alias inside its own anchor"),
     ("x: " + "[" * 5000 + "]" * 5000 + "\n", "nests deeper")],
    ids=["alias-bomb", "self-alias", "deep-nesting"],
)  # fmt: skip
@pytest.mark.parametrize("command", [["up"], ["verify", "-f", "compose.yaml"]])
def test_item10_damaged_compose_yaml(text: str, says: str, command: list[str], tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(text)
    proc, elapsed = _run(command, tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert says in _one_line(proc.stderr)
    assert elapsed < 30
    assert (tmp_path / "compose.yaml").read_text() == text  # nothing of the user's lost
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("compose")) == ["compose.yaml"]


@pytest.mark.parametrize("command", [["up"], ["compose", "--force"], ["verify", "-f", "compose.yaml"]])
def test_item10_a_fifo_as_compose_yaml_is_refused_not_waited_on(command: list[str], tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "compose.yaml")
    proc, elapsed = _run(command, tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "is not a regular file" in _one_line(proc.stderr)
    assert elapsed < 30


@pytest.mark.parametrize(
    ("content", "says"),
    [('{"format": 1, "machines": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
     ('{"format": 2, "machines": {}}', "a newer gpuless wrote it (format 2; this one reads 1)"),
     ('{"format": 1, "machines": {', "not valid JSON")],
    ids=["deep", "newer", "damaged"],
)  # fmt: skip
def test_item10_an_unusable_calibration_json_is_kept(content: str, says: str, tmp_path: Path) -> None:
    path = tmp_path / "data" / "calibration.json"
    path.parent.mkdir()
    path.write_text(content)
    proc, _ = _run(["recommend", "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    reasons = [r for r in json.loads(proc.stdout)["reasons"] if r.startswith("Calibration not used")]
    assert len(reasons) == 1 and says in reasons[0] and "Move it aside" in reasons[0], reasons
    assert path.read_text() == content  # not replaced


def _generated(tmp_path: Path) -> str:
    proc, _ = _run(["compose", "--profile", "laptop-16gb-ddr4", "--model", "qwen2.5:0.5b"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    return (tmp_path / "compose.yaml").read_text()


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [('OLLAMA_CONTEXT_LENGTH: "4096"', 'OLLAMA_CONTEXT_LENGTH: "${CTX:?err}"',
      "(${CTX:?err} in services.ollama.environment.OLLAMA_CONTEXT_LENGTH)"),
     ('image: "ollama/ollama:latest"', 'image: "${IMG:-ollama/ollama:latest}"',
      "(${IMG:-ollama/ollama:latest} in services.ollama.image)")],
    ids=["required-var", "default-var"],
)  # fmt: skip
def test_item12_interpolation_is_said_to_be_unsupported(
    old: str, new: str, says: str, tmp_path: Path
) -> None:
    text = _generated(tmp_path)
    assert old in text
    edited = text.replace(old, new, 1)
    (tmp_path / "compose.yaml").write_text(edited)
    proc, _ = _run(["up"], tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    line = _one_line(proc.stderr)
    assert says in line and "variable interpolation" in line and "does not support" in line
    assert (tmp_path / "compose.yaml").read_text() == edited


def test_item12_a_literal_dollar_is_not_interpolation(tmp_path: Path) -> None:
    from toolkit.core.compose.read import read_compose_text

    text = _generated(tmp_path).replace(
        'OLLAMA_KEEP_ALIVE: "30m"', 'OLLAMA_KEEP_ALIVE: "30m"\n      X_PRICE: "$$HOME"'
    )
    assert "X_PRICE" in text
    assert read_compose_text(text).unsupported == ("environment.X_PRICE",)


def test_item12_up_says_which_services_it_does_not_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from toolkit.cli.lifecycle import _file_spec

    path = tmp_path / "compose.yaml"
    extra = (
        "services:\n  webui:\n    image: ghcr.io/open-webui/open-webui\n    privileged: true\n"
        "  cache:\n    image: redis\n"
    )
    path.write_text(_generated(tmp_path).replace("services:\n", extra, 1))
    spec = _file_spec(path)
    assert spec.model.startswith("qwen2.5:0.5b")
    [line] = capsys.readouterr().err.splitlines()
    assert line == (
        f"gpuless: warning: `gpuless up` starts only ollama, not the other services of {path}: "
        "webui (privileged), cache. Start them with `docker compose up -d`."
    )


def test_item10_a_benchmark_never_replaces_an_unusable_calibration(tmp_path: Path) -> None:
    import datetime

    from tests.builders import laptop
    from toolkit.adapters.bench import calibration
    from toolkit.core.bench.compare import Comparison

    path = tmp_path / "calibration.json"
    path.write_text('{"format": 2, "machines": {}}')
    rows = [Comparison("decode tok/s", "tok/s", 10.0, 9.0)]
    day = datetime.date(2026, 12, 1)
    fresh = tmp_path / "fresh" / "calibration.json"
    assert calibration.record_comparisons(fresh, laptop(), "m", rows, day) is not None and fresh.exists()
    stored = calibration.record_comparisons(path, laptop(), "m", rows, day)
    assert stored is None  # not stored: the newer file is kept whole
    assert path.read_text() == '{"format": 2, "machines": {}}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calibration.json", "fresh"]  # nothing left
