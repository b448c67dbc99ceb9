"""Model step's table: the note column, rows below the speed target marked, the key under the table, and
on a Mac native Ollama's Metal figure beside Docker's (issue 24)."""

from __future__ import annotations

import dataclasses

from textual.widgets import DataTable, Select, Static

from toolkit.core.estimate.grades import GRADE_KEY, grade_line
from toolkit.core.machine.hardware import Bandwidth, CpuInfo, Machine
from toolkit.core.recommend.candidate import short_note
from toolkit.tui.app import create_app
from toolkit.tui.deps import WizardDeps

from .conftest import laptop, settle, text_of


async def test_rows_below_the_target_are_red_and_say_slow_and_the_key_explains(services: WizardDeps) -> None:
    app = create_app(services, start="model")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.query_one("#model-target", Select).value = grade_line("C")
        await settle(pilot)
        rec = app.screen.recommendation  # type: ignore[attr-defined]
        assert rec.target_tps == grade_line("C")
        table = app.screen.query_one(DataTable)
        slow = [c for c in rec.candidates if not c.meets_target]
        fast = [c for c in rec.candidates if c.meets_target]
        assert slow and fast
        for c in rec.candidates:
            speed = table.get_cell(c.tag, "tps")
            assert str(speed) == f"{c.decode_tps:.1f}"
            assert (speed.style == "red") is (not c.meets_target), c.tag
            note = str(table.get_cell(c.tag, "note"))
            assert note == short_note(c)
            assert ("slow" in note) is (c.fits and not c.meets_target), c.tag
        key = text_of(app.screen.query_one("#model-key", Static))
        assert GRADE_KEY in key and "<C under 15" in key and "under your 15 tok/s target" in key
        assert "metal" not in key  # not a Mac


async def test_the_key_fits_80_columns_with_rows_left_for_the_table(services: WizardDeps) -> None:
    app = create_app(services, start="model")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        key = app.screen.query_one("#model-key", Static)
        assert key.region.height == 2 and key.region.bottom <= 23
        assert "note" in [str(col.label) for col in app.screen.query_one(DataTable).columns.values()]


def _mac() -> Machine:
    """The fixture laptop as a MacBook Air M2 (Docker Desktop's VM, as before)."""
    return dataclasses.replace(
        laptop(),
        os="darwin",
        cpu=CpuInfo("Apple M2", "arm64", 8, 8, ("dotprod", "neon"), performance_cores=4),
        bandwidth=Bandwidth(75.0, "profile", "fixture"),
    )


async def test_a_mac_gets_native_metal_figures_beside_dockers(services: WizardDeps) -> None:
    mac = _mac()
    app = create_app(dataclasses.replace(services, detect=lambda: mac), start="model")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        rec = app.screen.recommendation  # type: ignore[attr-defined]
        assert rec.pick is not None and rec.metal
        table = app.screen.query_one(DataTable)
        labels = [str(col.label) for col in table.columns.values()]
        assert labels[1:3] == ["tok/s", "metal"]
        metal = rec.metal[rec.pick.tag]
        assert str(table.get_cell(rec.pick.tag, "metal")) == f"{metal.decode_tps:.1f}"
        details = text_of(app.screen.query_one("#model-details", Static))
        assert "native Ollama on the GPU (Apple M2, Metal)" in details
        assert "native Ollama (Metal, `gpuless up --runtime native`)" in details
        key = text_of(app.screen.query_one("#model-key", Static))
        assert "metal: native Ollama on the Mac's GPU" in key


async def test_on_a_mac_the_launch_step_offers_native_ollama_beside_docker(services: WizardDeps) -> None:
    """Docker answers (or is assumed to), yet ``r`` is offered: on a Mac native Ollama is the fast path."""
    mac = _mac()
    app = create_app(dataclasses.replace(services, detect=lambda: mac, launch_mode="docker"), start="launch")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.machine == mac  # detected at start
        screen = app.screen
        assert screen.no_docker is False  # type: ignore[attr-defined]
        assert screen.check_action("native", ()) is True and screen.check_action("attach", ()) is False
        screen.show_mode()  # type: ignore[attr-defined]
        assert "runs native Ollama on this Mac's GPU" in text_of(screen.query_one("#launch-mode", Static))
    linux = create_app(dataclasses.replace(services, launch_mode="docker"), start="launch")
    async with linux.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert linux.screen.check_action("native", ()) is False  # with Docker, not on Linux
