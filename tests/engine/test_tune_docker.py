"""`gpuless tune` on the real engine, run as a user runs it (a separate process), against the stand-in
image: a winner written back, applied and verified; no winner → nothing changed; Ctrl-C → the previous
configuration running again; the budget honoured.

The module writes compose.yaml once with `gpuless compose --model smollm2:135m --cpus 1` (one llama.cpp
thread: on this shared 2-core machine a 2-thread runner collapses whenever another process takes a
core), starts it with `gpuless up`, and removes the container and volume at the end. Each test checks it
finds that start (one slot, no backup); the one that applies a winner runs last.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from tests.engine import tune_pace
from tests.engine.cli_project import CliProject
from tests.ollama_server.fixtures import free_port
from toolkit.adapters.docker.server_slots import server_slots

pytestmark = pytest.mark.docker

#: What a tune may take past its --budget on a quiet run here: the restart back to the start (or of the
#: winner) after the last measurement (5-8 s), the winner's final measurement (at most
#: tuner.AFTER_GRACE_S = 20 s past the budget), `verify`, and the process's own start-up. A slower
#: machine gets more (tune_pace.margin_s, from the module's own `up`).
MARGIN_S = 40.0


class Project(CliProject):
    """A project of the tune tests, with what they read back from its container."""

    run_timeout = 900.0  # a tune's budget and margin at half a core

    def __init__(self, image: str, tmp_path: Path) -> None:
        super().__init__(image, tmp_path, "tune")
        self.up_s = 0.0  # how long its `gpuless up` took: a restart at this machine's pace

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def margin_s(self) -> float:
        return tune_pace.margin_s(MARGIN_S, self.up_s)

    @property
    def compose(self) -> Path:
        return self.dir / "compose.yaml"

    def container(self) -> dict[str, Any]:
        attrs: dict[str, Any] = docker.from_env().api.inspect_container(self.name)
        return attrs

    def env_of_container(self) -> dict[str, str]:
        return dict(e.partition("=")[::2] for e in self.container()["Config"]["Env"])

    def fingerprint(self) -> str:
        return str(self.container()["Config"]["Labels"]["io.gpuless.fingerprint"])


@pytest.fixture(scope="module")
def started(ollama_test_image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    """One container for the module (each start costs ~10 s): the tests that leave the configuration as
    they found it run first, the one that applies a winner runs last (file order)."""
    made = Project(ollama_test_image, tmp_path_factory.mktemp("tune"))
    try:
        done = made.run("compose", "--model", "smollm2:135m", "--cpus", "1", "--port", str(made.port))
        assert done.returncode == 0, done.stderr
        t0 = time.monotonic()
        done = made.run("up", "--no-pull", "--timeout", "120")
        made.up_s = time.monotonic() - t0
        assert done.returncode == 0, done.stderr
        yield made
    finally:
        made.remove_all()


@pytest.fixture
def project(started: Project) -> Project:
    """The module's container, still at its start: one slot, the compose file never rewritten."""
    assert started.env_of_container()["OLLAMA_NUM_PARALLEL"] == "1"
    assert not list(started.dir.glob("compose.yaml.*.bak"))
    return started


