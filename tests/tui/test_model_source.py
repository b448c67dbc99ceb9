"""The Launch step, Docker mode, with a model the volume lacks: it says so and offers, besides pulling,
``i`` (import a ``gpuless models export`` folder) and ``f`` (fetch from a teammate's share), which put
the model into a real Docker volume through the same services as the CLI.

The import uses a small model folder made here (a config blob and a "weights" blob, with its manifest
and SHA256SUMS): an import checks names, sizes and digests, never runs the model. The fetch goes to the
real gateway of ``tests/share/test_model_fetch.py``'s share (smollm2:135m on 127.0.0.2).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from tests.share.conftest import gateway_image  # noqa: F401 (a fixture the share fixture needs)
from tests.share.test_model_fetch import SMOL, Source, source  # noqa: F401 (source is a fixture)
from toolkit.services.model_copy import Target, has_model
from toolkit.settings import Settings
from toolkit.tui.app import create_app
from toolkit.tui.deps import WizardDeps

from .conftest import settle, text_of

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("models-copy")]

TINY = "tiny-test:1b"


def tiny_export(folder: Path) -> Path:
    """A folder as `gpuless models export` writes it, for a two-blob model named ``TINY``."""
    blobs = {b'{"model_format":"gguf","model_family":"tiny"}': "config", b"GGUF" + b"\x01" * 4096: "model"}
    layers = []
    for data, kind in blobs.items():
        digest = hashlib.sha256(data).hexdigest()
        (folder / "blobs").mkdir(parents=True, exist_ok=True)
        (folder / "blobs" / f"sha256-{digest}").write_bytes(data)
        layers.append({"mediaType": f"application/vnd.ollama.image.{kind}", "digest": f"sha256:{digest}",
                       "size": len(data)})  # fmt: skip
    manifest = json.dumps({"schemaVersion": 2, "config": layers[0], "layers": layers[1:]}).encode()
    path = folder / "manifests" / "registry.ollama.ai" / "library" / "tiny-test" / "1b"
    path.parent.mkdir(parents=True)
    path.write_bytes(manifest)
    files = [("manifests/registry.ollama.ai/library/tiny-test/1b", hashlib.sha256(manifest).hexdigest())]
    files += [(f"blobs/{p.name}", p.name.removeprefix("sha256-")) for p in (folder / "blobs").iterdir()]
    (folder / "SHA256SUMS").write_text("".join(f"{h}  {p}\n" for p, h in files))
    return folder


@pytest.fixture
def docker_services(tmp_path: Path, ollama_test_image: str, services: WizardDeps) -> Iterator[WizardDeps]:
    """The wizard in Docker mode on a volume of its own (removed afterwards)."""
    volume = f"gpuless-t-tui-source-{uuid.uuid4().hex[:8]}"
    settings = Settings(
        data_dir=tmp_path / "data", cache_dir=tmp_path / "cache", volume_name=volume, image=ollama_test_image
    )
    try:
        yield WizardDeps(
            settings=settings, detect=services.detect, compose_dir=tmp_path / "project", launch_mode="docker"
        )
    finally:
        for found in docker.from_env().volumes.list(filters={"name": volume}):
            found.remove(force=True)


async def _missing(pilot: Pilot[None], model: str) -> None:
    screen = pilot.app.screen
    screen.query_one("#launch-model", Input).value = model
    await pilot.pause(1.0)  # the field settles, then the volume is looked into
    await settle(pilot)
    status = text_of(screen.query_one("#source-status", Static))
    assert status.startswith(f"{model} is not on this laptop"), status
    assert screen.check_action("bring", ()) is True
    screen.set_focus(None)  # esc: out of the model field, so i and f are keys


async def test_a_missing_model_is_imported_from_a_file(docker_services: WizardDeps, tmp_path: Path) -> None:
    folder = tiny_export(tmp_path / "export")
    where = Target(docker_services.settings.volume_name, docker_services.settings.image)
    app = create_app(docker_services, start="launch")
    async with app.run_test(size=(110, 34)) as pilot:
        await settle(pilot)
        await _missing(pilot, TINY)
        await pilot.press("i")
        path = app.screen.query_one("#source-path", Input)
        assert path.display and app.focused is path
        path.value = str(folder)
        await pilot.press("enter")
        await settle(pilot)
        status = text_of(app.screen.query_one("#source-status", Static))
        assert status.startswith(f"{TINY} imported from {folder} into volume {where.volume}"), status
        assert "every sha256 checked" in status
        assert app.screen.check_action("bring", ()) is False  # nothing missing any more
    assert has_model(where, TINY)


async def test_a_missing_model_is_fetched_from_a_teammate(
    docker_services: WizardDeps,
    source: Source,  # noqa: F811 (the fixture imported above)
) -> None:
    where = Target(docker_services.settings.volume_name, docker_services.settings.image)
    app = create_app(docker_services, start="launch")
    async with app.run_test(size=(110, 34)) as pilot:
        await settle(pilot)
        await _missing(pilot, SMOL)
        await pilot.press("f")
        url = app.screen.query_one("#source-url", Input)
        assert app.focused is url and not app.screen.query_one("#source-path", Input).display
        url.value = source.url
        await pilot.press("enter")  # on to the key
        key = app.screen.query_one("#source-key", Input)
        assert app.focused is key
        key.value = "gpl_" + "z" * 40  # a wrong key first: one line, nothing added
        await pilot.press("enter")
        await settle(pilot)
        status = text_of(app.screen.query_one("#source-status", Static))
        assert status.startswith("Not brought: ") and "refused the key (HTTP 401)" in status, status
        assert not has_model(where, SMOL)
        key.value = source.alice.secret
        key.focus()
        await pilot.press("enter")
        await settle(pilot, 120)
        status = text_of(app.screen.query_one("#source-status", Static))
        assert status.startswith(f"{SMOL} fetched from {source.url} into volume {where.volume}"), status
    assert has_model(where, SMOL)
