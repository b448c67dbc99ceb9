"""Launch step at 80x24: the Model field and the Start button are on screen, Tab moves between them, and
with no model yet the field has the keys."""

from __future__ import annotations

from textual.widgets import Button, Input

from toolkit.tui.app import create_app
from toolkit.tui.deps import WizardDeps

from .conftest import settle


async def test_model_field_and_start_are_visible_and_reached_with_tab(services: WizardDeps) -> None:
    app = create_app(services, start="launch")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        field = app.screen.query_one("#launch-model", Input)
        start = app.screen.query_one("#launch-start", Button)
        for widget in (field, start):
            region = widget.region
            assert region.width >= 5 and region.right <= 80 and region.bottom <= 23, (widget, region)

        def focused() -> object:  # read again after each key (mypy would narrow a plain attribute)
            return app.focused

        assert focused() is field  # no model yet: the field has the keys
        await pilot.press("tab")
        assert focused() is start
        await pilot.press("tab")
        assert focused() is field
        await pilot.press("escape")  # nothing to cancel: esc leaves the field, and step keys work
        assert focused() is None
        await pilot.press("2")
        assert app.current_mode == "model"


async def test_a_tag_typed_on_arrival_goes_into_the_field(services: WizardDeps) -> None:
    # Straight to Launch with no model: typing a tag types it (its letters and digits are not step keys).
    app = create_app(services, start="launch")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(*"smollm2:135m")
        assert app.current_mode == "launch"
        assert app.screen.query_one("#launch-model", Input).value == "smollm2:135m"
