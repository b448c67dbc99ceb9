"""gpuless run as a user runs it (a separate process) on a container/volume of its own, cleaned up after.

Shared by the Docker tests that drive the CLI end to end (lifecycle faults, tune): unique names, a free
loopback port, private cache and data directories, and removal of whatever carries the names.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import docker

from tests import cli_run
from tests.ollama_server.fixtures import free_port
from toolkit.adapters.docker.project_lock import exclusive
from toolkit.errors import ContainerError


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
        return cli_run.command(*args)

    def run(self, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        return cli_run.gpuless(*args, cwd=self.dir, env=self.env, timeout=timeout or self.run_timeout)

    def start(self, *args: str) -> subprocess.Popen[str]:
        """The command in the background, as ``cli_run.start`` runs it (Ctrl-C as in a terminal)."""
        return cli_run.start(*args, cwd=self.dir, env=self.env)

    def lock_held(self) -> bool:
        """Whether a process holds this project's lock (one try through ``exclusive``)."""
        try:
            with exclusive(self.name):
                return False
        except ContainerError:
            return True

    def remove_all(self) -> None:
        """Remove every container and volume carrying this project's name."""
        client = docker.from_env()
        for container in client.containers.list(all=True, filters={"name": self.name}):
            container.remove(force=True)
        for volume in client.volumes.list(filters={"name": self.name}):
            volume.remove(force=True)
