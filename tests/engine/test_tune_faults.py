"""Faults of `gpuless tune` on the real engine (issue 20 items 4 to 8 and 12's --mem-cap), run as a user
runs it (a separate process) against the stand-in image.

Each row asserts the exit code, one clear line, no traceback, nothing left behind (no backup, no
temporary file, the lock free) and nothing of the user's lost (the file byte for byte, the container
that ran before). The refusals come before the budget is spent: they are timed against it. The tests
that need a tune to run (the lock, the double interrupt, a killed container) ask for a TTFT p95 of 1 ms,
which no configuration meets on any CPU, so no winner is applied however fast the machine is; the
one that writes a winner names it (which one wins depends on the machine). One container for the
module (file order: the test that applies a winner runs last).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import docker
import pytest

from tests import cli_run
from tests.engine.test_tune_docker import Project
from toolkit.adapters.bench.history import History
from toolkit.adapters.docker.project_lock import holder_pid, lock_path
from toolkit.core.tune.knobs import Knobs, Objective
from toolkit.services.container_tune import apply_winner, prepare

pytestmark = pytest.mark.docker

#: A TTFT p95 no configuration meets: the tune measures, finds no winner, and restores the start.
NO_WINNER = ("--users", "4", "--ttft-p95", "0.001")


@pytest.fixture(scope="module")
def started(ollama_test_image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    made = Project(ollama_test_image, tmp_path_factory.mktemp("tunefault"))
    try:
        done = made.run("compose", "--model", "smollm2:135m", "--cpus", "1", "--port", str(made.port))
        assert done.returncode == 0, done.stderr
        done = made.run("up", "--no-pull", "--timeout", "120")
        assert done.returncode == 0, done.stderr
        yield made
    finally:
        made.remove_all()


@pytest.fixture
def project(started: Project) -> Iterator[Project]:
    """The module's container at its start; after each test: nothing left behind beside the file."""
    assert started.env_of_container()["OLLAMA_NUM_PARALLEL"] == "1"
    assert started.container()["State"]["Running"]
    before = set(started.dir.iterdir())
    yield started
    left = {p.name for p in set(started.dir.iterdir()) - before if p.name not in ("cache", "data")}
    assert not {n for n in left if n.endswith((".bak", ".tmp", ".probe"))}, left
    assert not started.lock_held(), "the project lock outlived the tune"


def _history_statuses(project: Project) -> list[str]:
    path = project.dir / "data" / "history.sqlite3"
    if not path.exists():
        return []
    with History(path) as store:
        return [run.status for run in reversed(store.list_runs()) if run.api == "tune"]


def _read_only(directory: Path) -> None:
    """Make ``directory`` read-only for this user: root ignores mode bits, so it gets a read-only bind
    mount instead (root in this test container has CAP_SYS_ADMIN)."""
    import os

    if os.geteuid() != 0:
        directory.chmod(0o555)
        return
    subprocess.run(["mount", "--bind", str(directory), str(directory)], check=True)
    subprocess.run(["mount", "-o", "remount,bind,ro", str(directory)], check=True)


def _writable_again(directory: Path) -> None:
    import os

    if os.geteuid() != 0:
        directory.chmod(0o755)
        return
    subprocess.run(["umount", str(directory)], check=True)


def test_tune_in_a_read_only_directory_is_refused_before_the_budget(project: Project) -> None:
    ro = project.dir / "ro"
    ro.mkdir()
    shutil.copy(project.compose, ro / "compose.yaml")
    before_id = project.container()["Id"]
    _read_only(ro)
    try:
        budget = 60
        t0 = time.monotonic()
        done = project.run("tune", "-f", "ro/compose.yaml", *NO_WINNER, "--budget", str(budget))
        wall = time.monotonic() - t0
    finally:
        _writable_again(ro)
    assert done.returncode == 2, done.stderr
    cli_run.one_error_line(done.stderr, "cannot write in", "ro")
    assert wall < budget  # refused before the budget, not after it
    assert "Tuning" not in done.stdout
    assert (ro / "compose.yaml").read_bytes() == project.compose.read_bytes()
    assert project.container()["Id"] == before_id  # never restarted


def test_a_mem_cap_below_the_running_configuration_says_so_before_the_budget(project: Project) -> None:
    before_id = project.container()["Id"]
    before_text = project.compose.read_bytes()
    budget = 60
    t0 = time.monotonic()
    done = project.run("tune", "--mem-cap", "50m", "--budget", str(budget))
    wall = time.monotonic() - t0
    assert done.returncode == 2, done.stderr
    cli_run.one_error_line(done.stderr, "the running configuration already", "over --mem-cap 50 MiB")
    assert "no candidate could be measured" not in done.stdout + done.stderr
    assert wall < budget
    assert project.container()["Id"] == before_id
    assert project.compose.read_bytes() == before_text


