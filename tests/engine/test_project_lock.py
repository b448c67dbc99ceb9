"""The per-container lock: `up` is refused at once while another run holds it, and told by whom; `down`
waits a moment for a holder that is finishing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest

from tests import cli_run
from tests.engine.cli_project import CliProject
from toolkit.adapters.docker.project_lock import exclusive, holder_pid, lock_path
from toolkit.errors import ContainerError

HOLD = """
import sys, time
from pathlib import Path
from toolkit.adapters.docker.project_lock import exclusive
with exclusive("demo", Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _holder(tmp_path: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_held_lock_is_refused_at_once_and_names_its_holder(tmp_path: Path) -> None:
    proc = _holder(tmp_path, 30)
    try:
        t0 = time.monotonic()
        with pytest.raises(ContainerError) as caught, exclusive("demo", tmp_path):
            pass
        at_once = time.monotonic() - t0
        assert f"(pid {proc.pid}) is working on demo" in caught.value.message
        # "At once" against a caller that waits 2 s, timed in the same run: on a slow machine both take
        # longer, and the one that does not wait still comes back well before the other.
        t0 = time.monotonic()
        with pytest.raises(ContainerError), exclusive("demo", tmp_path, wait_s=2.0):
            pass
        waited = time.monotonic() - t0
        assert waited >= 2.0 and at_once < waited - 1.0, (at_once, waited)
    finally:
        proc.kill()
        proc.wait()
    with exclusive("demo", tmp_path):  # the lock died with its process
        assert holder_pid(lock_path("demo", tmp_path)) == os.getpid()


def test_a_waiting_caller_gets_the_lock_once_the_holder_is_done(tmp_path: Path) -> None:
    proc = _holder(tmp_path, 0.5)
    try:
        t0 = time.monotonic()
        with exclusive("demo", tmp_path, wait_s=10):
            waited = time.monotonic() - t0
        assert 0.2 < waited < 10
    finally:
        proc.wait(timeout=10)


def test_lock_files_live_in_a_directory_of_the_users_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    assert lock_path("demo") == tmp_path / "run" / "gpuless" / "gpuless-demo.lock"
    with exclusive("demo"):
        path = lock_path("demo")
        assert path.stat().st_mode & 0o777 == 0o600
        assert path.parent.stat().st_mode & 0o777 == 0o700
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert lock_path("demo") == tmp_path / "cache" / "gpuless" / "locks" / "gpuless-demo.lock"


def test_a_planted_symlink_is_not_followed_and_its_target_not_truncated(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    lock_path("demo", tmp_path).symlink_to(victim)
    with pytest.raises(ContainerError) as caught, exclusive("demo", tmp_path):
        pass
    assert "is a symbolic link; not following it" in caught.value.message
    assert victim.read_text() == "precious\n"


def test_the_holder_may_take_its_lock_again(tmp_path: Path) -> None:
    with exclusive("demo", tmp_path, command="tune"), exclusive("demo", tmp_path):
        assert lock_path("demo", tmp_path).read_text().split() == [str(os.getpid()), "tune"]
    with exclusive("demo", tmp_path):  # released once the outer block ended
        pass


@pytest.mark.docker
def test_up_refuses_a_planted_lock_symlink_in_one_line(ollama_test_image: str, tmp_path: Path) -> None:
    # Another account (or a script) planted the lock file as a link to a file of the user's: `up` says
    # so in one line, exit 1, creates nothing, and the file keeps its bytes.
    project = CliProject(ollama_test_image, tmp_path, "lock")
    project.env["XDG_RUNTIME_DIR"] = str(tmp_path / "run")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    planted = lock_path(project.name, tmp_path / "run" / "gpuless")
    planted.parent.mkdir(parents=True)
    planted.symlink_to(victim)
    try:
        done = project.run(
            "up", "--model", "smollm2:135m", "--port", str(project.port), "--no-pull", "--timeout", "60"
        )
        assert done.returncode == 1, done.stderr
        cli_run.one_error_line(done.stderr, "is a symbolic link; not following it")
        assert victim.read_text() == "precious\n"
        assert not docker.from_env().containers.list(all=True, filters={"name": project.name})
    finally:
        project.remove_all()
