"""Faults around the container's life, on the real engine (issue 11 items 1, 2, 9, 14, 15).

Each runs gpuless as a user would (a separate process) and asserts: the exit code, one clear line on
stderr, no traceback, and that nothing of the user's was lost (a running server, a volume).
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.engine.cli_project import CliProject
from toolkit.adapters.docker.project_lock import holder_pid, lock_path
from toolkit.adapters.ollama import admin as ollama_admin
from toolkit.core.compose.docker_args import spec_to_json
from toolkit.core.compose.spec import LABEL_MANAGED, LABEL_SPEC, build_spec

pytestmark = pytest.mark.docker


class Project(CliProject):
    """A project of the fault tests, with the `up` they run."""

    def __init__(self, image: str, tmp_path: Path) -> None:
        super().__init__(image, tmp_path, "fault")

    def up_args(self, model: str = "smollm2:135m") -> list[str]:
        return [
            "up",
            "--model",
            model,
            "--port",
            str(self.port),
            "--cpus",
            "1",
            "--no-pull",
            "--timeout",
            "120",
        ]


@pytest.fixture
def project(ollama_test_image: str, tmp_path: Path) -> Iterator[Project]:
    made = Project(ollama_test_image, tmp_path)
    yield made
    made.remove_all()


def _clean(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert stderr.strip(), "a failure must say what happened"


def _container(name: str) -> dict[str, object] | None:
    try:
        attrs: dict[str, object] = docker.from_env().api.inspect_container(name)
    except docker.errors.NotFound:
        return None
    return attrs


def test_two_ups_at_once_the_second_touches_nothing(project: Project) -> None:
    # The first `up` holds the project lock only while it creates the container and waits for the server
    # (about a second here), so it is paused (SIGSTOP) the moment it holds the lock: the second `up` then
    # meets it mid-way every time, as it would meet a slow start on a laptop. Only the holder writes its
    # PID into the lock file, so that PID there means the first `up` holds the lock and has said so.
    lock = lock_path(project.name)
    first = project.start(*project.up_args())
    try:
        deadline = time.monotonic() + 60
        while first.poll() is None and time.monotonic() < deadline:
            if holder_pid(lock) == first.pid:
                break
            time.sleep(0.01)
        first.send_signal(signal.SIGSTOP)
        assert project.lock_held(), "the first `up` finished its locked part before it could be paused"
        second = project.run(*project.up_args(), timeout=120)
        first.send_signal(signal.SIGCONT)
        assert second.returncode == 1, second.stderr
        _clean(second.stderr)
        # It names the process at work: the paused `up`.
        assert f"another `gpuless up` (pid {first.pid}) is working on" in second.stderr
        _, err = first.communicate(timeout=240)
        assert first.returncode == 0, err
    finally:
        if first.poll() is None:
            first.send_signal(signal.SIGCONT)
            first.kill()
    attrs = _container(project.name)
    assert attrs is not None and attrs["State"]["Running"]  # type: ignore[index]
    assert ollama_admin.api_version(f"http://127.0.0.1:{project.port}")  # the winner's server still answers
    assert docker.from_env().volumes.get(project.volume)


def test_a_mistyped_model_leaves_the_running_server_alone(project: Project) -> None:
    done = project.run(*project.up_args())
    assert done.returncode == 0, done.stderr
    before = _container(project.name)
    assert before is not None
    typo = project.run(*project.up_args("smollm2:135mm"))
    assert typo.returncode != 0
    _clean(typo.stderr)
    assert "hint: Did you mean 'smollm2:135m'" in typo.stderr, typo.stderr  # from the catalog's spellings
    after = _container(project.name)
    assert after is not None and after["Id"] == before["Id"]
    assert after["State"]["Running"]  # type: ignore[index]


def test_down_volumes_keeps_a_volume_gpuless_did_not_create(project: Project) -> None:
    docker.from_env().volumes.create(project.volume)  # the user's own, unlabelled
    done = project.run("down", "--volumes")
    assert done.returncode == 1
    _clean(done.stderr)
    assert "was not created by gpuless" in done.stderr
    assert docker.from_env().volumes.get(project.volume)


def test_a_label_of_the_wrong_type_is_one_line_not_a_crash(project: Project, ollama_test_image: str) -> None:
    spec = build_spec(model="smollm2:135m", container_name=project.name, volume_name=project.volume)
    label = json.loads(spec_to_json(spec))
    label["port"] = "eleven"
    docker.from_env().containers.run(
        ollama_test_image, entrypoint=["sh", "-c", "sleep 120"], name=project.name, detach=True,
        network_mode="none", labels={LABEL_MANAGED: "true", LABEL_SPEC: json.dumps(label)},
    )  # fmt: skip
    status = project.run("status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["exists"] is True
    done = project.run("verify")
    assert done.returncode == 2, done.stderr
    _clean(done.stderr)
    assert len(done.stderr.strip().splitlines()) <= 2, done.stderr  # the error and its hint
    assert "port='eleven'" in done.stderr
    # `up` replaces the damaged container of its own (managed label) with a good one.
    done = project.run(*project.up_args())
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_during_up_removes_what_it_created(project: Project, signum: signal.Signals) -> None:
    process = project.start(*project.up_args())
    deadline = time.monotonic() + 60
    while _container(project.name) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _container(project.name) is not None, "up never created its container"
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, err
    assert f"stopped by {signum.name}" in err and "Traceback" not in err
    assert _container(project.name) is None
    assert not docker.from_env().volumes.list(filters={"name": project.volume})


def test_a_model_switch_with_up_updates_the_compose_file(project: Project) -> None:
    made = project.run("compose", "--model", "smollm2:135m", "--port", str(project.port), "--cpus", "1")
    assert made.returncode == 0, made.stderr
    done = project.run(
        "up", "--model", "gemma3:270m", "--port", str(project.port), "--cpus", "1", "--no-pull"
    )
    assert done.returncode == 0, done.stderr
    assert "Updated compose.yaml for gemma3:270m" in done.stderr
    text = (project.dir / "compose.yaml").read_text()
    assert '"gemma3:270m"' in text and "gemma3:270m-gpuless" in text
    backups = list(project.dir.glob("compose.yaml.*.bak"))
    assert len(backups) == 1 and '"smollm2:135m"' in backups[0].read_text()
    # The file and the server agree: a plain `up` reuses what runs.
    again = project.run("up", "--no-pull")
    assert again.returncode == 0 and "reused" in again.stdout, again.stderr
