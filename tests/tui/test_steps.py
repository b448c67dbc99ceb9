"""Pilot tests of the Model, Compose, Launch and Benchmark steps (real catalog, real files, real servers)."""

from __future__ import annotations

import dataclasses
import time
import uuid
from typing import Any

import pytest
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Input, Static

from tests.tui.notes import error_messages, notes_of
from toolkit.adapters.bench.history import History
from toolkit.core.machine.hardware import Machine
from toolkit.tui.app import create_app
from toolkit.tui.deps import WizardDeps
from toolkit.tui.plan import Pick

from .conftest import settle, text_of, tiny_bench

MODEL = "smollm2:135m"


async def test_model_table_ranks_the_catalog_and_rows_update_the_pick(services: WizardDeps) -> None:
    app = create_app(services, start="model")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        assert table.row_count > 10
        pick = app.choice
        assert isinstance(pick, Pick)
        assert table.get_row_at(table.cursor_row)[0] == pick.tag
        details = text_of(app.screen.query_one("#model-details", Static))
        assert details.startswith(f"Pick: {pick.tag}") and "RAM" in details and "TTFT" in details
        # Another target speed re-ranks.
        app.screen.query_one("#model-target").value = 30.0
        await settle(pilot)
        assert app.screen.recommendation.target_tps == 30.0  # type: ignore[attr-defined]
        # Moving the cursor shows that row's estimate; enter makes it the pick and goes on to Compose.
        table.focus()
        await pilot.press("down")
        other = str(table.get_row_at(table.cursor_row)[0])
        assert other != app.choice.tag
        assert text_of(app.screen.query_one("#model-details", Static)).startswith(f"Row: {other}")
        await pilot.press("enter")
        await settle(pilot)
        assert app.choice.tag == other and app.current_mode == "compose"
        assert app.spec is not None and app.spec.model == other


async def test_model_step_shows_memory_in_gib_only(services: WizardDeps) -> None:
    app = create_app(services, start="model")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        assert str(table.columns["ram"].label) == "GiB"  # the column's unit, so its cells are bare numbers
        ram = [
            str(table.get_cell_at(Coordinate(i, table.get_column_index("ram"))))
            for i in range(table.row_count)
        ]
        assert all(float(cell) > 0 for cell in ram), ram
        # Sub-GiB sizes keep two decimals instead of collapsing to "0.0".
        assert any(cell.startswith("0.") and len(cell) == 4 and cell != "0.00" for cell in ram), ram
        details = text_of(app.screen.query_one("#model-details", Static))
        assert "MiB" not in details and "KV 0.0 GiB" not in details, details


async def test_compose_saves_then_diffs_and_replaces_with_a_backup(services: WizardDeps) -> None:
    services.compose_dir.mkdir(parents=True)
    app = create_app(services, start="compose")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen: Any = app.screen
        assert "services:" in screen.text and "# " in screen.text  # the YAML with its comments
        await pilot.press("s")
        path = services.compose_path
        assert path.read_text() == screen.text
        assert app.compose_path == path
        # The user edits the file; the wizard refuses to overwrite it, shows the diff, then backs it up.
        path.write_text(screen.text.replace("OLLAMA_KEEP_ALIVE", "OLLAMA_KEEP_ALIVE_EDITED"))
        await pilot.press("s")
        assert "EDITED" in path.read_text()
        assert screen.showing_diff
        assert "exists and differs" in text_of(screen.query_one("#compose-status", Static))
        refusal = notes_of(app)[-1]
        assert "shift+s" in refusal.message and "--force" not in refusal.message
        await pilot.press("S")
        assert path.read_text() == screen.text
        backups = list(path.parent.glob("compose.yaml.*.bak"))
        assert len(backups) == 1 and "EDITED" in backups[0].read_text()


@pytest.mark.engine
async def test_launch_attach_pulls_with_progress_and_reports_ready(
    services: WizardDeps, ollama_server_factory: Any
) -> None:
    server = ollama_server_factory(pull=())
    app = create_app(dataclasses.replace(services, ollama_url=server.url), start="launch")
    async with app.run_test(size=(100, 30)) as pilot:
        app.screen.query_one("#launch-model", Input).value = MODEL
        await pilot.press("ctrl+s")
        await settle(pilot, 120)
        assert app.engine == (server.url, MODEL)
        pull = text_of(app.screen.query_one("#launch-pull .transfer-detail", Static))
        assert "pulled" in pull
        bar = app.screen.query_one("#launch-pull ProgressBar")
        assert bar.total and bar.progress == bar.total  # type: ignore[attr-defined]


