"""The tuned winner written into the user's compose file (``services.container_tune.write_winner``, shared by
the container and the native tune): in place, with a backup; and when the file cannot be read again, one
error that says what runs and what the file still holds."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from toolkit.core.compose.render import render_compose_yaml
from toolkit.core.compose.spec import build_spec
from toolkit.errors import UsageError
from toolkit.services.container_tune import write_winner

BEFORE = build_spec(model="smollm2:135m", port=11434, context_length=4096)
AFTER = replace(BEFORE, num_parallel=4)


def test_the_winner_is_written_in_place_with_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    original = "# the team's notes\n" + render_compose_yaml(BEFORE)
    path.write_text(original, encoding="utf-8")
    written = write_winner(path, BEFORE, AFTER, "the container gpuless-ollama", "gpuless up")
    text = path.read_text(encoding="utf-8")
    assert 'OLLAMA_NUM_PARALLEL: "4"' in text and text.startswith("# the team's notes\n")
    assert written["compose_file"] == str(path) and "OLLAMA_NUM_PARALLEL" in written["diff"]
    assert Path(written["backup"]).read_text(encoding="utf-8") == original


def test_a_file_that_cannot_be_read_again_says_what_runs_and_what_it_still_holds(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    path.write_bytes(b"services: \xff\xfe\n")  # changed under the tune into something not UTF-8
    with pytest.raises(UsageError) as raised:
        write_winner(path, BEFORE, AFTER, "ollama serve (pid 4242)", "gpuless up --runtime native")
    message = raised.value.message
    assert message.startswith(f"cannot read {path} again")
    assert "ollama serve (pid 4242) runs the tuned settings" in message
    assert "(`gpuless up --runtime native` starts those again)" in message
    assert path.read_bytes() == b"services: \xff\xfe\n" and not list(tmp_path.glob("*.bak"))
