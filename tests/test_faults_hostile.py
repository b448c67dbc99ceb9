"""Issue 20 item 1: outside text reaches no terminal as a control sequence, from any command.

A server (tests/faults, fault "hostile") names its model ``evil`` + a window-title change (OSC … BEL),
a colour (CSI), an 8-bit CSI (0x9b) and a DCS string (ESC P … ESC \\), and puts the same into its
version, its errors, its answers and /api/show. A calibration.json record carries the name too (as a
benchmark stored it, long after the server is gone). Every command is run as a user runs it and its
raw output bytes are scanned: no ESC, no BEL, no C1 control (UTF-8 0xc2 0x80-0x9f), no payload.
``detect`` reads no outside text and is not run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests import cli_run
from tests.faults.server import HOSTILE, HOSTILE_MODEL, FaultServer

_BAD = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")

COMMANDS = [
    (["recommend"], ""),
    (["recommend", "--json"], ""),
    (["bench", "--url", "{url}", "--reps", "1", "--num-predict", "8", "--shape", "chat",
      "--concurrency", "none", "--timeout", "3", "--max-seconds", "10"], ""),
    (["chat", "--url", "{url}"], "hi\n/model\nagain\n"),
    (["connect", "--url", "{url}"], ""),
    (["connect", "--url", "{url}", "--snippet", "python"], ""),
    (["up", "--url", "{url}"], ""),
    (["up", "--url", "{url}", "--model", HOSTILE_MODEL], ""),
    (["verify"], ""),
    (["status"], ""),
    (["history"], ""),
]  # fmt: skip


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "GPULESS_OLLAMA_URL"}
    return {**env, "GPULESS_DATA_DIR": str(tmp_path / "data"), "GPULESS_CACHE_DIR": str(tmp_path / "cache")}


def _gpuless(args: list[str], tmp_path: Path, stdin: str = "") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        cli_run.command(*args), input=stdin.encode(), capture_output=True,
        env=_env(tmp_path), cwd=tmp_path, timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory whose calibration.json holds a run of the hostile model on this machine."""
    home = tmp_path_factory.mktemp("hostile")
    detected = _gpuless(["detect", "--json"], home)
    assert detected.returncode == 0, detected.stderr
    machine = json.loads(detected.stdout)
    key = f"{machine['cpu']['model'].strip()}|{machine['memory']['total_bytes']}"
    record = {"model": HOSTILE, "measured_at": "2026-12-01", "decode": 0.9, "prefill": 1.1}
    (home / "data").mkdir(exist_ok=True)
    (home / "data" / "calibration.json").write_text(json.dumps({"format": 1, "machines": {key: [record]}}))
    return home


@pytest.mark.parametrize(("args", "stdin"), COMMANDS, ids=[" ".join(a[:1] + a[3:4]) for a, _ in COMMANDS])
def test_item1_hostile_names_reach_no_terminal(args: list[str], stdin: str, home: Path) -> None:
    with FaultServer("hostile") as server:
        proc = _gpuless([a.replace("{url}", server.url) for a in args], home, stdin)
    raw = proc.stdout + proc.stderr
    assert b"Traceback" not in raw
    assert not _BAD.findall(raw), [line for line in raw.splitlines() if _BAD.search(line)][:3]
    # Each sequence went whole; a name shown as data (JSON, a snippet's code, a repr) spells its ESC out.
    spelled = re.sub(rb"\\(?:x1b|u001b|033)(?:\]0;PWNED-TITLE|Pdcs-payload)", b"", raw)
    assert b"PWNED-TITLE" not in spelled and b"dcs-payload" not in spelled
    if args[0] == "recommend":  # the stored name is still shown, without its sequences
        assert b"evilRED" in raw
    if "--url" in args:
        assert server.requests, "the command never reached the server"


def test_item1_verify_table_shows_server_values_without_sequences() -> None:
    # verify needs a running container; its table is checked with the values the hostile server sends
    # (a /api/show parameter, a loaded model's name) and an engine warning carrying the same.
    from toolkit.cli.render_lifecycle import verify_lines
    from toolkit.core.compose.verify import VerifyReport, VerifyRow

    report = VerifyReport(
        "gpuless-ollama",
        (VerifyRow("num_ctx", "4096", f"4096{HOSTILE}", "ignored", f"the server says {HOSTILE}"),
         VerifyRow("model", "m", HOSTILE_MODEL, "applied", "read from /api/ps")),
        (f"warning {HOSTILE}",),
    )  # fmt: skip
    table = "\n".join(text + status for text, status in verify_lines(report, 120))
    assert not _BAD.findall(table.encode()) and "PWNED" not in table and "dcs-payload" not in table
    assert "4096evilRED" in table and "the server says evilRED" in table and "evilRED:latest" in table


def test_item1_pull_progress_line_without_sequences(capsys: pytest.CaptureFixture[str]) -> None:
    from toolkit.adapters.progress import Progress
    from toolkit.cli.render_lifecycle import ProgressLine

    ProgressLine()(Progress("image", f"pulling {HOSTILE}", 1, 2))
    err = capsys.readouterr().err
    assert "pulling evilRED" in err and not _BAD.findall(err.encode())
