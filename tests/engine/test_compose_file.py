"""Writing compose.yaml never loses the user's file: refuse without --force, back up with it, atomic."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from toolkit.engine.compose_file import backup_path, write_compose
from toolkit.errors import ComposeFileExistsError, UsageError


def test_creates_a_new_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "compose.yaml"
    result = write_compose(target, "services: {}\n")
    assert result.outcome == "created" and result.backup is None
    assert target.read_text() == "services: {}\n"
    assert [p.name for p in target.parent.iterdir()] == ["compose.yaml"]  # no temp file left


def test_same_text_is_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "compose.yaml"
    target.write_text("a: 1\n")
    before = target.stat().st_mtime_ns
    result = write_compose(target, "a: 1\n")
    assert result.outcome == "unchanged"
    assert target.stat().st_mtime_ns == before


def test_refuses_to_overwrite_and_shows_the_diff(tmp_path: Path) -> None:
    target = tmp_path / "compose.yaml"
    target.write_text("mine: 1\nkept: true\n")
    with pytest.raises(ComposeFileExistsError) as caught:
        write_compose(target, "mine: 2\nkept: true\n")
    assert target.read_text() == "mine: 1\nkept: true\n"
    assert "-mine: 1" in caught.value.diff and "+mine: 2" in caught.value.diff
    assert "--force" in (caught.value.hint or "")
    assert caught.value.exit_code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compose.yaml"]


def test_force_keeps_a_backup_and_preserves_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "compose.yaml"
    target.write_text("mine: 1\n")
    os.chmod(target, 0o600)
    result = write_compose(target, "mine: 2\n", force=True)
    assert result.outcome == "replaced" and result.backup is not None
    assert result.backup.read_text() == "mine: 1\n"
    assert result.backup.name.startswith("compose.yaml.") and result.backup.name.endswith(".bak")
    assert target.read_text() == "mine: 2\n"
    assert target.stat().st_mode & 0o777 == 0o600
    # A second forced write in the same second gets its own backup instead of overwriting the first.
    second = write_compose(target, "mine: 3\n", force=True)
    assert second.backup is not None and second.backup != result.backup
    assert second.backup.read_text() == "mine: 2\n" and result.backup.read_text() == "mine: 1\n"


def test_backup_names_do_not_collide(tmp_path: Path) -> None:
    target = tmp_path / "compose.yaml"
    first = backup_path(target, now=0)
    first.write_text("x")
    assert backup_path(target, now=0) != first


def test_a_directory_or_unwritable_place_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is a directory"):
        write_compose(tmp_path, "x")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UsageError, match="cannot write"):
        write_compose(blocker / "compose.yaml", "x")