def _docker_services(services: WizardDeps, machine: Machine, image: str) -> WizardDeps:
    """WizardDeps for a real Docker launch: this engine, the test image, a free port, and container and
    volume names of this test's own."""
    from tests.ollama_server.fixtures import free_port
    from toolkit.adapters.machine.probes import probe_docker

    suffix = uuid.uuid4().hex[:8]
    settings = services.settings.model_copy(
        update={"container_name": f"gpuless-tui-{suffix}", "volume_name": f"gpuless-tui-{suffix}"}
    )
    real = dataclasses.replace(machine, docker=probe_docker())
    return dataclasses.replace(
        services,
        settings=settings,
        detect=lambda: real,
        launch_mode="docker",
        image=image,
        ollama_url=f"http://127.0.0.1:{free_port()}",
    )


@pytest.mark.docker
async def test_launch_docker_starts_verifies_and_cleans_up(
    services: WizardDeps, machine: Machine, ollama_test_image: str
) -> None:
    from toolkit.adapters.docker.runner import DockerRunner

    svc = _docker_services(services, machine, ollama_test_image)
    settings = svc.settings
    app = create_app(svc, start="launch")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            app.screen.query_one("#launch-model", Input).value = MODEL
            await pilot.press("ctrl+s")
            await settle(pilot, 240)
            # Chat and Benchmark get the served model: the one carrying the tuned threads and context.
            assert app.engine == (svc.url, f"{MODEL}-gpuless"), notes_of(app)
            verify = text_of(app.screen.query_one("#launch-verify", Static))
            assert "OLLAMA_CONTEXT_LENGTH" in verify and "applied" in verify and "threads" in verify
    finally:
        DockerRunner().down(settings.container_name, volume=settings.volume_name)


