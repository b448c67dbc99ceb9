"""The share's connect page in a real headless browser (Debian's chromium), opened without a key.

The browser renders what nginx returns at ``/`` on "the LAN" (127.0.0.2): the page must tell a visitor how
to connect (the URL, the models, snippets with a placeholder where the key goes) and show nothing secret
(no secret from the key file in the DOM). Marked ``browser``: under GPULESS_REQUIRE_ENGINES=1 (CI) a
missing chromium fails the run instead of skipping (tests/conftest.py).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.ollama_server import MODEL_NAMES
from tests.share.conftest import Shared

pytestmark = [pytest.mark.browser, pytest.mark.docker]


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("chromium is not installed: run scripts/prepare-test-machine.sh")
    return path


def browse(chromium: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        chromium,
        "--headless",
        "--no-sandbox",  # tests run as root in a container, where chromium's sandbox cannot start
        "--disable-gpu",
        "--no-proxy-server",  # loopback only, whatever the environment's proxy says
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_the_browser_shows_how_to_connect_and_no_secret(
    shared: Shared, chromium: str, tmp_path: Path
) -> None:
    done = browse(chromium, tmp_path, "--dump-dom", shared.url + "/")
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert "A model shared with gpuless" in dom
    assert f"OPENAI_BASE_URL={shared.url}/v1" in dom and "OPENAI_API_KEY=YOUR-KEY" in dom
    assert f'base_url="{shared.url}/v1", api_key="YOUR-KEY"' in dom
    assert f'curl -H "Authorization: Bearer YOUR-KEY" {shared.url}/v1/models' in dom
    for model in MODEL_NAMES:  # the models the share served when it started
        assert f"<code>{model}</code>" in dom, model
    keys = json.loads((shared.settings.share_dir / "keys.json").read_text())["keys"]
    assert len(keys) >= 2  # the admin key and alice's
    for key in keys:
        assert key["secret"] not in dom, key["name"]
    assert "gpl_" not in dom


def test_the_page_renders_to_a_screenshot(shared: Shared, chromium: str, tmp_path: Path) -> None:
    shot = tmp_path / "page.png"
    done = browse(chromium, tmp_path, f"--screenshot={shot}", "--window-size=900,1200", shared.url + "/")
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    # A page of text on white compresses far less than an empty white one (about 5 kB at this size).
    assert len(data) > 20_000, len(data)
