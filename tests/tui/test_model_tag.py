"""Model step: the Enter hint, and the field for any Ollama tag with its prediction (or none)."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Static

from toolkit.tui.app import create_app
from toolkit.tui.plan import Pick
from toolkit.tui.screens.model import HINT, TypedTag
from toolkit.tui.services import Services

from .conftest import settle, text_of


def details(app: object) -> str:
    return text_of(app.screen.query_one("#model-details", Static))  # type: ignore[attr-defined]


async def test_the_enter_hint_and_the_tag_field_show_at_80x24(services: Services) -> None:
    app = create_app(services, start="model")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        hint = app.screen.query_one("#model-hint", Static)
        assert text_of(hint) == HINT and "Enter: use it and go on" in HINT
        field = app.screen.query_one("#model-tag", Input)
        for widget in (hint, field):
            region = widget.region
            assert region.height > 0 and region.bottom <= 23, widget  # on screen, above the footer
        assert app.screen.query_one(DataTable).size.height >= 5


async def test_a_catalog_tag_gets_its_estimate_and_enter_uses_it(services: Services) -> None:
    app = create_app(services, start="model")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.screen.query_one("#model-tag", Input).focus()
        await pilot.press(*"qwen2.5:1.5b")  # digits and dots stay in the field: no step switch
        assert app.current_mode == "model"
        assert app.screen.query_one("#model-tag", Input).value == "qwen2.5:1.5b"
        text = details(app)
        assert "qwen2.5:1.5b" in text and "RAM" in text and "TTFT" in text and "grade" in text
        await pilot.press("enter")  # enter uses it and goes on, as on a row
        await settle(pilot)
        assert isinstance(app.choice, Pick) and app.choice.tag.startswith("qwen2.5:1.5b")
        assert app.current_mode == "compose"
        assert app.spec is not None and app.spec.model == app.choice.tag


async def test_a_tag_with_no_size_says_no_estimate_and_is_used_as_typed(services: Services) -> None:
    app = create_app(services, start="model")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        ranked = app.screen.recommendation  # type: ignore[attr-defined]
        app.screen.query_one("#model-tag", Input).focus()
        await pilot.press(*"someone/tiny-model")
        assert "no estimate" in details(app)
        await pilot.press("enter")
        assert app.choice == TypedTag(
            "someone/tiny-model", ranked.context, ranked.users, ranked.kv_cache_type
        )


async def test_an_unknown_tag_with_a_size_is_estimated_from_its_name(services: Services) -> None:
    app = create_app(services, start="model")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.screen.query_one("#model-tag", Input).focus()
        await pilot.press(*"someone/tiny-model:42m")
        text = details(app)
        assert "no estimate" not in text and "someone/tiny-model:42m" in text and "TTFT" in text
        assert "Estimated from the name alone" in text  # and how rough that is
        await pilot.press("enter")
        assert isinstance(app.choice, Pick) and app.choice.tag == "someone/tiny-model:42m"


async def test_digits_typed_in_the_launch_model_field_stay_there(services: Services) -> None:
    app = create_app(services, start="launch")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        field = app.screen.query_one("#launch-model", Input)
        field.focus()
        field.value = ""
        await pilot.press(*"gemma3:270m", "1", "5")
        assert app.current_mode == "launch" and field.value == "gemma3:270m15"
