#!/usr/bin/env python3
"""Throughput of ``gpuless models fetch`` against ``curl`` of the same blobs through the same gateway.

Sets up, on loopback only: the stand-in Ollama server on a volume of its own with smollm2:135m and
gemma3:270m pulled, and ``gpuless share`` (the real nginx gateway) on 127.0.0.2 in front of it. Then,
alternating in one run, for each model and each round:

- curl: ``curl -o FILE`` of each blob of the model, one after the other (as the fetch, whose model is
  one big blob and small ones, mostly uses one connection), into a fresh folder on this disk;
- fetch: ``fetch_model`` into a fresh volume, timing the download phase (bytes received, every sha256
  checked on the way) apart from the import into the volume that follows, and the whole call too.

Every other round the fetch goes first. For context, ``sha256sum`` of curl's files is timed too (the
check the fetch makes on the way, which curl does not). Prints each round and the medians: fetch ÷ curl
throughput for the download phase (the target is ≥ 0.8), fetch ÷ (curl then sha256sum), and curl ÷ the
whole fetch (download + import through the Docker helper). The output is docs/bench-fetch.txt.

    python3 scripts/bench_fetch.py [--rounds 5] [--out docs/bench-fetch.txt]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import docker
import httpx

from tests.engine.cli_project import CliProject
from tests.engine.test_models_copy import start_server
from tests.ollama_server import IMAGE_TAG, MODEL_NAMES
from tests.ollama_server.fixtures import free_port, pull
from toolkit.core.compose.spec import LABEL_MANAGED
from toolkit.services import share as share_service
from toolkit.services.model_copy import Target
from toolkit.services.model_fetch import FetchResult, fetch_model
from toolkit.settings import Settings

GATEWAY_IMAGE = os.environ.get("GPULESS_GATEWAY_IMAGE", "gpuless-test/gateway:local")
MIB = 1024 * 1024


def curl_blobs(url: str, key: str, digests: list[str], folder: Path) -> tuple[int, float, float]:
    """Bytes and seconds of ``curl`` fetching each blob into ``folder``, and the seconds ``sha256sum``
    then takes over them (what checking them as the fetch does would add)."""
    folder.mkdir()
    start = time.perf_counter()
    for digest in digests:
        out = folder / digest.replace(":", "-")
        subprocess.run(
            ["curl", "-sS", "--fail", "-o", str(out), "-H", f"Authorization: Bearer {key}",
             f"{url}/gpuless/models/blobs/{digest.replace(':', '-')}"],
            check=True,
        )  # fmt: skip
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    subprocess.run(["sha256sum", *map(str, folder.iterdir())], check=True, capture_output=True)
    hashing = time.perf_counter() - start
    size = sum(p.stat().st_size for p in folder.iterdir())
    shutil.rmtree(folder)
    return size, seconds, hashing


def timed_fetch(mine: Settings, model: str, url: str, key: str) -> tuple[FetchResult, float]:
    """``fetch_model`` into the volume ``mine`` names, and the seconds the whole call took."""
    start = time.perf_counter()
    result = fetch_model(mine, Target(mine.volume_name, IMAGE_TAG), model, url, key)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    work = Path(tempfile.mkdtemp(prefix="bench-fetch-"))
    client = docker.from_env()
    project = CliProject(IMAGE_TAG, work, "bench-fetch")
    client.volumes.create(project.volume, labels={LABEL_MANAGED: "true"})
    settings = Settings(
        data_dir=work / "share",
        ollama_url=f"http://127.0.0.1:{project.port}",
        gateway_image=GATEWAY_IMAGE,
        gateway_container_name=f"gpuless-bench-gateway-{uuid.uuid4().hex[:8]}",
        volume_name=project.volume,
        image=IMAGE_TAG,
    )
    receivers: list[str] = []
    try:
        start_server(IMAGE_TAG, project)
        for model in MODEL_NAMES:
            pull(f"http://127.0.0.1:{project.port}", model)
        outcome = share_service.share(settings, listen=f"127.0.0.2:{free_port()}", add=["bench"])
        assert outcome.listen is not None
        url = outcome.listen.url
        key = next(k for k in outcome.new_keys if k.name == "bench").secret
        say(f"# gpuless models fetch vs curl, same blobs, same gateway ({url}, nginx), loopback")
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        say(f"# {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, {when}")
        say("# fetch: 4 connections, blobs hashed as they land; curl: one blob after the other, no hashing")
        say(f"{'model':<14} {'round':>5} {'MiB':>7} {'curl MiB/s':>11} {'fetch MiB/s':>12} {'ratio':>6} "
            f"{'vs curl+sha256sum':>18} {'whole fetch s':>14}")  # fmt: skip
        ratios: list[float] = []
        checked_ratios: list[float] = []
        whole_ratios: list[float] = []
        for model in MODEL_NAMES:
            name, tag = model.split(":")
            manifest = httpx.get(
                f"{url}/gpuless/models/manifests/registry.ollama.ai/library/{name}/{tag}",
                headers={"Authorization": f"Bearer {key}"},
                timeout=10,
            ).json()
            digests = [manifest["config"]["digest"]] + [layer["digest"] for layer in manifest["layers"]]
            for index in range(args.rounds):
                receiver = f"gpuless-bench-recv-{uuid.uuid4().hex[:8]}"
                receivers.append(receiver)
                cache = work / f"cache-{receiver}"
                mine = Settings(cache_dir=cache, data_dir=cache, volume_name=receiver, image=IMAGE_TAG)
                fetch = partial(timed_fetch, mine, model, url, key)
                if index % 2:  # every other round the fetch goes first: no order favours either
                    result, whole_s = fetch()
                    size, curl_s, hash_s = curl_blobs(url, key, digests, work / f"curl-{model}-{index}")
                else:
                    size, curl_s, hash_s = curl_blobs(url, key, digests, work / f"curl-{model}-{index}")
                    result, whole_s = fetch()
                client.volumes.get(receiver).remove(force=True)
                shutil.rmtree(cache, ignore_errors=True)
                assert result.received == size, (result.received, size)
                curl_rate, fetch_rate = size / curl_s / MIB, result.received / result.seconds / MIB
                ratios.append(fetch_rate / curl_rate)
                checked_ratios.append((curl_s + hash_s) / result.seconds)
                whole_ratios.append(curl_s / whole_s)
                ratio = fetch_rate / curl_rate
                say(f"{model:<14} {index + 1:>5} {size / MIB:>7.1f} {curl_rate:>11.0f} {fetch_rate:>12.0f} "
                    f"{ratio:>6.2f} {checked_ratios[-1]:>18.2f} {whole_s:>14.2f}")  # fmt: skip
        say("")
        say(f"median fetch/curl throughput, download phase: {statistics.median(ratios):.2f} (target >= 0.8)")
        say(f"median fetch/(curl then sha256sum) throughput: {statistics.median(checked_ratios):.2f}")
        say(f"median curl time / whole fetch time (download + import into the volume): "
            f"{statistics.median(whole_ratios):.2f}")  # fmt: skip
    finally:
        share_service.stop(settings)
        for receiver in receivers:
            for volume in client.volumes.list(filters={"name": receiver}):
                volume.remove(force=True)
        project.remove_all()
        shutil.rmtree(work, ignore_errors=True)
    if args.out is not None:
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
