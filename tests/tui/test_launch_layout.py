"""Launch step at 80x24: the Model field and the Start button are on screen and Tab moves between them."""

from __future__ import annotations

from textual.widgets import Button, Input

from toolkit.tui.app import create_app
from toolkit.tui.services import Services

from .conftest import settle


async def test_model_field_and_start_are_visible_and_reached_with_tab(services: Services) -> None:
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

        assert focused() is start
        await pilot.press("tab")
        assert focused() is field
        await pilot.press("tab")
        assert focused() is start
