"""``gpuless models`` against a real Docker engine and the stand-in server image.

A source volume gets smollm2:135m and gemma3:270m by a real pull (and a served ``-gpuless`` model by
``/api/create``); they are exported (a tar file, a folder, a tar on stdout), the source is removed with
``gpuless down --volumes``, and the import must bring both back byte for byte, visible in ``/api/tags``
without a restart and usable with no registry at all. Damaged archives must be refused with one line
before anything is written: the target volume is listed (names, sizes, mtimes, hashes) before and after.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest

from tests import cli_run
from tests.engine.cli_project import CliProject
from tests.ollama_server import MODEL_NAMES
from tests.ollama_server.fixtures import pull, wait_until_up
from toolkit.core.compose.spec import LABEL_MANAGED, MODELS_PATH

pytestmark = [pytest.mark.docker, pytest.mark.engine, pytest.mark.xdist_group("models-copy")]

SMOL, GEMMA = MODEL_NAMES
#: Lists every file of a volume with size, mtime and sha256 (the test image has coreutils, no find).
SNAPSHOT = (
    "ls -ld --time-style=+%s /v; ls -lAR --time-style=+%s /v; "
    'for f in /v/models/blobs/* /v/models/manifests/*/*/*/*; do if [ -f "$f" ]; then sha256sum "$f"; fi; done'
)


def helper(image: str, volume: str, script: str) -> str:
    client = docker.from_env()
    output = client.containers.run(
        image, entrypoint=["sh", "-c", script], volumes={volume: {"bind": "/v", "mode": "ro"}},
        network_mode="none", remove=True,
    )  # fmt: skip
    return bytes(output).decode()


def snapshot(image: str, volume: str) -> str:
    return helper(image, volume, SNAPSHOT)


def blob_hashes(image: str, volume: str) -> dict[str, str]:
    """blob file name → sha256 of its bytes, computed inside the volume."""
    out = helper(image, volume, "cd /v/models/blobs && sha256sum sha256-*")
    return {name: hexdigest for hexdigest, name in (line.split() for line in out.splitlines())}


def start_server(image: str, project: CliProject, registry: Path | None = None) -> Any:
    """The stand-in server on the project's volume (labelled as gpuless's, so ``down`` may remove it)."""
    env = {"OLLAMA_HOST": f"127.0.0.1:{project.port}", "OLLAMA_TEST_NUM_THREAD": "1"}
    volumes: dict[str, dict[str, str]] = {project.volume: {"bind": MODELS_PATH, "mode": "rw"}}
    if registry is not None:  # an empty registry: nothing can be pulled
        env["OLLAMA_TEST_REGISTRY"] = "/registry"
        volumes[str(registry)] = {"bind": "/registry", "mode": "ro"}
    container = docker.from_env().containers.run(
        image, detach=True, name=project.name, network_mode="host", environment=env, volumes=volumes,
        labels={LABEL_MANAGED: "true"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{project.port}"
    wait_until_up(url, 120, lambda: docker.from_env().containers.get(container.id).status == "running")
    container.reload()
    return container


def tags(url: str) -> dict[str, str]:
    models = httpx.get(f"{url}/api/tags", timeout=30).json()["models"]
    return {m["name"]: m["digest"] for m in models}


def refused(result: subprocess.CompletedProcess[str], words: str) -> None:
    """Exit ≠ 0, exactly one error line saying ``words``, no traceback."""
    assert result.returncode != 0, result.stderr
    cli_run.one_error_line(result.stderr, words)


@pytest.fixture(scope="module")
def source(ollama_test_image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A volume with both models pulled and smollm2's served model, exported three ways."""
    tmp = tmp_path_factory.mktemp("models-source")
    project = CliProject(ollama_test_image, tmp, "models")
    docker.from_env().volumes.create(project.volume, labels={LABEL_MANAGED: "true"})
    try:
        start_server(ollama_test_image, project)
        url = f"http://127.0.0.1:{project.port}"
        for model in MODEL_NAMES:
            pull(url, model)
        created = httpx.post(
            f"{url}/api/create",
            json={"model": f"{SMOL}-gpuless", "from": SMOL, "parameters": {"num_ctx": 2048}, "stream": False},
            timeout=120,
        )
        assert created.status_code == 200, created.text
        before = tags(url)
        hashes = blob_hashes(ollama_test_image, project.volume)
        exports = {
            "smol_tar": tmp / "smol.tar",
            "smol_dir": tmp / "smol-folder",
            "gemma_tar": tmp / "gemma.tar",
        }
        for path in (exports["smol_tar"], exports["smol_dir"]):
            done = project.run("models", "export", SMOL, "-o", str(path))
            assert done.returncode == 0, done.stderr
        with exports["gemma_tar"].open("wb") as out:
            done_bytes = subprocess.run(
                project.command("models", "export", GEMMA, "-o", "-"), cwd=project.dir, env=project.env,
                stdout=out, stderr=subprocess.PIPE, timeout=project.run_timeout,
            )  # fmt: skip
        assert done_bytes.returncode == 0, done_bytes.stderr.decode()
        assert b"ETA" in done_bytes.stderr
        yield {"project": project, "tags": before, "hashes": hashes, **exports}
    finally:
        project.remove_all()


