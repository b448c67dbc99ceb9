"""`gpuless history` lines its table up, with outside text made safe cell by cell (issue 25)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_run import run
from toolkit.adapters.bench.history import History


def test_history_columns_line_up_and_hostile_names_are_cleaned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GPULESS_DATA_DIR", str(tmp_path))
    summary = {
        "shapes": [{"shape": "chat", "client_decode_tps": {"median": 66.4}, "ttft_s": {"median": 0.3}}]
    }
    with History(tmp_path / "history.sqlite3") as store:
        for model, status in (("smollm2:135m", "complete"), ("evil\x1b]0;T\x07\x1b[31mx:1b", "incomplete")):
            run_id = store.start_run(model=model, api="ollama", url="http://127.0.0.1:1", settings={})
            store.finish_run(run_id, status=status, summary=summary)
    code, out, err = run(["history"], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 6 and lines[3] == "" and "\x1b" not in out and "\x07" not in out
    assert lines[4].startswith("TTFT = ") and lines[5].startswith("decode tok/s = ")  # what they mean
    lines = lines[:3]
    header = lines[0]
    for column in ("status", "model", "chat decode tok/s", "chat TTFT s"):
        start = header.index(column)
        for row in lines[1:]:
            assert row[start - 2 : start] == "  " and row[start] != " ", (column, row)