async def test_launch_without_docker_notifies_and_frees_the_step_keys(
    services: WizardDeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    app = create_app(dataclasses.replace(services, launch_mode="docker"), start="launch")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.screen.query_one("#launch-model", Input).value = MODEL
        app.screen.query_one("#launch-model", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        errors = [n for n in notes_of(app) if n.severity == "error"]
        assert errors and errors[-1].title == "Launch: Docker is not available"
        assert "What to do:" in errors[-1].message
        assert "No Docker engine answers" in text_of(app.screen.query_one("#launch-result", Static))
        # Focus left the model field, so a step key moves on instead of landing in the tag.
        assert app.screen.focused is app.screen.query_one("#launch-start")
        await pilot.press("5")
        assert app.current_mode == "benchmark"


@pytest.mark.docker
async def test_launch_docker_cancel_in_the_health_wait_removes_what_it_created(
    services: WizardDeps, machine: Machine, ollama_test_image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import docker

    from toolkit.adapters.docker import readback as docker_readback
    from toolkit.adapters.docker.runner import DockerRunner

    # The stand-in server answers within a second of its start; a real Ollama scanning a large models
    # directory takes longer. The API probe is made to see a server that does not answer yet, so the wait
    # lasts until Docker's first healthcheck (5 s) and the test can press Esc inside it.
    monkeypatch.setattr(docker_readback, "_answers", lambda url: False)
    svc = _docker_services(services, machine, ollama_test_image)
    settings = svc.settings
    app = create_app(svc, start="launch")
    runner = DockerRunner()
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.screen.query_one("#launch-model", Input).value = MODEL
            await pilot.press("ctrl+s")
            health = app.screen.query_one("#launch-health .transfer-detail", Static)
            deadline = time.monotonic() + 90  # a loaded machine may take a while to create and start it
            # The row says "starting, waiting for the server to answer" as the launch begins, a moment
            # before the container exists: Esc goes in once both are true.
            while time.monotonic() < deadline and not (
                "waiting for the server" in text_of(health) and runner.find(settings.container_name)
            ):
                await pilot.pause(0.05)
            assert "waiting for the server to answer" in text_of(health)
            assert runner.find(settings.container_name) is not None
            await pilot.press("escape")
            await settle(pilot, 60)
            # It stopped inside the health wait: the model pull never began, and nothing is left.
            assert text_of(app.screen.query_one("#launch-pull .transfer-detail", Static)) == "waiting"
            assert "Cancelled" in text_of(app.screen.query_one("#launch-result", Static))
            assert runner.find(settings.container_name) is None
            with pytest.raises(docker.errors.NotFound):
                runner.client.api.inspect_volume(settings.volume_name)
            assert app.engine is None
            assert not error_messages(app)
    finally:
        runner.down(settings.container_name, volume=settings.volume_name)


@pytest.mark.engine
async def test_benchmark_runs_live_and_stores_history(
    services: WizardDeps, ollama_server: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Other work on the machine as the run starts (controlled: the reading a run takes before its first
    # request), so the calibration must be left alone, and the wizard must say why.
    import toolkit.adapters.machine.probes

    monkeypatch.setattr(toolkit.adapters.machine.probes, "busy_share", lambda: 0.8)
    svc = dataclasses.replace(
        services,
        ollama_url=ollama_server.url,
        history_path=tmp_path / "history.sqlite3",
        # the quick plan of `gpuless bench`, smaller (one shape) and never cut short by its time bound
        bench_overrides={
            "reps": 2,
            "num_predict": 16,
            "shapes": ("chat",),
            "concurrency": (1, 2),
            "max_seconds": 120,
        },
    )
    app = create_app(svc, start="benchmark")
    async with app.run_test(size=(120, 40)) as pilot:
        app.engine = (ollama_server.url, MODEL)
        await pilot.press("b")
        await settle(pilot, 180)
        screen: Any = app.screen
        reps = screen.query_one("#bench-reps")
        assert len(reps.tps) == 2 + 1 + 2, [
            n.message for n in notes_of(app)
        ]  # two repetitions, then 1 + 2 streams of the sweep
        assert all(t > 0 for t in reps.tps)
        assert [lv[0] for lv in screen.query_one("#bench-levels").levels] == [1, 2]
        result = text_of(screen.query_one("#bench-result", Static))
        assert "decode tok/s" in result and "complete" in result
        live = text_of(screen.query_one("#bench-live", Static))
        # grade, users held and NUM_PARALLEL, each with its reason, and the two rates explained
        assert live.startswith("grade ") and "slowest stream" in live  # either grade has its figures
        assert "users held: " in live and "TTFT p95 ≤ 10 s" in live
        assert "OLLAMA_NUM_PARALLEL=" in live
        with History(svc.history_path) as history:
            summary = history.list_runs(1)[0].summary
        assert summary is not None
        # Which NUM_PARALLEL reason shows depends on the machine's load; the stored run says which is due.
        held_c = summary["users_per_grade"]["15"] > 0
        due = "within 10% of the best aggregate" if held_c else "no level held the C line"
        assert due in live, (summary["users_per_grade"], live)
        assert "per stream = one stream's decode rate" in live
        progress = text_of(screen.query_one("#bench-progress", Static))
        assert progress.startswith("[5/5 · ") and "s left]" in progress  # requests done of planned, ETA
        history = text_of(screen.query_one("#bench-history", Static))
        assert "Earlier runs" in history and MODEL in history
        # A run on a busy machine leaves the calibration alone, as `gpuless bench` does, and says why: the
        # wizard passed its busy reading on. (Whether a run is stored is decided by record_benchmark and
        # pinned over controlled figures in tests/services/test_estimating.py; here the fixed laptop's
        # prediction is over 100 times the test server's speed, a ratio no calibration keeps, so an empty file
        # would prove nothing.)
        assert "Calibration of this machine left alone: the machine was busy with other work (80%" in live
        assert "(B runs a benchmark that leaves it alone)" in live


@pytest.mark.engine
async def test_benchmark_without_a_launch_uses_the_servers_model(
    services: WizardDeps, ollama_server: Any, tmp_path: Any
) -> None:
    # A server the user already runs (no Launch in this session): its first model is benchmarked.
    from tests.ollama_server import MODEL_NAMES

    svc = dataclasses.replace(
        services,
        ollama_url=ollama_server.url,
        history_path=tmp_path / "history.sqlite3",
        bench_overrides=tiny_bench(),
    )
    app = create_app(svc, start="benchmark")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "(its first model)" in text_of(app.screen.query_one("#bench-status", Static))
        await pilot.press("b")
        await settle(pilot, 120)
        result = text_of(app.screen.query_one("#bench-result", Static))
        assert "(complete)" in result and any(name in result for name in MODEL_NAMES)
        assert not error_messages(app)


async def test_benchmark_with_no_server_says_what_to_do(services: WizardDeps) -> None:
    from tests.ollama_server.fixtures import free_port

    svc = dataclasses.replace(services, ollama_url=f"http://127.0.0.1:{free_port()}")
    app = create_app(svc, start="benchmark")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot, 30)
        notes = [n for n in notes_of(app) if "No model to benchmark" in n.message]
        assert notes and notes[0].severity == "warning" and "Launch step" in notes[0].message
        assert not error_messages(app)
        assert text_of(app.screen.query_one("#bench-result", Static)) == ""