@pytest.fixture(scope="module")
def target(
    source: dict[str, Any], ollama_test_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CliProject]:
    """A second volume holding gemma3:270m (imported), the one damaged archives are offered to."""
    project = CliProject(ollama_test_image, tmp_path_factory.mktemp("models-target"), "models-dmg")
    try:
        done = project.run("models", "import", str(source["gemma_tar"]))
        assert done.returncode == 0, done.stderr
        yield project
    finally:
        project.remove_all()


def test_list_shows_the_models_sizes_digests_and_the_served_model(source: dict[str, Any]) -> None:
    project: CliProject = source["project"]
    done = project.run("models", "list", "--json")
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)["models"]}
    assert set(rows) == {SMOL, GEMMA, f"{SMOL}-gpuless"}
    for name, digest in source["tags"].items():  # the same digest /api/tags gives: sha256 of the manifest
        assert rows[name]["digest"] == digest
        assert rows[name]["complete"] is True
    assert rows[SMOL]["served_as"] == [f"{SMOL}-gpuless"]
    assert rows[f"{SMOL}-gpuless"]["derives_from"] == SMOL
    assert rows[GEMMA]["served_as"] == []
    assert rows[SMOL]["size"] == sum(f.stat().st_size for f in (source["smol_dir"] / "blobs").iterdir())