def test_a_file_whose_edits_leave_no_place_for_the_winner_is_refused_before_the_budget(
    project: Project,
) -> None:
    # The user deleted the slots line: no winner with more slots could be written without it.
    original = project.compose.read_text()
    edited = original.replace('      OLLAMA_NUM_PARALLEL: "1"\n', "")
    assert edited != original
    project.compose.write_text(edited)
    try:
        before_id = project.container()["Id"]
        budget = 60
        t0 = time.monotonic()
        done = project.run("tune", "--users", "4", "--budget", str(budget))
        wall = time.monotonic() - t0
        assert done.returncode == 2, done.stderr
        cli_run.one_error_line(done.stderr, "cannot tune compose.yaml: a winner could not be written into it")
        assert "hint: Undo that edit, or regenerate the file" in done.stderr
        assert wall < budget
        assert project.compose.read_text() == edited
        assert project.container()["Id"] == before_id
    finally:
        project.compose.write_text(original)


def test_a_second_tune_or_a_bench_during_a_tune_is_refused_naming_it(project: Project) -> None:
    before_text = project.compose.read_bytes()
    before = project.fingerprint()
    runs_before = len(_history_statuses(project))
    first = project.start("tune", *NO_WINNER, "--budget", "900")  # stopped long before it is spent
    try:
        deadline = time.monotonic() + 60
        while first.poll() is None and time.monotonic() < deadline:
            if holder_pid(lock_path(project.name)) == first.pid:
                break
            time.sleep(0.05)
        assert holder_pid(lock_path(project.name)) == first.pid, "the tune never took the project lock"
        holder = f"another `gpuless tune` (pid {first.pid}) is working on {project.name}"
        second = project.run("tune", *NO_WINNER, "--budget", "10")
        assert second.returncode == 1, second.stderr
        cli_run.one_error_line(second.stderr, holder)
        bench = project.run(
            "bench", "--no-history", "--model", "smollm2:135m-gpuless", "--url",
            f"http://127.0.0.1:{project.port}", "--reps", "1", "--num-predict", "8", "--concurrency", "1",
        )  # fmt: skip
        assert bench.returncode == 1, bench.stderr
        cli_run.one_error_line(bench.stderr, holder)
        up = project.run("up", "--no-pull", "--timeout", "30")
        assert up.returncode == 1, up.stderr
        cli_run.one_error_line(up.stderr, holder)
        first.send_signal(signal.SIGINT)
        _, err = first.communicate(timeout=180)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 130, err
    assert "running again" in err
    assert _history_statuses(project)[runs_before:] == ["incomplete"]  # the refused ones stored nothing
    assert project.fingerprint() == before
    assert project.container()["State"]["Running"]
    assert project.compose.read_bytes() == before_text


def test_a_second_interrupt_during_the_restore_leaves_the_previous_configuration_running(
    project: Project,
) -> None:
    # The first Ctrl-C lands while a candidate runs; the SIGTERM the moment the tune says it restores the
    # start. Held back through the restore, it stops the tune only once the start runs again.
    before_text = project.compose.read_bytes()
    before = project.fingerprint()
    runs_before = len(_history_statuses(project))
    # The budget only has to outlast the wait for a candidate: the start's measurement alone takes
    # minutes when other processes take the cores. The tune is stopped long before it is spent.
    tune = project.start("tune", *NO_WINNER, "--budget", "900")
    lines = cli_run.Lines(tune)
    try:
        deadline = time.monotonic() + 600
        changed = False
        while time.monotonic() < deadline and tune.poll() is None and not changed:
            try:
                changed = project.fingerprint() != before
            except docker.errors.NotFound:  # between remove and create
                changed = True
            time.sleep(0.2)
        assert changed, "the tune never restarted the container with a candidate"
        time.sleep(2)  # mid-candidate: restarting or measuring
        tune.send_signal(signal.SIGINT)
        assert lines.wait_for("restoring the configuration that ran before", 60), lines.lines
        tune.send_signal(signal.SIGTERM)
        tune.wait(timeout=180)
        err = tune.stderr.read() if tune.stderr else ""
    finally:
        if tune.poll() is None:
            tune.kill()
    assert tune.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err, err
    assert "gpuless: tune interrupted (SIGTERM); the configuration that ran before is running again" in err
    assert project.container()["State"]["Running"]
    assert project.fingerprint() == before
    assert project.env_of_container()["OLLAMA_NUM_PARALLEL"] == "1"
    assert project.compose.read_bytes() == before_text
    assert _history_statuses(project)[runs_before:] == ["incomplete"]  # stored, however it ended


