"""``gpuless recommend`` end to end, as a user runs it: JSON validity, what-if options, bad input → exit 2."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests import cli_run

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "profiles"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return cli_run.gpuless("recommend", *args, timeout=120)


def test_recommend_json_on_this_machine() -> None:
    done = run("--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["machine"] == "this machine"
    assert data["request"] == {
        "use_case": "chat",
        "target_tps": 10.0,
        "context": 4096,
        "users": 1,
        "kv_cache_type": "f16",
        "prompt_tokens": 512,
        "decode_depth": 640,
    }
    assert "after 640 tokens of context" in data["basis"]
    assert data["budget"]["usable_bytes"] > 0
    assert data["pick"] is not None and data["reasons"]
    tags = [c["tag"] for c in data["candidates"]]
    assert data["pick"]["tag"] == tags[0] and len(tags) >= 15
    for key in ("fits", "total_bytes", "decode_tps", "ttft_s", "grade", "use_case_score", "why_not"):
        assert key in data["candidates"][0]


def test_recommend_profile_what_if_json() -> None:
    done = run(
        "--json",
        "--profile",
        "laptop-32gb-ddr5",
        "--use-case",
        "translation",
        "--users",
        "2",
        "--ctx",
        "8192",
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["machine"] == "laptop-32gb-ddr5"
    assert data["request"]["users"] == 2 and data["request"]["context"] == 8192
    assert data["budget"]["limited_by"] == "host RAM"


def test_recommend_user_profile_file_and_overrides() -> None:
    done = run("--json", "--profile", str(FIXTURES / "my-laptop.toml"), "--ram", "32", "--bandwidth", "100")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert "32 GiB RAM" in data["machine"] and "100 GB/s" in data["machine"]


def test_recommend_one_model_and_table_output() -> None:
    done = run("--profile", "apple-m1-8gb", "--model", "llama3.2:3b")
    assert done.returncode == 0, done.stderr
    assert "llama3.2:3b-instruct-q4_K_M" in done.stdout
    assert "Docker Desktop" in done.stdout
    listing = run("--list-profiles")
    assert listing.returncode == 0 and "laptop-16gb-ddr5" in listing.stdout


def test_recommend_a_tag_outside_the_catalog_from_its_name() -> None:
    done = run("--json", "--profile", "laptop-16gb-ddr5", "--model", "qwen9:1b")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["pick"]["tag"] == "qwen9:1b" and data["pick"]["params_b"] == 1.0
    assert any("Estimated from the name" in reason for reason in data["reasons"])
    assert data["pick"]["grade"] in ("A", "B", "C", "<C") and "grade_meaning" in data["pick"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--use-case", "poetry"), "unknown use case 'poetry'"),
        (("--ram", "-8", "--profile", "laptop-8gb-ddr4"), "'-8' is not a size"),
        (("--profile", str(FIXTURES / "malformed.toml")), "not valid TOML"),
        (("--profile", str(FIXTURES / "malformed.json")), "not valid JSON"),
        (("--profile", str(FIXTURES / "negative-ram.toml")), "ram_gb must be positive"),
        (("--profile", "no-such-laptop"), "no shipped hardware profile"),
        (("--model", "qwen9:latest", "--profile", "laptop-8gb-ddr4"), "unknown model 'qwen9:latest'"),
        (("--users", "0", "--profile", "laptop-8gb-ddr4"), "users must be at least 1"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], message: str) -> None:
    done = run("--json", *args)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("gpuless: error: ") and message in lines[0]
    assert "Traceback" not in done.stderr
    assert len(lines) <= 2  # the error, and at most one hint line


def test_ram_written_four_ways_gives_one_answer() -> None:
    answers = {
        ram: run("--json", "--profile", "laptop-8gb-ddr4", "--ram", ram).stdout
        for ram in ("16", "16G", "16GB", "16GiB")
    }
    assert len(set(answers.values())) == 1, answers
    assert "16 GiB RAM" in json.loads(answers["16G"])["machine"]


def test_mac_profile_pick_says_native_metal_with_the_docker_figure_beside_it() -> None:
    """Issue 24, tried as a new user: on a Mac the pick names native Ollama (Metal) with its predicted
    speed, and Docker's CPU-only figure beside it."""
    done = run("--json", "--profile", "apple-m2-16gb")
    assert done.returncode == 0, done.stderr
    pick = json.loads(done.stdout)["pick"]
    metal, docker = pick["metal"]["decode_tps"], pick["decode_tps"]
    assert pick["metal"]["chip"] == "Apple M2" and metal > 1.5 * docker
    text = run("--profile", "apple-m2-16gb")
    assert text.returncode == 0, text.stderr
    after_pick = text.stdout.split(f"Pick: {pick['tag']}", 1)[1]
    first = after_pick.strip().splitlines()[0]
    assert "native Ollama (Metal, `gpuless up --runtime native`)" in first
    assert f"~{metal:.0f} tok/s" in first and f"in Docker, CPU only, {docker:.1f} tok/s" in first
    header = next(line for line in text.stdout.splitlines() if line.strip().startswith("tag"))
    assert header.split()[4:6] == ["tok/s", "metal"]
    assert "metal: native Ollama on the GPU" in text.stdout


def test_a_laptop_gets_no_metal_column_and_its_igpu_is_named() -> None:
    done = run("--json", "--profile", "ryzen-7840u-32gb")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["pick"]["metal"] is None
    igpu = [r for r in data["reasons"] if "integrated GPU" in r]
    assert len(igpu) == 1 and "Radeon 780M" in igpu[0] and "CPU-only" in igpu[0]
    plain = json.loads(run("--json", "--profile", "laptop-32gb-ddr5").stdout)  # i7-13700H: name tells none
    assert not [r for r in plain["reasons"] if "integrated GPU" in r]
    assert "metal" not in run("--profile", "ryzen-7840u-32gb").stdout.split("\n")[2]


def test_ctx_depth_prices_decode_deeper_into_the_context() -> None:
    """``--ctx-depth`` predicts decode after N tokens of history (a LocalScore-style figure) and says so."""
    base = ("--json", "--profile", "laptop-16gb-ddr5", "--model", "qwen2.5:3b")
    short = json.loads(run(*base).stdout)
    deep_run = run(*base, "--ctx-depth", "4000")
    assert deep_run.returncode == 0, deep_run.stderr
    deep = json.loads(deep_run.stdout)
    assert deep["request"]["decode_depth"] == 4000 and short["request"]["decode_depth"] == 640
    assert deep["pick"]["decode_tps"] < 0.95 * short["pick"]["decode_tps"]
    # the prompt is the same: TTFT moves only by its one decode step
    assert deep["pick"]["ttft_s"] == pytest.approx(short["pick"]["ttft_s"], rel=0.05)
    assert "after 4,000 tokens of context (--ctx-depth)" in deep["basis"]
    beyond = run("--profile", "laptop-16gb-ddr5", "--ctx-depth", "5000")
    assert beyond.returncode == 2
    assert beyond.stderr.splitlines()[0] == (
        "gpuless: error: --ctx-depth must be between 0 and the context (4096 tokens), not 5000"
    )
    assert "Traceback" not in beyond.stderr
