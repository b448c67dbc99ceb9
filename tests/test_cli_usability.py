"""What a user reads from the CLI: help for every option, GiB in tables, next steps that are true."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from tests.cli_run import run
from tests.ollama_server.fixtures import free_port
from toolkit.cli.main import cli


def test_every_option_of_every_command_has_help() -> None:
    missing = [
        f"{name} {'/'.join(param.opts)}"
        for name, command in cli.commands.items()
        for param in command.params
        if isinstance(param, click.Option) and not param.help
    ]
    assert missing == []


def test_recommend_table_shows_memory_in_gib_like_the_reasons(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["recommend", "--profile", "laptop-8gb-ddr4", "--model", "qwen2.5:1.5b-instruct-q4_K_M"]
    code, out, err = run([*args, "--json"], capsys)
    assert code == 0, err
    total = json.loads(out)["candidates"][0]["total_bytes"]
    code, out, err = run(args, capsys)
    assert code == 0, err
    header = next(line for line in out.splitlines() if line.strip().startswith("tag"))
    row = next(line for line in out.splitlines() if "qwen2.5:1.5b-instruct-q4_K_M" in line)
    assert "RAM GiB" in header and "GB" not in header
    assert row.split()[3] == f"{total / 2**30:.1f}"  # "→ tag params GiB ...": GiB, not 1e9 bytes
    assert f"needs about {total / 2**30:.1f} GiB" in out
    # The tag column is only as wide as the tags shown, so the figures fit in 80 columns (notes may run past).
    assert header.index("note") == row.index("score") <= 73


def test_what_if_ram_is_labelled_gib(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["recommend", "--profile", "laptop-8gb-ddr4", "--ram", "16"], capsys)
    assert code == 0, err
    assert "with 16 GiB RAM" in out.splitlines()[0]


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/absent.sock")
    monkeypatch.chdir(tmp_path)


def test_compose_next_step_names_a_file_other_than_compose_yaml(
    tmp_path: Path, no_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["compose", "--model", "smollm2:135m", "-o", "mine.yaml"], capsys)
    assert code == 0, err
    assert (tmp_path / "mine.yaml").is_file()
    assert "`gpuless up -f mine.yaml`" in out and "`docker compose -f mine.yaml up -d`" in out

    code, out, err = run(["compose", "--model", "smollm2:135m"], capsys)
    assert code == 0, err
    assert (tmp_path / "compose.yaml").is_file()
    assert "`gpuless up`" in out and "`docker compose up -d`" in out and " -f " not in out


def test_bench_on_a_closed_port_points_at_gpuless_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GPULESS_DATA_DIR", str(tmp_path / "data"))
    port = free_port()  # free a moment ago: nothing listens
    code, _, err = run(["bench", "--url", f"http://127.0.0.1:{port}", "--model", "x", "--reps", "1"], capsys)
    assert code == 1
    assert "nothing answers" in err and "`gpuless status`" in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if line.strip()]) == 2  # the error and its hint


def test_up_says_which_options_a_compose_file_overrides(
    tmp_path: Path, no_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["compose", "--model", "smollm2:135m"], capsys)
    assert code == 0, err
    code, _, err = run(["up", "--ctx", "8192", "--port", "11500", "--no-pull"], capsys)
    assert code == 1 and "not reachable" in err  # no engine here; the note comes first
    assert "--ctx, --port ignored: the settings come from compose.yaml" in err

    code, _, err = run(["up", "--no-pull"], capsys)  # nothing typed that the file overrides: no note
    assert code == 1 and "ignored" not in err


def test_bench_comparison_rows_name_each_unit_once() -> None:
    from toolkit.cli.render_bench import format_result
    from toolkit.core.bench.compare import Comparison
    from toolkit.core.bench.config import BenchResult

    result = BenchResult(
        run_id=None,
        status="complete",
        model="m:1b",
        api="ollama",
        url="http://127.0.0.1:11434",
        comparisons=(
            Comparison("decode tok/s", "tok/s", 68.1, 27.1, 151.3),
            Comparison("TTFT", "s", 6.845, 7.990, -14.3),
        ),
    )
    text = "\n".join(format_result(result))
    assert "decode tok/s " in text and "(tok/s)" not in text
    assert "TTFT (s)" in text


def test_history_refuses_two_output_formats(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GPULESS_DATA_DIR", str(tmp_path))
    code, out, err = run(["history", "--json", "--csv"], capsys)
    assert code == 2 and out == ""
    assert "choose one" in err and "Traceback" not in err


def test_chat_with_nothing_running_tries_the_port_the_compose_file_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 25: with no container running, chat and bench went to 11434 in a folder whose file says 38434.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GPULESS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("GPULESS_OLLAMA_URL", raising=False)
    port = free_port()  # nothing listens there
    code, _, err = run(["compose", "--model", "smollm2:135m", "--port", str(port)], capsys)
    assert code == 0, err
    code, _, err = run(["chat", "--model", "smollm2:135m"], capsys)
    assert code == 1 and f"127.0.0.1:{port}" in err and "11434" not in err, err
    code, _, err = run(["bench", "--model", "smollm2:135m", "--reps", "1"], capsys)
    assert code == 1 and f"127.0.0.1:{port}" in err and "11434" not in err, err
