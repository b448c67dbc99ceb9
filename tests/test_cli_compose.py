"""`gpuless compose` / `up` / `down` / `status` / `verify` as a user runs them: output, files, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests import cli_run
from tests.cli_run import run
from tests.ollama_server.fixtures import free_port
from toolkit.cli.render_lifecycle import verify_lines
from toolkit.core.compose.read import read_compose_text
from toolkit.core.compose.verify import VerifyReport, VerifyRow


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Point docker-py at a socket that does not exist (fast, deterministic 'engine unreachable')."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/absent.sock")


def test_compose_replaces_its_own_file_refuses_an_edited_one_and_backs_up(
    tmp_path: Path, no_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "compose.yaml"
    code, out, err = run(["compose", "--model", "smollm2:135m", "--mem-limit", "2g", "--cpus", "1",
                          "-o", str(target)], capsys)  # fmt: skip
    assert code == 0, err
    assert "Created" in out and "not reachable" in err  # the engine note, not an error
    assert f"`gpuless up -f {target}`" in out and f"`gpuless verify -f {target}`" in out  # not ./compose.yaml
    read = read_compose_text(target.read_text())
    assert read.spec.model == "smollm2:135m" and read.spec.mem_limit_bytes == 2 * 1024**3 and not read.edited

    # Nobody edited it: a new plan (another model) replaces it, with the diff shown and a backup kept.
    code, out, err = run(["compose", "--model", "gemma3:270m", "-o", str(target)], capsys)
    assert code == 0, err
    assert "Replaced" in out and '+      io.gpuless.model: "gemma3:270m"' in out
    backups = sorted(tmp_path.glob("compose.yaml.*.bak"))
    assert len(backups) == 1 and read_compose_text(backups[0].read_text()).spec.model == "smollm2:135m"
    assert read_compose_text(target.read_text()).spec.model == "gemma3:270m"

    # Edited by hand, it is the user's: a different plan is refused, the file left as it is.
    target.write_text(target.read_text().replace('OLLAMA_NUM_PARALLEL: "1"', 'OLLAMA_NUM_PARALLEL: "2"'))
    code, out, err = run(["compose", "--model", "smollm2:135m", "--ctx", "8192", "-o", str(target)], capsys)
    assert code == 2
    assert '+      OLLAMA_CONTEXT_LENGTH: "8192"' in out  # the diff is shown
    assert "not overwriting" in err and "--force" in err and "Traceback" not in err
    assert read_compose_text(target.read_text()).spec.num_parallel == 2  # untouched

    forced = ["compose", "--model", "smollm2:135m", "--ctx", "8192", "-o", str(target), "--force"]
    code, out, err = run(forced, capsys)
    assert code == 0, err
    backups = sorted(tmp_path.glob("compose.yaml.*.bak"))
    assert len(backups) == 2 and any(read_compose_text(b.read_text()).spec.num_parallel == 2 for b in backups)
    assert read_compose_text(target.read_text()).spec.context_length == 8192


def test_compose_print_and_expose_warning(no_engine: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        ["compose", "--model", "qwen2.5:0.5b", "--print", "--expose", "--port", "11500"], capsys
    )
    assert code == 0
    service = yaml.safe_load(out)["services"]["ollama"]
    assert service["ports"] == ["0.0.0.0:11500:11434"]  # unknown engine: published ports
    assert "WARNING" in err and "no authentication" in err


def test_compose_bad_input_exits_2(no_engine: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["compose", "--model", "m:1b", "--mem-limit", "lots", "--print"], capsys)
    assert code == 2 and "is not a size" in err and "Traceback" not in err
    code, _, err = run(["compose", "--profile", "no-such-profile", "--print"], capsys)
    assert code == 2 and err.startswith("gpuless: error:")


def test_compose_without_a_model_serves_the_recommendation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["compose", "--profile", "apple-m2-16gb", "--print"], capsys)
    assert code == 0
    spec = read_compose_text(out).spec
    golden = Path(__file__).resolve().parents[1] / "compose" / "apple-m2-16gb.yaml"
    assert out == golden.read_text()  # the CLI and the golden file agree
    assert spec.network == "ports" and spec.mem_limit_bytes and spec.num_thread


def _flat(text: str) -> str:
    return " ".join(line.strip().removeprefix("#").strip() for line in text.splitlines())


def test_compose_with_a_catalog_model_is_sized_and_an_unknown_one_is_not(
    no_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["compose", "--model", "qwen2.5:0.5b", "--print"], capsys)
    sized = read_compose_text(out).spec
    assert code == 0 and sized.model == "qwen2.5:0.5b-instruct-q4_K_M"  # the exact file that was sized
    assert sized.mem_limit_bytes and sized.cpus
    code, out, _ = run(["compose", "--model", "somebody/custom:7b", "--print"], capsys)
    unsized = read_compose_text(out).spec
    # Not sized (no memory limit), but its threads still match the cores, like any model's.
    assert code == 0 and unsized.mem_limit_bytes is None and unsized.num_thread == sized.num_thread
    assert "no memory limit was set" in _flat(out)


def test_up_with_the_engine_unreachable_is_one_line_and_a_hint() -> None:
    # A real process, to show what a user sees: no traceback, exit 1, what to do.
    env = {"DOCKER_HOST": "unix:///nonexistent/docker.sock", "PATH": "/usr/bin:/bin"}
    done = cli_run.gpuless("up", "--model", "smollm2:135m", env=env, inherit=False, timeout=60)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("gpuless: error: Docker engine not reachable")
    assert lines[1].startswith("  hint:") and "systemctl start docker" in lines[1]
    assert "Traceback" not in done.stderr


def test_up_native_without_ollama_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no `ollama` anywhere
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["up", "--runtime", "native", "--model", "m:1b", "--port", "1"], capsys)
    assert code == 1 and "not on PATH" in err and "ollama.com/download" in err


def test_up_url_with_nothing_listening(capsys: pytest.CaptureFixture[str]) -> None:

    port = free_port()  # free a moment ago: nothing listens
    code, _, err = run(["up", "--url", f"http://127.0.0.1:{port}", "--model", "m:1b"], capsys)
    assert code == 1 and "nothing answers" in err


@pytest.mark.docker
@pytest.mark.engine
def test_up_verify_status_logs_down_through_the_cli(
    ollama_test_image: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json
    import uuid

    tag = uuid.uuid4().hex[:8]
    monkeypatch.setenv("GPULESS_CONTAINER_NAME", f"gpuless-t-cli-{tag}")
    monkeypatch.setenv("GPULESS_VOLUME_NAME", f"gpuless-t-cli-{tag}-models")
    monkeypatch.setenv("GPULESS_IMAGE", ollama_test_image)
    monkeypatch.chdir(tmp_path)
    port = str(free_port())
    try:
        code, out, err = run(
            ["compose", "--model", "smollm2:135m", "--cpus", "1", "--port", port, "--memlock"], capsys
        )
        assert code == 0, err
        # The user edits the file; `up` with no --model starts ./compose.yaml as it now reads.
        compose_file = tmp_path / "compose.yaml"
        edited = compose_file.read_text().replace('OLLAMA_NUM_PARALLEL: "1"', "OLLAMA_NUM_PARALLEL: 2")
        compose_file.write_text(edited)
        code, out, err = run(["up", "--json", "--timeout", "120"], capsys)
        assert code == 0, err
        assert "starting it with your changes: num_parallel: 1 → 2" in err
        result = json.loads(out)
        assert result["up"]["action"] == "created" and result["up"]["url"] == f"http://127.0.0.1:{port}"
        assert result["model"] == "smollm2:135m-gpuless" and result["base_model"] == "smollm2:135m"
        rows = {row["knob"]: row for row in result["verify"]["rows"]}
        assert rows["memlock"]["status"] == "refused" and rows["mem_swappiness"]["status"] == "applied"
        # Read from the engine: the runner's command line and the served model's parameters.
        assert rows["threads"]["actual"] == "1" and rows["threads"]["status"] == "applied"
        assert rows["served model"]["status"] == "applied", rows["served model"]
        assert (
            rows["OLLAMA_CONTEXT_LENGTH"]["status"] == "applied"
            and "/api/ps" in rows["OLLAMA_CONTEXT_LENGTH"]["why"]
        )
        assert (
            rows["OLLAMA_NUM_PARALLEL"]["actual"] == "2"
            and rows["OLLAMA_NUM_PARALLEL"]["status"] == "applied"
        )

        code, out, _ = run(["verify"], capsys)
        assert code == 0 and "memlock" in out and "refused" in out
        code, out, _ = run(["status", "--json"], capsys)
        status = json.loads(out)
        assert code == 0 and status["ollama_version"] and status["health"] in ("starting", "healthy")
        assert status["model"] == "smollm2:135m" and status["served_model"] == "smollm2:135m-gpuless"
        code, out, _ = run(["status"], capsys)
        health = next(line.split(None, 1)[1] for line in out.splitlines() if line.split()[0] == "health")
        # Right after `up` Docker's first healthcheck may not have run: the line says the API answers.
        pending = "starting (Docker's first healthcheck is still to run; the API already answers)"
        assert code == 0 and health in ("healthy", pending), health
        assert "  clients use    smollm2:135m-gpuless" in out
        code, out, _ = run(["logs", "--tail", "50"], capsys)
        assert code == 0 and "Listening on" in out
        code, out, _ = run(["up", "--json", "--timeout", "60"], capsys)
        assert code == 0 and json.loads(out)["up"]["action"] == "reused"
    finally:
        code, out, _ = run(["down", "--volumes", "--json"], capsys)
    assert code == 0 and json.loads(out) == {
        "container": f"gpuless-t-cli-{tag}", "removed": True,
        "volume": f"gpuless-t-cli-{tag}-models", "volume_removed": True,
    }  # fmt: skip
    code, out, _ = run(["status", "--json"], capsys)
    assert json.loads(out)["exists"] is False and code == 1
    code, out, err = run(["status"], capsys)
    assert code == 1 and out == "" and "No container named" in err and "`gpuless up`" in err


@pytest.mark.docker
def test_commands_act_on_the_container_of_the_compose_file_here(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    monkeypatch.setenv("GPULESS_CONTAINER_NAME", "gpuless-t-written-with")
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["compose", "--model", "smollm2:135m", "--cpus", "1"], capsys)
    assert code == 0, err
    # Later, in another shell without that variable: status, verify, logs and down still find the
    # container `gpuless up` would start from ./compose.yaml, not the default name.
    monkeypatch.delenv("GPULESS_CONTAINER_NAME")
    code, out, _ = run(["status", "--json"], capsys)  # none started yet: exit 1, and the name it looked for
    assert code == 1 and json.loads(out)["name"] == "gpuless-t-written-with"
    code, out, _ = run(["down", "--json"], capsys)
    assert code == 0 and json.loads(out)["container"] == "gpuless-t-written-with"
    code, _, err = run(["verify"], capsys)
    assert code == 1 and "gpuless-t-written-with" in err
    code, _, err = run(["logs"], capsys)
    assert code == 1 and "gpuless-t-written-with" in err
    code, _, err = run(["status", "-f", "missing.yaml"], capsys)
    assert code == 2 and "cannot read missing.yaml" in err


def test_verify_table_fits_80_columns_and_marks_what_it_cuts() -> None:
    volume = "gpuless-session-models-3187812345678"
    report = VerifyReport(
        "gpuless-ollama",
        (
            VerifyRow("volumes", volume, volume, "applied", "read from container inspect"),
            VerifyRow("memlock", "unlimited", "8192 kB", "refused", "the engine refused it at start; " * 4),
            VerifyRow("OLLAMA_KV_CACHE_TYPE", "q8_0", "q8_0", "ignored", "needs flash attention"),
        ),
        ("Your kernel does not support swap limit capabilities or the cgroup is not mounted.",),
    )
    lines = [text + status for text, status in verify_lines(report, 80)]
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    table = "\n".join(lines)
    assert volume[:22] + "…" in table and volume not in table
    # Rows that are not applied say why (wrapped, whole); applied ones leave that to --json.
    words = " ".join(table.split())
    assert words.count("the engine refused it at start") == 4 and "needs flash attention" in table
    assert "read from container inspect" not in table
    assert "1 applied, 1 ignored, 1 refused" in table and "engine warning: Your kernel" in table
    # A wide terminal shows the whole value.
    assert volume in "\n".join(text for text, _ in verify_lines(report, 120))


@pytest.mark.parametrize("size", ["16", "16G", "16GB", "16GiB"])
def test_a_memory_limit_means_the_same_however_its_unit_is_written(
    size: str, no_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["compose", "--model", "smollm2:135m", "--mem-limit", size, "--print"], capsys)
    assert code == 0, err
    assert 'mem_limit: "16g"' in out and 'memswap_limit: "16g"' in out


def test_compose_on_a_mac_names_native_metal_beside_the_docker_plan(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 24: the compose plan for a Mac says native Ollama (Metal) is the fast path, with both speeds;
    a laptop's plan says nothing of the kind."""
    code, out, err = run(["compose", "--profile", "apple-m2-16gb", "--print"], capsys)
    assert code == 0 and out.startswith("#")
    (note,) = [line for line in err.splitlines() if "native Ollama" in line]
    assert note.startswith("gpuless: note: This Mac's GPU (Apple M2, 100 GB/s")
    assert "`gpuless up --runtime native`" in note and "in Docker, CPU only," in note
    code, _, err = run(["compose", "--profile", "laptop-16gb-ddr5", "--print"], capsys)
    assert code == 0 and "native Ollama" not in err