def test_the_folder_export_checks_with_sha256sum(source: dict[str, Any]) -> None:
    done = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=source["smol_dir"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(": OK") == 3  # the manifest, the config blob, the weights


def _rewrite(
    archive: Path,
    out: Path,
    change: Callable[[tarfile.TarInfo, bytes], tuple[tarfile.TarInfo, bytes] | None],
    extra: list[tuple[tarfile.TarInfo, bytes]] | None = None,
) -> Path:
    """A copy of ``archive`` with each member passed through ``change`` (None drops it)."""
    with tarfile.open(archive) as src, tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as dst:
        for info in src.getmembers():
            data = src.extractfile(info).read() if info.isreg() else b""  # type: ignore[union-attr]
            changed = change(info, data)
            if changed is not None:
                new_info, new_data = changed
                new_info.size = len(new_data) if new_info.isreg() else 0
                dst.addfile(new_info, io.BytesIO(new_data) if new_info.isreg() else None)
        for info, data in extra or []:
            dst.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return out


def _weights(info: tarfile.TarInfo) -> bool:
    return info.name.startswith("blobs/") and info.size > 1_000_000


def flipped(src: Path, out: Path) -> Path:
    def change(info: tarfile.TarInfo, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
        if _weights(info):
            data = data[: len(data) // 2] + bytes([data[len(data) // 2] ^ 0x01]) + data[len(data) // 2 + 1 :]
        return info, data

    return _rewrite(src, out, change)


def truncated_blob(src: Path, out: Path) -> Path:
    return _rewrite(src, out, lambda info, data: (info, data[: len(data) // 2] if _weights(info) else data))


def truncated_file(src: Path, out: Path) -> Path:
    data = src.read_bytes()
    out.write_bytes(data[: len(data) // 2])
    return out


def missing_blob(src: Path, out: Path) -> Path:
    with tarfile.open(src) as tar:
        weights = next(info.name for info in tar.getmembers() if _weights(info))

    def change(info: tarfile.TarInfo, data: bytes) -> tuple[tarfile.TarInfo, bytes] | None:
        if info.name == weights:
            return None
        if info.name == "SHA256SUMS":
            data = b"".join(line + b"\n" for line in data.splitlines() if weights.encode() not in line)
        return info, data

    return _rewrite(src, out, change)


def escaping_path(src: Path, out: Path) -> Path:
    info = tarfile.TarInfo("../escaped.txt")
    return _rewrite(src, out, lambda i, d: (i, d), extra=[(info, b"outside")])


def symlink_blob(src: Path, out: Path) -> Path:
    def change(info: tarfile.TarInfo, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
        if info.name.startswith("blobs/") and not _weights(info):
            link = tarfile.TarInfo(info.name)
            link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
            return link, b""
        return info, data

    return _rewrite(src, out, change)


DAMAGE = {
    "flipped byte": (flipped, "is damaged: its bytes hash to"),
    "truncated blob": (truncated_blob, "the archive is truncated"),
    "truncated archive file": (truncated_file, "truncated"),
    "manifest names a missing blob": (missing_blob, "which the archive lacks"),
    "../ path": (escaping_path, "climbs out of the folder"),
    "symlink": (symlink_blob, "is a symlink"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_archive_is_refused_before_anything_is_written(
    damage: str, source: dict[str, Any], target: CliProject, ollama_test_image: str, tmp_path: Path
) -> None:
    make, words = DAMAGE[damage]
    archive = make(source["smol_tar"], tmp_path / "damaged.tar")
    before = snapshot(ollama_test_image, target.volume)
    result = target.run("models", "import", str(archive))
    refused(result, words)
    assert snapshot(ollama_test_image, target.volume) == before
    assert not (tmp_path.parent / "escaped.txt").exists()


def test_a_symlink_in_a_folder_is_refused(
    source: dict[str, Any], target: CliProject, ollama_test_image: str, tmp_path: Path
) -> None:
    folder = tmp_path / "smol"
    shutil.copytree(source["smol_dir"], folder)
    config = min((folder / "blobs").iterdir(), key=lambda p: p.stat().st_size)
    config.unlink()
    config.symlink_to("/etc/passwd")
    before = snapshot(ollama_test_image, target.volume)
    refused(target.run("models", "import", str(folder)), "is a symlink")
    assert snapshot(ollama_test_image, target.volume) == before


def test_too_little_space_is_refused_before_the_copy(
    source: dict[str, Any], ollama_test_image: str, tmp_path: Path
) -> None:
    project = CliProject(ollama_test_image, tmp_path, "models-full")
    docker.from_env().volumes.create(
        project.volume, driver="local", driver_opts={"type": "tmpfs", "device": "tmpfs", "o": "size=200m"},
        labels={LABEL_MANAGED: "true"},
    )  # fmt: skip
    # A tmpfs volume lives while something mounts it: this container keeps it (and what is copied) there.
    holder = docker.from_env().containers.run(
        ollama_test_image, entrypoint=["sh", "-c", "sleep 600"], detach=True, name=project.name,
        network_mode="none", volumes={project.volume: {"bind": "/v", "mode": "ro"}},
    )  # fmt: skip
    try:
        before = snapshot(ollama_test_image, project.volume)
        refused(project.run("models", "import", str(source["gemma_tar"])), "not enough space for the copy")
        assert snapshot(ollama_test_image, project.volume) == before
        done = project.run("models", "import", str(source["smol_tar"]))  # 94 MiB + the reserve fits in 200m
        assert done.returncode == 0, done.stderr
        assert len(blob_hashes(ollama_test_image, project.volume)) == 2
        assert holder.status in {"created", "running"}
    finally:
        project.remove_all()


def test_no_helper_image_is_one_line_and_nothing_is_created(source: dict[str, Any], tmp_path: Path) -> None:
    project = CliProject("gpuless-test/absent:none", tmp_path, "models-noimg")
    result = project.run("models", "import", str(source["smol_tar"]))
    refused(result, "is not present; the helper that reads the volume uses it and pulls nothing")
    assert not docker.from_env().volumes.list(filters={"name": project.volume})  # the volume it made is gone
    project.remove_all()


def test_round_trip_down_volumes_import_then_tags_show_and_chat_with_no_pull(
    source: dict[str, Any], ollama_test_image: str, tmp_path: Path
) -> None:
    project: CliProject = source["project"]
    down = project.run("down", "--volumes")
    assert down.returncode == 0, down.stderr
    assert not docker.from_env().volumes.list(filters={"name": project.volume})

    done = project.run("models", "import", str(source["smol_dir"]))  # the server is stopped
    assert done.returncode == 0, done.stderr
    registry = tmp_path / "empty-registry"
    registry.mkdir()
    (registry / "index.json").write_text('{"models": {}}')
    container = start_server(ollama_test_image, project, registry)
    url = f"http://127.0.0.1:{project.port}"
    started = container.attrs["State"]["StartedAt"]
    assert not started.startswith("0001")
    assert set(tags(url)) == {SMOL}
    assert (
        httpx.post(f"{url}/api/pull", json={"model": GEMMA, "stream": False}, timeout=60).status_code != 200
    )

    done = project.run("models", "import", str(source["gemma_tar"]))  # while the server runs
    assert done.returncode == 0, done.stderr
    now = tags(url)
    assert now == {name: source["tags"][name] for name in (SMOL, GEMMA)}  # manifests byte-identical
    container.reload()
    assert container.status == "running"
    assert container.attrs["State"]["StartedAt"] == started  # the same server process: no restart
    wanted: dict[str, str] = source["hashes"]
    got = blob_hashes(ollama_test_image, project.volume)
    assert all(got[name] == wanted[name] == name.removeprefix("sha256-") for name in got)
    assert set(got) <= set(wanted) and len(got) == 4  # both models' weights and configs
    for model in (SMOL, GEMMA):
        show = httpx.post(f"{url}/api/show", json={"model": model}, timeout=60)
        assert show.status_code == 200 and show.json()["details"]["format"] == "gguf"
        chat = httpx.post(
            f"{url}/api/chat",
            json={"model": model, "messages": [{"role": "user", "content": "Hi"}], "stream": False,
                  "options": {"num_predict": 8}},
            timeout=300,
        )  # fmt: skip
        assert chat.status_code == 200, chat.text
        assert chat.json()["done"] is True and chat.json()["eval_count"] >= 1
    assert hashlib.sha256(b"").hexdigest() not in got.values()


def test_up_serves_an_imported_model_without_pulling_it(target: CliProject) -> None:
    done = target.run(
        "up", "--model", GEMMA, "--port", str(target.port), "--cpus", "1", "--no-pull", "--timeout", "120"
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "model: pulling" not in done.stderr, done.stderr
    assert f"model: creating {GEMMA}-gpuless" in done.stderr, done.stderr
    listed = json.loads(target.run("models", "list", "--json").stdout)["models"]
    assert {row["name"]: row["served_as"] for row in listed}[GEMMA] == [f"{GEMMA}-gpuless"]
