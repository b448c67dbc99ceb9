"""gpuless run as a user runs it (a separate process) on a container/volume of its own, cleaned up after.

Shared by the Docker tests that drive the CLI end to end (lifecycle faults, tune): unique names, a free
loopback port, private cache and data directories, and removal of whatever carries the names.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import docker

from tests.ollama_server.fixtures import free_port


def _default_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class CliProject:
    """A container/volume name pair, a port and a directory for ``gpuless`` commands."""

    #: Seconds one command may take before the test fails.
    run_timeout = 240.0

    def __init__(self, image: str, tmp_path: Path, prefix: str) -> None:
        tag = uuid.uuid4().hex[:8]
        self.name = f"gpuless-t-{prefix}-{tag}"
        self.volume = f"{self.name}-models"
        self.port = free_port()
        self.dir = tmp_path
        self.env = {
            **os.environ,
            "GPULESS_IMAGE": image,
            "GPULESS_CONTAINER_NAME": self.name,
            "GPULESS_VOLUME_NAME": self.volume,
            "GPULESS_CACHE_DIR": str(tmp_path / "cache"),
            "GPULESS_DATA_DIR": str(tmp_path / "data"),
        }

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "toolkit", *args]

    def run(self, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args), cwd=self.dir, env=self.env, capture_output=True, text=True,
            timeout=timeout or self.run_timeout,
        )  # fmt: skip

    def start(self, *args: str) -> subprocess.Popen[str]:
        """The command in the background, with Ctrl-C's default disposition as in a terminal: a suite
        started with SIGINT ignored (a background job of a shell without job control) would pass that on,
        and the command's Python would then never raise KeyboardInterrupt."""
        return subprocess.Popen(
            self.command(*args), cwd=self.dir, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, preexec_fn=_default_ctrl_c,
        )  # fmt: skip

    def remove_all(self) -> None:
        """Remove every container and volume carrying this project's name."""
        client = docker.from_env()
        for container in client.containers.list(all=True, filters={"name": self.name}):
            container.remove(force=True)
        for volume in client.volumes.list(filters={"name": self.name}):
            volume.remove(force=True)