def _clean(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr


def test_no_winner_changes_nothing_and_budget_honoured(project: Project) -> None:
    # No configuration answers within 1 ms (a prompt's prefill alone takes longer on any CPU), so no
    # candidate can win however fast this machine is. How many are tried within the budget depends on its
    # speed (none on a slow one); which reason is given then is tested with a controlled clock in
    # tests/engine/test_tuner.py.
    before_text = project.compose.read_bytes()
    before_id = project.container()["Id"]
    budget = 10  # the least --budget takes
    t0 = time.monotonic()
    done = project.run("tune", "--users", "4", "--ttft-p95", "0.001", "--budget", str(budget))
    wall = time.monotonic() - t0
    assert done.returncode == 0, done.stderr
    _clean(done.stderr)
    assert wall <= budget + project.margin_s()
    assert "Nothing changed" in done.stdout, done.stdout
    assert project.compose.read_bytes() == before_text
    assert not list(project.dir.glob("compose.yaml.*.bak"))
    assert project.container()["Id"] == before_id


def test_a_ctrl_c_mid_tune_runs_the_previous_configuration_again(project: Project) -> None:
    # SIGTERM and SIGHUP take the same path (toolkit.adapters.interrupts.STOPPING); a SIGTERM ending a
    # tune on the real engine is tests/engine/test_tune_faults.py's (it lands during the restore).
    signum, named = signal.SIGINT, "Ctrl-C"
    before_text = project.compose.read_bytes()
    before = project.fingerprint()
    # Room for the start's two measurements and a candidate's restart at this machine's pace.
    budget = tune_pace.budget_for_one_candidate(150, tune_pace.measurement_s(project.url, 4))
    tune = project.start("tune", "--users", "4", "--budget", f"{budget:g}")
    try:
        deadline = time.monotonic() + budget
        changed = False
        while time.monotonic() < deadline and tune.poll() is None:
            try:
                changed = project.fingerprint() != before
            except docker.errors.NotFound:  # between remove and create
                changed = True
            if changed:
                break
            time.sleep(0.2)
        assert changed, "the tune never restarted the container with a candidate"
        time.sleep(2)  # mid-candidate: restarting or measuring
        tune.send_signal(signum)
        _, err = tune.communicate(timeout=120)
    finally:
        if tune.poll() is None:
            tune.kill()
    assert tune.returncode == 128 + signum, err
    _clean(err)
    assert f"tune interrupted ({named})" in err and "running again" in err
    assert project.fingerprint() == before
    assert project.env_of_container()["OLLAMA_NUM_PARALLEL"] == "1"
    assert project.container()["State"]["Running"]
    assert project.compose.read_bytes() == before_text


def test_bench_against_one_slot_points_to_tune(project: Project) -> None:
    # A sweep of 1 and 4 streams against a server with one slot: no advice, `tune` instead. (A short
    # plan with a long time bound: the quick plan's 30 s can end before the sweep on a busy machine.)
    done = project.run(
        "bench", "--no-history", "--reps", "1", "--shape", "chat", "--num-predict", "16",
        "--concurrency", "1,4", "--max-seconds", "150", timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    _clean(done.stderr)
    assert (
        "OLLAMA_NUM_PARALLEL: no advice from this sweep: the server runs OLLAMA_NUM_PARALLEL=1" in done.stdout
    )
    assert "`gpuless tune --users 4`" in done.stdout
    assert "OLLAMA_NUM_PARALLEL=1:" not in done.stdout


@pytest.mark.quiet
def test_four_users_winner_written_applied_and_verified_within_budget(project: Project) -> None:
    before = project.compose.read_text()
    assert project.env_of_container()["OLLAMA_NUM_PARALLEL"] == "1"
    url = f"http://127.0.0.1:{project.port}"
    assert server_slots(url) == 1  # what bench reads to know its sweep is capped
    assert server_slots(f"http://127.0.0.1:{free_port()}") is None  # no gpuless container there
    # 40 s fits the first candidate (4 slots) on a quiet run here; a slower machine gets room for it too.
    budget = tune_pace.budget_for_one_candidate(40, tune_pace.measurement_s(url, 4))
    t0 = time.monotonic()
    done = project.run("tune", "--users", "4", "--budget", f"{budget:g}", "--json")
    wall = time.monotonic() - t0
    assert done.returncode == 0, done.stderr
    _clean(done.stderr)
    assert wall <= budget + project.margin_s()
    payload = json.loads(done.stdout)
    figures = {k: payload[k] for k in ("reason", "spread", "start", "candidates")}
    assert payload["winner"] is not None, json.dumps(figures)
    knobs = payload["winner"]["knobs"]
    assert knobs["num_parallel"] > 1
    # Every candidate's measurements, the start's two runs, the reason and the proof after applying.
    assert len(payload["start"]["runs"]) == 2 and payload["candidates"]
    assert all(c["runs"] or c["error"] for c in payload["candidates"])
    assert payload["after"]["ttft_p95_s"] < payload["start"]["runs"][0]["ttft_p95_s"]
    # Written back through the safe write: the new file, the old one kept as the backup.
    text = project.compose.read_text()
    assert f'OLLAMA_NUM_PARALLEL: "{knobs["num_parallel"]}"' in text
    assert (project.dir / payload["backup"]).read_text() == before  # relative to the working directory
    # The container runs the new settings, and verify says so.
    assert project.env_of_container()["OLLAMA_NUM_PARALLEL"] == str(knobs["num_parallel"])
    assert project.container()["State"]["Running"]
    assert server_slots(url) == knobs["num_parallel"]
    rows = {row["knob"]: row for row in payload["verify"]["rows"]}
    assert rows["OLLAMA_NUM_PARALLEL"]["status"] == "applied"
    assert rows["OLLAMA_NUM_PARALLEL"]["actual"] == str(knobs["num_parallel"])
    # A second `up` sees nothing to change: the file and the container agree.
    again = project.run("up", "--no-pull", "--timeout", "120")
    assert again.returncode == 0, again.stderr
    assert project.env_of_container()["OLLAMA_NUM_PARALLEL"] == str(knobs["num_parallel"])
