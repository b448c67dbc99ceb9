"""The Ollama lifecycle against the real Docker engine and the local test image (real llama.cpp inside).

compose → up → healthy → model pulled → a streamed generation → verify → down, with nothing left
behind; idempotent ``up``; memlock refused by this engine and retried; port already taken; engine
unreachable; missing image with no registry. Every test uses its own container/volume names and a
free loopback port, and its fixture removes them even when the test fails. Traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import dataclasses
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ollama
import pytest
import yaml

from tests.ollama_server.fixtures import free_port
from toolkit.adapters.compose_file import write_compose
from toolkit.adapters.docker.runner import DockerRunner, connect
from toolkit.adapters.ollama import admin as ollama_admin
from toolkit.adapters.progress import Progress
from toolkit.core.compose.docker_args import spec_to_json
from toolkit.core.compose.read import read_compose_text
from toolkit.core.compose.render import render_compose_yaml
from toolkit.core.compose.spec import LABEL_MANAGED, LABEL_REFUSED, OllamaServiceSpec, build_spec
from toolkit.errors import DockerUnavailableError, ImageError, ModelNotFoundError, PortInUseError
from toolkit.services.launch import up_and_pull
from toolkit.services.server_url import server_url
from toolkit.settings import Settings
from toolkit.tui.deps import WizardDeps

MODEL = "smollm2:135m"
GIB = 1024**3

pytestmark = [pytest.mark.docker]


@pytest.fixture
def runner() -> DockerRunner:
    try:
        return DockerRunner(connect(timeout=10))
    except DockerUnavailableError as error:
        pytest.skip(f"Docker engine not reachable: {error.message}")


@pytest.fixture
def names(runner: DockerRunner) -> Iterator[tuple[str, str]]:
    """Unique container and volume names; both are removed at teardown whatever happened."""
    tag = uuid.uuid4().hex[:8]
    container, volume = f"gpuless-t-{tag}", f"gpuless-t-{tag}-models"
    yield container, volume
    runner.remove_quietly(container)
    runner.remove_volume_quietly(volume)


def make_spec(runner: DockerRunner, image: str, names: tuple[str, str], **changes: Any) -> OllamaServiceSpec:
    container, volume = names
    spec = build_spec(
        model=MODEL,
        context_length=2048,
        mem_limit_bytes=2 * GIB,
        cpus=1,
        engine=runner.engine_info(),
        network="host",  # the only networking this engine has (--bridge=none)
        memlock=True,  # forced: this engine refuses it, which these tests exercise
        port=free_port(),
        image=image,
        container_name=container,
        volume_name=volume,
    )
    return dataclasses.replace(spec, **changes) if changes else spec


def leftovers(runner: DockerRunner, names: tuple[str, str]) -> tuple[list[str], list[str]]:
    """Containers and volumes carrying the gpuless label whose names belong to this test."""
    api = runner.client.api
    containers = [
        c["Names"][0].lstrip("/")
        for c in api.containers(all=True, filters={"label": f"{LABEL_MANAGED}=true"})
        if c["Names"][0].lstrip("/").startswith(names[0])
    ]
    volumes = [
        v["Name"]
        for v in (api.volumes(filters={"label": f"{LABEL_MANAGED}=true"}).get("Volumes") or [])
        if v["Name"].startswith(names[0])
    ]
    unlabelled = [v["Name"] for v in (api.volumes().get("Volumes") or []) if v["Name"] == names[1]]
    return containers, sorted(set(volumes) | set(unlabelled))


@pytest.mark.engine
def test_compose_up_generate_verify_down_leaves_nothing(
    runner: DockerRunner, ollama_test_image: str, names: tuple[str, str], tmp_path: Path
) -> None:
    spec = make_spec(runner, ollama_test_image, names)
    # compose: the file gpuless writes is the spec `up` starts.
    compose_path = tmp_path / "compose.yaml"
    write_compose(compose_path, render_compose_yaml(spec))
    read = read_compose_text(compose_path.read_text())
    from_file = read.spec
    assert not read.edited and spec_to_json(from_file) == spec_to_json(spec)
    assert yaml.safe_load(compose_path.read_text())["services"]["ollama"]["network_mode"] == "host"

    events: list[Progress] = []
    result = up_and_pull(runner, from_file, progress=events.append, health_timeout=120)
    assert result.action == "created" and result.url == f"http://127.0.0.1:{spec.port}"
    assert not result.image_pulled  # present locally: the pull is skipped
    assert result.created_volume
    # This engine refuses memlock -1 at start: the runner retried without it and says so.
    assert result.refused == ("memlock",)

    # `up` returned when the API answered; Docker's own healthcheck (what compose's service_healthy
    # waits for) then passes by itself on its first run, one interval after the start.
    attrs = runner.find(spec.container_name)
    assert attrs is not None
    deadline = time.monotonic() + 120  # one 5 s interval on a quiet machine; a bound for a slow one
    while attrs["State"]["Health"]["Status"] != "healthy" and time.monotonic() < deadline:
        time.sleep(0.5)
        attrs = runner.find(spec.container_name)
        assert attrs is not None
    assert attrs["State"]["Health"]["Status"] == "healthy"
    assert attrs["Config"]["Labels"][LABEL_REFUSED] == "memlock"
    # The model came through /api/pull with progress, and is now listed.
    assert ollama_admin.has_model(result.url, MODEL)
    model_events = [e for e in events if e.phase == "model"]
    statuses = [e.status for e in model_events]
    assert "success" in statuses and statuses[-1] == f"creating {spec.served_model}"
    assert ollama_admin.has_model(result.url, spec.served_model)  # the tuned model every client uses

    # A streamed generation over loopback with the official client, threads as the spec says.
    client = ollama.Client(host=result.url, timeout=120)
    chunks = list(
        client.generate(
            model=MODEL,
            prompt="Say hello.",
            stream=True,
            options={"num_predict": 8, "temperature": 0, "num_thread": spec.num_thread},
        )
    )
    assert sum(1 for c in chunks if c.response) >= 1
    assert chunks[-1].done and (chunks[-1].eval_count or 0) >= 1

    report = runner.verify(spec.container_name, warnings=result.warnings)
    assert report.row("memlock").status == "refused"
    assert report.row("memlock").actual == "8192 kB"  # read with `ulimit -l` inside the container
    assert report.row("mem_swappiness").status == "applied"  # cgroup v1 engine
    assert report.row("memswap_limit").status == "applied"
    assert report.row("cpus").status == "applied" and report.row("cpus").actual == "1"
    context = report.row("OLLAMA_CONTEXT_LENGTH")
    assert context.status == "applied" and context.why.startswith("/api/ps"), context  # model is loaded
    assert report.row("healthcheck").actual.endswith("(healthy)")

    # The healthcheck really fails when no server answers (unlike `ollama --version`).
    exec_id = runner.client.api.exec_create(
        attrs["Id"], ["ollama", "list"], environment={"OLLAMA_HOST": f"127.0.0.1:{free_port()}"}
    )
    runner.client.api.exec_start(exec_id)
    assert runner.client.api.exec_inspect(exec_id)["ExitCode"] != 0

    status = runner.status(spec.container_name)
    assert status.state == "running" and status.model == MODEL and status.ollama_version
    assert any("Listening on" in line for line in runner.logs(spec.container_name, tail=200))

    runner.down(spec.container_name, volume=spec.volume_name)
    assert leftovers(runner, names) == ([], [])
    assert not runner.status(spec.container_name).exists


def test_up_is_idempotent_and_a_changed_config_recreates(
    runner: DockerRunner, ollama_test_image: str, names: tuple[str, str]
) -> None:
    spec = make_spec(runner, ollama_test_image, names)
    first = runner.up(spec, health_timeout=120)
    assert first.action == "created" and first.refused == ("memlock",)
    # Only the retried container exists: the refused first attempt was removed.
    assert leftovers(runner, names)[0] == [spec.container_name]
    ulimit = runner._exec(first.container_id, ["sh", "-c", "ulimit -l"])
    assert ulimit is not None and ulimit.strip() == "8192"

    again = runner.up(spec, health_timeout=120)
    assert again.action == "reused" and again.container_id == first.container_id
    assert again.refused == ("memlock",)  # still reported, read back from the label

    changed = dataclasses.replace(spec, context_length=4096)
    third = runner.up(changed, health_timeout=120)
    assert third.action == "recreated" and third.container_id != first.container_id
    attrs = runner.find(spec.container_name)
    assert attrs is not None and "OLLAMA_CONTEXT_LENGTH=4096" in attrs["Config"]["Env"]
    assert leftovers(runner, names)[0] == [spec.container_name]

    runner.down(spec.container_name, volume=spec.volume_name)
    assert leftovers(runner, names) == ([], [])


def test_port_already_taken_fails_before_anything_is_created(
    runner: DockerRunner, ollama_test_image: str, names: tuple[str, str]
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen(1)
        port = squatter.getsockname()[1]
        spec = make_spec(runner, ollama_test_image, names, port=port)
        with pytest.raises(PortInUseError) as caught:
            runner.up(spec, health_timeout=30)
    assert str(port) in caught.value.message and "--port" in (caught.value.hint or "")
    assert leftovers(runner, names) == ([], [])


@pytest.mark.engine
def test_a_refused_change_leaves_the_running_server_alone(
    runner: DockerRunner, ollama_test_image: str, names: tuple[str, str]
) -> None:
    first = runner.up(make_spec(runner, ollama_test_image, names, port=free_port()), health_timeout=60)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen(1)
        taken = squatter.getsockname()[1]
        with pytest.raises(PortInUseError):
            runner.up(make_spec(runner, ollama_test_image, names, port=taken), health_timeout=30)
    with pytest.raises(ImageError):
        runner.up(make_spec(runner, "gpuless-test/no-such-image:x", names), pull_image=False)
    still = runner.status(names[0])
    assert still.state == "running" and still.id and first.container_id.startswith(still.id)


@pytest.mark.engine
def test_bench_and_chat_find_the_container_gpuless_started(
    runner: DockerRunner,
    ollama_test_image: str,
    names: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GPULESS_OLLAMA_URL", raising=False)
    monkeypatch.setenv("GPULESS_CONTAINER_NAME", names[0])
    assert server_url(None, Settings()) == Settings().ollama_url  # nothing of ours runs yet
    port = free_port()
    runner.up(make_spec(runner, ollama_test_image, names, port=port), health_timeout=60)
    assert server_url(None, Settings()) == f"http://127.0.0.1:{port}"
    # The wizard's Chat and Benchmark steps follow the same rule.
    assert WizardDeps(settings=Settings()).resolve_url() == f"http://127.0.0.1:{port}"
    assert server_url("http://127.0.0.1:1", Settings()) == "http://127.0.0.1:1"  # --url wins
    monkeypatch.setenv("GPULESS_OLLAMA_URL", "http://127.0.0.1:2")
    assert server_url(None, Settings()) == "http://127.0.0.1:2"  # and so does the setting


def test_missing_image_without_a_registry_is_a_clear_error_and_leaves_nothing(
    runner: DockerRunner, names: tuple[str, str]
) -> None:
    image = "ollama/ollama:latest"
    if runner.has_image(image):
        pytest.skip(f"{image} is present on this engine; the no-registry failure path cannot be shown")
    spec = make_spec(runner, image, names)
    with pytest.raises(ImageError) as no_pull:
        runner.up(spec, pull_image=False)
    assert "--no-pull" in no_pull.value.message
    with pytest.raises(ImageError) as pulled:
        runner.up(spec, health_timeout=30)
    assert pulled.value.message.startswith(f"pulling {image} failed")
    assert "--image" in (pulled.value.hint or "")
    assert leftovers(runner, names) == ([], [])


def test_failed_model_pull_removes_the_container_it_created(
    runner: DockerRunner, ollama_test_image: str, names: tuple[str, str]
) -> None:
    spec = make_spec(runner, ollama_test_image, names, model="no-such-model:1b")
    with pytest.raises(ModelNotFoundError):
        up_and_pull(runner, spec, health_timeout=120)
    assert leftovers(runner, names) == ([], [])


def test_engine_unreachable_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such-docker.sock")
    with pytest.raises(DockerUnavailableError) as caught:
        connect(timeout=3)
    assert "not reachable" in caught.value.message and "no-such-docker.sock" in caught.value.message
    assert caught.value.hint and "DOCKER_HOST" in caught.value.hint


def test_down_while_another_removal_is_under_way(
    runner: DockerRunner, ollama_test_image: str, names: tuple[str, str]
) -> None:
    # A cancelled TUI launch may still be removing its container when the user runs `gpuless down`;
    # the engine then answers 409 "removal ... already in progress". `down` waits for it instead.
    import threading

    api = runner.client.api
    for attempt in range(3):
        name = f"{names[0]}-{attempt}"
        created = api.create_container(
            ollama_test_image, command=["sleep", "60"], name=name, labels={LABEL_MANAGED: "true"},
            host_config=api.create_host_config(network_mode="host"),
        )  # fmt: skip
        api.start(created["Id"])
        racing = threading.Thread(target=runner.remove_quietly, args=(created["Id"],))
        racing.start()
        result = runner.down(name)
        racing.join(timeout=30)
        assert result["removed"] is True and runner.find(name) is None


def test_logs_follow_until_the_container_stops_with_no_time_bound(ollama_test_image: str) -> None:
    # `gpuless logs -f` follows like `docker logs -f`: until the container stops (it stopped after 300 s).
    runner = DockerRunner()
    name = f"gpuless-t-logs-{uuid.uuid4().hex[:8]}"
    script = "echo first; while [ ! -e /tmp/go ]; do sleep 0.2; done; echo second"
    container = runner.client.containers.run(
        ollama_test_image, entrypoint=["sh", "-c", script], name=name, detach=True, network_mode="none"
    )
    try:
        lines = runner.logs(name, follow=True)  # no max_seconds: no time bound
        assert next(lines) == "first"
        container.exec_run(["touch", "/tmp/go"])  # the second line comes while the log is followed
        assert list(lines) == ["second"]  # ... and the follow ends when the container does
    finally:
        container.remove(force=True)
