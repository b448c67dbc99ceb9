"""`gpuless bench` and `gpuless history` as a user runs them (subprocess, real engine, temp data dir)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def _gpuless(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "GPULESS_DATA_DIR": str(tmp_path / "data"), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, timeout=600, env=full_env
    )


def test_non_loopback_url_from_the_environment_is_refused(tmp_path: Path) -> None:
    # A Docker bridge address from configuration: refused before any traffic, bad input (exit 2).
    proc = _gpuless(tmp_path, "bench", "--model", "x", env={"GPULESS_OLLAMA_URL": "http://172.17.0.2:11434"})
    assert proc.returncode == 2
    assert "not a loopback address" in proc.stderr and "--url" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_history_is_empty_at_first(tmp_path: Path) -> None:
    proc = _gpuless(tmp_path, "history")
    assert proc.returncode == 0 and "no benchmark runs yet" in proc.stdout
    assert not (tmp_path / "data").exists()  # reading created nothing


@pytest.mark.engine
def test_bench_json_then_history(ollama_server: Any, tmp_path: Path) -> None:
    # --max-seconds: the quick plan's 15 s bound would cut a run short on a busy machine
    args = ("--url", ollama_server.url, "--model", "smollm2:135m", "--reps", "1", "--num-predict", "16",
            "--max-seconds", "300")  # fmt: skip
    proc = _gpuless(tmp_path, "bench", *args, "--shape", "chat", "--concurrency", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == "complete" and result["run_id"] == 1
    assert result["shapes"][0]["output_tokens"] == 16
    assert result["concurrency"][0]["streams"] == 1
    assert result["ttft_slo_s"] == 10.0 and result["users_per_grade"]["15"] == 1  # 16 tokens at > 15 tok/s

    # A TTFT limit no real request meets (10 ms): no level holds any user, one slot is suggested.
    strict = _gpuless(tmp_path, "bench", *args, "--shape", "chat", "--concurrency", "1", "--ttft-slo", "0.01")
    assert strict.returncode == 0, strict.stderr
    assert "users held: 0 at ≥ 70 tok/s · 0 at ≥ 30 tok/s · 0 at ≥ 15 tok/s" in strict.stdout
    assert "TTFT p95 ≤ 0.01 s" in strict.stdout
    # the grade agrees with the users held (none) and says why; the advice gives its reason too
    assert "grade below C's 15 tok/s: no level held the C line" in strict.stdout
    assert "OLLAMA_NUM_PARALLEL=1: no level held the C line" in strict.stdout

    table = _gpuless(tmp_path, "history")
    assert table.returncode == 0 and "smollm2:135m" in table.stdout and "complete" in table.stdout
    rows = list(csv.DictReader(io.StringIO(_gpuless(tmp_path, "history", "--csv").stdout)))
    assert len(rows) == 4 and {r["phase"] for r in rows} == {"shape", "concurrency"}
    exported = json.loads(_gpuless(tmp_path, "history", "--json").stdout)
    assert exported[0]["machine"]["cpu"]["model"]


@pytest.mark.engine
def test_default_bench_is_the_quick_plan_with_live_progress(ollama_server: Any, tmp_path: Path) -> None:
    proc = _gpuless(tmp_path, "bench", "--url", ollama_server.url, "--model", "smollm2:135m", "--no-history")
    assert proc.returncode == 0, proc.stderr
    # 2 reps × 2 shapes + 1 + 2 + 4 streams: every live line counts against that plan, with the time
    assert "[0/11 · " in proc.stderr and "loading smollm2:135m" in proc.stderr
    counted = [line for line in proc.stderr.splitlines() if line.strip().startswith("[")]
    assert len(counted) >= 3 and all("/11 · " in line for line in counted)
    # once a request has finished, the time left is estimated (a busy machine may stop at the bound first)
    assert all("s left]" in line for line in counted if not line.strip().startswith("[0/"))
    # the result reads the grade from what finished, or says the 15 s bound came first (a busy machine)
    assert "grade " in proc.stdout or "stopped early: max_seconds reached" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_bench_help_offers_thorough() -> None:
    from click.testing import CliRunner

    from toolkit.cli.main import cli

    text = " ".join(CliRunner().invoke(cli, ["bench", "--help"]).output.split())
    assert "--thorough" in text and "The full sweep: 5 reps of 128 tokens" in text
    assert "default: a quick run, 2 reps of 32 tokens" in text


@pytest.mark.engine
def test_bench_unknown_model_exits_1(ollama_server: Any, tmp_path: Path) -> None:
    proc = _gpuless(tmp_path, "bench", "--url", ollama_server.url, "--model", "nope:1b", "--no-history")
    assert proc.returncode == 1
    assert "model 'nope:1b' not found" in proc.stderr and "hint:" in proc.stderr
    assert "Traceback" not in proc.stderr
