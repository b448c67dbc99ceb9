"""The wizard shell: navigation by key, step bar and palette; help; errors as notifications; NO_COLOR."""

from __future__ import annotations

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import Static

from tests.tui.notes import notes_of
from toolkit.core.machine.hardware import Machine
from toolkit.errors import DockerUnavailableError
from toolkit.tui.app import create_app
from toolkit.tui.deps import WizardDeps
from toolkit.tui.notify import TITLES, describe_error
from toolkit.tui.screens.help import HelpScreen
from toolkit.tui.steps import STEP_IDS, STEPS

from .conftest import settle, text_of


async def test_number_keys_and_next_back_reach_every_step(services: WizardDeps) -> None:
    app = create_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.current_mode == "machine"
        for step in STEPS:
            await pilot.press(step.key)
            assert app.current_mode == step.id
            assert step.id == type(app.screen).STEP_ID  # type: ignore[attr-defined]
        await pilot.press("escape")  # leaves the chat prompt, so digits are step keys again
        await pilot.press("1")
        visited = [app.current_mode]
        for _ in STEP_IDS[1:]:
            app.screen.set_focus(None)  # n is a step key only when no text field takes it
            await pilot.press("n")
            visited.append(app.current_mode)
        assert visited == list(STEP_IDS)
        await pilot.press("n")  # past the end: stays
        assert app.current_mode == "chat"
        app.screen.set_focus(None)
        await pilot.press("p")
        assert app.current_mode == "benchmark"


async def test_step_bar_names_are_clickable(services: WizardDeps) -> None:
    app = create_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        bar = app.screen.query_one("#stepbar", Static)
        text = str(bar.render())
        column = text.index("4 Launch")
        assert await pilot.click("#stepbar", offset=(column + 1, 0))
        await pilot.pause()
        assert app.current_mode == "launch"


async def test_help_opens_and_closes(services: WizardDeps) -> None:
    app = create_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)


async def test_command_palette_goes_to_a_step(services: WizardDeps) -> None:
    app = create_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"go to bench")
        # The palette searches in the background: Enter goes in once the step is the highlighted match
        # (bounded for a slow machine), not after a fixed pause.
        commands = app.screen.query_one(CommandList)
        for _ in range(600):
            option = commands.highlighted_option
            if option is not None and "Go to Benchmark" in str(option.prompt):
                break
            await pilot.pause(0.05)
        await pilot.press("enter")
        await pilot.pause()
        assert app.current_mode == "benchmark"


async def test_detection_runs_off_the_ui_thread_and_fills_the_machine_screen(
    services: WizardDeps, machine: Machine
) -> None:
    app = create_app(services)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        assert app.machine == machine
        facts = text_of(app.screen.query_one("#machine-facts", Static))
        assert "AMD Ryzen 7 7840U" in facts
        warnings = text_of(app.screen.query_one("#machine-warnings", Static))
        assert "Docker Desktop's VM" in warnings
        assert "battery" in warnings


async def test_a_failing_detection_becomes_a_notification_with_a_hint(services: WizardDeps) -> None:
    def broken() -> Machine:
        raise DockerUnavailableError("the Docker engine did not answer", hint="start Docker Desktop")

    app = create_app(WizardDeps(detect=broken, compose_dir=services.compose_dir))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        notes = notes_of(app)
        assert len(notes) == 1
        assert notes[0].severity == "error"
        assert "the Docker engine did not answer" in notes[0].message
        assert "What to do: start Docker Desktop" in notes[0].message
        assert app.is_running  # no crash, no traceback


def test_unexpected_errors_are_described_without_a_traceback() -> None:
    title, body = describe_error(ValueError("bad value"))
    assert title == "Unexpected error"
    assert "ValueError: bad value" in body
    assert "Traceback" not in body
    title, body = describe_error(DockerUnavailableError("no engine", hint="start it"))
    assert title == "Docker is not available"
    assert body == "no engine\nWhat to do: start it"
    # A hint in command-line flags gives way to the wizard's keys; its other sentences stay.
    _, body = describe_error(DockerUnavailableError("no engine", hint="Start it. Or use --runtime native."))
    assert body.startswith("no engine\nWhat to do: Start it. Then press ctrl+s in the Launch step (4)")
    assert "--" not in body


def test_every_error_class_has_a_title_in_words() -> None:
    import toolkit.errors as errors

    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.GpulessError)]
    for cls in classes:
        title, _ = describe_error(cls("x"))
        assert title == TITLES[cls.__name__] and "Error" not in title, cls


@pytest.mark.parametrize("no_color", [True, False])
async def test_no_color_is_respected(
    services: WizardDeps, monkeypatch: pytest.MonkeyPatch, no_color: bool
) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    app = create_app(services)
    async with app.run_test(size=(80, 24)):
        assert app.no_color is no_color
        svg = app.export_screenshot()
    # In monochrome, the stepbar's highlight is drawn without any hue: every fill is a grey.
    fills = {part.split('"')[0] for part in svg.split('fill="#')[1:]}
    chrome = {"ff5f57", "febc2e", "28c840", "c5c8c6"}  # the SVG's window buttons and title, not the app
    hues = {f for f in fills - chrome if len(f) == 6 and not f[0:2] == f[2:4] == f[4:6]}
    assert (not hues) is no_color