def test_a_container_killed_during_the_first_measurement_is_reported(project: Project) -> None:
    # The container is paused before the tune starts, so the tune's first measurement waits on it; it is
    # killed once the tune has said it is measuring. (The engine kills a paused container too.)
    before_text = project.compose.read_bytes()
    api = docker.from_env().api
    api.pause(project.name)
    tune = project.start("tune", "--users", "1", "--budget", "30")
    lines = cli_run.Lines(tune)
    try:
        assert lines.wait_for("candidate(s)", 60), lines.lines
        api.kill(project.name)
        tune.wait(timeout=120)
        err = tune.stderr.read() if tune.stderr else ""
    finally:
        if tune.poll() is None:
            tune.kill()
        if project.container()["State"]["Paused"]:
            api.unpause(project.name)
    try:
        assert tune.returncode == 1, err
        cli_run.one_error_line(err, f"the container {project.name} has stopped", "exit code 137")
        assert "keeps running" not in "".join(lines.lines)
        assert _history_statuses(project)[-1] == "failed"
        assert project.compose.read_bytes() == before_text
    finally:
        again = project.run("up", "--no-pull", "--timeout", "120")  # the next test's start
        assert again.returncode == 0, again.stderr


def test_a_winner_keeps_the_users_edits_and_writes_through_a_symlink(project: Project) -> None:
    # The user's extra variable, comments and a whole web UI service; compose.yaml a link to the file.
    # Which candidate wins depends on the machine's speed, so the winner is named here: the session
    # `gpuless tune` runs (the same prepare, restart and write) with two slots as the winner.
    original = project.compose.read_text()
    edited = (
        original.replace(
            '      OLLAMA_KEEP_ALIVE: "30m"\n',
            '      OLLAMA_KEEP_ALIVE: "30m"\n      # mine: the proxy my network needs\n'
            '      HTTPS_PROXY: "http://127.0.0.1:3128"\n',
        )
        + "  # my web UI\n  webui:\n    image: ghcr.io/open-webui/open-webui:main\n"
        + '    ports: ["127.0.0.1:3000:8080"]\n    mem_limit: "1280m"\n'
    )
    real = project.dir / "conf" / "compose.yaml"
    real.parent.mkdir()
    real.write_text(edited)
    project.compose.unlink()
    project.compose.symlink_to(Path("conf") / "compose.yaml")
    try:
        session = prepare(project.compose, Objective.for_users(4), 60)
        knobs = replace(Knobs.of(session.spec), num_parallel=2)
        session.target.apply(knobs)  # the tuner leaves its winner running
        applied = apply_winner(session, knobs)
        assert project.compose.is_symlink()  # still a link, the file it points to rewritten
        after = real.read_text()
        backups = list(real.parent.glob("compose.yaml.*.bak"))
        assert [Path(applied["backup"])] == backups and backups[0].read_text() == edited
        assert not list(project.dir.glob("compose.yaml.*.bak"))
        assert 'OLLAMA_NUM_PARALLEL: "2"' in after
        assert project.env_of_container()["OLLAMA_NUM_PARALLEL"] == "2"
        rows = {row["knob"]: row for row in applied["verify"]["rows"]}
        assert rows["OLLAMA_NUM_PARALLEL"]["status"] == "applied"
        # Everything else is the user's, line for line: only tuned settings and their comments changed.
        tuned = ("OLLAMA_NUM_PARALLEL", "mem_limit", "memswap_limit", "io.gpuless.", "#")
        lost = [line for line in edited.splitlines() if line not in after.splitlines()]
        assert lost and all(any(key in line for key in tuned) for line in lost), lost
        assert len(after.splitlines()) == len(edited.splitlines())
        for kept in ("HTTPS_PROXY", "# mine: the proxy", "webui:", "open-webui", "# my web UI", "3000:8080"):
            assert kept in after
        assert after.splitlines()[:12] == edited.splitlines()[:12]  # the header, as it was
        assert after.count("unknown engine") == edited.count("unknown engine")
        assert after.count("asked for with --network host") == edited.count("asked for with --network host")
        # `gpuless up` finds the file and the container in agreement: nothing to recreate.
        running = project.container()["Id"]
        again = project.run("up", "--no-pull", "--timeout", "120")
        assert again.returncode == 0, again.stderr
        assert project.container()["Id"] == running
    finally:
        project.compose.unlink()
        project.compose.write_text(original)
