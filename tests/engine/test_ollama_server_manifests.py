"""The stand-in server reads its manifests on every request, as Ollama does, so a model copied into the
store (``gpuless models import``) is listed and served without a restart.

Ollama (ollama/ollama fb30760, v0.33.0-rc2): ``ListHandler`` (server/routes.go:1632) answers from
``modelListCache.List`` (server/model_list_cache.go:145), which calls ``syncManifests``
(server/model_list_cache.go:164) → ``manifest.Manifests(true)`` (manifest/manifest.go:175): a glob of
``manifests/*/*/*/*`` on each request, entries added for new manifests and dropped for removed ones.
The stand-in's ``/api/tags`` lists ``Store.list()`` (tests/ollama_server/api.py ``_tags``), which globs
the same layout on each call; this test pins that.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

import httpx
import pytest

from tests.ollama_server.fixtures import ServerHandle

pytestmark = pytest.mark.engine


def names(url: str) -> set[str]:
    return {m["name"] for m in httpx.get(f"{url}/api/tags", timeout=30).json()["models"]}


def test_a_manifest_written_into_the_store_is_listed_and_shown_without_a_restart(
    ollama_server_factory: Callable[..., ServerHandle],
) -> None:
    server = ollama_server_factory()
    assert names(server.url) == {"smollm2:135m"}
    library = server.models_dir / "manifests" / "registry.ollama.ai" / "library"
    copied = library / "copied" / "v1"
    copied.parent.mkdir(parents=True)
    shutil.copyfile(library / "smollm2" / "135m", copied)  # the blobs are already in blobs/
    assert names(server.url) == {"smollm2:135m", "copied:v1"}
    show = httpx.post(f"{server.url}/api/show", json={"model": "copied:v1"}, timeout=30)
    assert show.status_code == 200 and show.json()["details"]["family"] == "llama"
    copied.unlink()
    assert names(server.url) == {"smollm2:135m"}
    assert server.alive()
