"""One plan: the wizard and `gpuless compose` write byte-identical compose.yaml for the same choice.

The wizard is driven as a user would (type the tag in the Model step, Enter, n to Compose, s to save);
the CLI is run with the same profile and model. Three hardware profiles and one model the catalog does
not know (no memory limit; said in the file).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from tests.cli_run import run
from toolkit.adapters.resources import resolve_profile
from toolkit.core.machine.profile import machine_from_profile
from toolkit.settings import Settings
from toolkit.tui.app import create_app
from toolkit.tui.deps import WizardDeps

from .conftest import settle

CASES = [
    ("apple-m1-8gb", "qwen2.5:1.5b"),
    ("laptop-16gb-ddr5", "qwen3:4b-instruct-2507-q4_K_M"),
    ("laptop-32gb-ddr5", "qwen2.5:7b"),
    ("laptop-16gb-ddr4", "somebody/custom-model:3b"),
]


@pytest.mark.parametrize(("profile", "model"), CASES)
async def test_wizard_and_cli_write_the_same_file(
    profile: str,
    model: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("GPULESS_IMAGE", raising=False)
    monkeypatch.delenv("GPULESS_CONTAINER_NAME", raising=False)
    monkeypatch.delenv("GPULESS_VOLUME_NAME", raising=False)
    machine = machine_from_profile(resolve_profile(profile))
    services = WizardDeps(
        settings=Settings(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache"),
        detect=lambda: machine,
        compose_dir=tmp_path / "wizard",
        launch_mode="attach",
    )
    app = create_app(services, start="model")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.query_one("#model-tag", Input).focus()
        await pilot.press(*model, "enter")  # enter uses the tag and goes on to Compose
        await settle(pilot)
        assert app.current_mode == "compose"
        await pilot.press("s")
        await settle(pilot)
    wizard_file = services.compose_path
    assert wizard_file.is_file(), "the Compose step did not save"

    code, out, err = run(["compose", "--profile", profile, "--model", model, "--print"], capsys)
    assert code == 0, err
    assert wizard_file.read_text(encoding="utf-8") == out
    if "custom" in model:
        assert "no memory limit was set" in err  # said on the terminal ...
        assert "No memory limit: gpuless does not know" in out.replace("\n    # ", " ")  # ... and in the file
