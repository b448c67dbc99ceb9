"""``gpuless detect``: the JSON document and the human summary, run as a user would run them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests import cli_run


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return cli_run.gpuless("detect", *args, env=env or {}, timeout=60)


@pytest.fixture()
def cache_env(tmp_path: Path) -> dict[str, str]:
    return {"GPULESS_CACHE_DIR": str(tmp_path / "cache")}


def test_detect_json_has_every_field(cache_env: dict[str, str]) -> None:
    done = _run("--json", env={**cache_env, "DOCKER_HOST": "unix:///nonexistent.sock"})
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    assert data["os"] in ("linux", "darwin", "windows", "other")
    assert data["os_release"]
    cpu = data["cpu"]
    assert cpu["logical_cores"] == os.cpu_count()
    assert cpu["physical_cores"] >= 1 and cpu["arch"] in ("x86_64", "arm64")
    assert isinstance(cpu["simd"], list)
    assert data["memory"]["total_bytes"] > 0 and data["memory"]["available_bytes"] > 0
    assert {"swap_total_bytes", "swap_used_bytes"} <= set(data["memory"])
    assert {"has_battery", "on_ac", "percent"} == set(data["power"])
    assert {"version", "memory_limit_bytes", "cpu_limit"} == set(data["cgroup"])
    assert data["docker"]["reachable"] is False
    assert "nonexistent.sock" in data["docker"]["error"]
    assert data["bandwidth"]["gbps"] > 0 and data["bandwidth"]["source"] == "measured"
    codes = [w["code"] for w in data["warnings"]]
    assert "docker_unreachable" in codes


@pytest.mark.docker
def test_detect_json_with_the_real_engine(cache_env: dict[str, str]) -> None:
    done = _run("--json", "--no-bandwidth", env=cache_env)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    if not data["docker"]["reachable"]:
        pytest.skip(f"Docker engine not available: {data['docker']['error']}")
    assert data["docker"]["ncpu"] == os.cpu_count()
    assert data["docker"]["server_version"]
    assert data["bandwidth"] is None


def test_detect_table_is_a_compact_summary(cache_env: dict[str, str]) -> None:
    done = _run("--no-bandwidth", "--no-docker", env=cache_env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    labels = [line.split()[0] for line in lines[:8]]
    assert labels == ["OS", "CPU", "SIMD", "Memory", "Power", "Container", "Docker", "Bandwidth"]
    assert "not checked" in lines[6] and "not measured" in lines[7]
    assert "Traceback" not in done.stderr


def test_detect_human_output_shows_the_docker_fix(cache_env: dict[str, str]) -> None:
    done = _run("--no-bandwidth", env={**cache_env, "DOCKER_HOST": "unix:///nonexistent.sock"})
    assert done.returncode == 0
    assert "✗ Docker engine not reachable at unix:///nonexistent.sock" in done.stdout
    assert "→ " in done.stdout


def test_refresh_measures_again(
    cache_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from toolkit.adapters.machine import bandwidth

    monkeypatch.setenv("GPULESS_CACHE_DIR", cache_env["GPULESS_CACHE_DIR"])
    monkeypatch.setattr(bandwidth, "BUSY_LOAD_PER_CPU", float("inf"))  # cache even on a busy shared box

    def run(*args: str) -> dict[str, Any]:
        code, out, err = cli_run.run(["detect", "--json", "--no-docker", *args], capsys)
        assert code == 0, err
        figure: dict[str, Any] = json.loads(out)["bandwidth"]
        return figure

    first, cached, fresh = run(), run(), run("--refresh")
    assert "cached" not in first["detail"]
    assert "cached" in cached["detail"] and cached["gbps"] == first["gbps"]
    assert "cached" not in fresh["detail"]
