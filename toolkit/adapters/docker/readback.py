"""Reading a container back: its status, its logs, and which settings really took effect.

``status``, ``logs`` and ``verify`` only look; they never change a container. ``verify`` asks the
engine (inspect data, ``ulimit -l`` and the processes' command lines inside the container) and the
server (``/api/show``, ``/api/ps``), so what it reports is what runs, not what gpuless meant to set.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import docker
import docker.errors
import requests

from toolkit.adapters.docker.errors import translate
from toolkit.adapters.ollama import admin as ollama_admin
from toolkit.adapters.progress import Progress, ProgressCallback
from toolkit.core.compose.docker_args import spec_from_json
from toolkit.core.compose.spec import (
    LABEL_FINGERPRINT,
    LABEL_MODEL,
    LABEL_SPEC,
    OllamaServiceSpec,
    served_model,
)
from toolkit.core.compose.verify import VerifyReport, verify
from toolkit.core.compose.verify_runner import parse_runner_args
from toolkit.core.machine.hardware import DockerEngineInfo
from toolkit.errors import ContainerError, GpulessError, UsageError

#: Seconds between two looks at a starting container's health (and at a removal under way).
HEALTH_POLL_SECONDS = 0.5
#: Every process's command line, one per line (the runner's shows the threads it was started with).
CMDLINES = "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < \"$f\"; echo; done 2>/dev/null"


def _answers(url: str) -> bool:
    """Whether Ollama's API answers at ``url`` (a short probe; any failure is "not yet")."""
    try:
        ollama_admin.api_version(url, timeout=1.0)
    except GpulessError:
        return False
    return True


@dataclass(frozen=True)
class ContainerStatus:
    """``gpuless status``: the container as the engine sees it (None fields when not applicable)."""

    name: str
    exists: bool
    id: str | None = None
    state: str | None = None
    health: str | None = None
    image: str | None = None
    model: str | None = None
    served_model: str | None = None
    fingerprint: str | None = None
    started_at: str | None = None
    url: str | None = None
    ollama_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ContainerReadback:
    """The read-only half of ``DockerRunner``: find, wait until the server answers, status, logs, verify."""

    client: docker.DockerClient

    def engine_info(self) -> DockerEngineInfo:
        raise NotImplementedError

    def find(self, name: str) -> dict[str, Any] | None:
        """The inspect dict of container ``name``, or None."""
        with translate(f"inspecting container {name}"):
            try:
                attrs: dict[str, Any] = self.client.api.inspect_container(name)
            except docker.errors.NotFound:
                return None
        return attrs

    def wait_ready(
        self,
        container_id: str,
        name: str,
        timeout: float,
        progress: ProgressCallback | None = None,
        url: str | None = None,
    ) -> float:
        """Wait until the server answers: its API at ``url`` (from this host), or else the healthcheck
        passing; fail early if the container stops or restarts.

        Docker runs the first healthcheck one interval (5 s) after the start, and engines before API 1.44
        know no shorter start interval, so asking the API itself saves those seconds on every start (and
        on every candidate ``gpuless tune`` restarts). The health status turns "healthy" on its own later.
        Each poll reports a "health" progress event, so a caller can show the wait and cancel it by
        raising from the callback (the caller then removes what it created).
        """
        started = time.monotonic()
        deadline = started + timeout
        status = "starting"
        restarts: int | None = None  # a count from an earlier life of a reused container is not a failure
        while time.monotonic() < deadline:
            attrs = self.find(container_id)
            if attrs is None:
                raise ContainerError(f"container {name} disappeared while starting")
            state = attrs.get("State") or {}
            count = int(attrs.get("RestartCount") or 0)
            restarts = count if restarts is None else restarts
            if not state.get("Running") or state.get("Restarting") or count > restarts:
                raise ContainerError(
                    f"container {name} stopped while starting (exit code {state.get('ExitCode')}): "
                    f"{self._last_log_line(container_id)}",
                    "The container was removed; run the image by hand (`docker run --rm IMAGE`) to see why.",
                )
            status = str((state.get("Health") or {}).get("Status") or "none")
            if status == "healthy" or (url is not None and _answers(url)):
                return time.monotonic() - started
            if status == "unhealthy":
                break
            if progress is not None:
                progress(Progress("health", f"waiting for the server to answer (health: {status})"))
            time.sleep(HEALTH_POLL_SECONDS)
        raise ContainerError(
            f"container {name} did not answer within {timeout:.0f} s (health: {status}): "
            f"{self._last_log_line(container_id)}",
            "A slow first start? Raise --timeout. Otherwise read the server log with `docker logs`.",
        )

    def _last_log_line(self, container_id: str) -> str:
        try:
            raw = self.client.api.logs(container_id, tail=5)
        except (docker.errors.DockerException, requests.exceptions.RequestException):
            return "no log"
        lines = [line for line in raw.decode("utf-8", "replace").splitlines() if line.strip()]
        return lines[-1][:200] if lines else "no log output"

    def running_url(self, name: str) -> str | None:
        """The loopback URL of gpuless's container ``name`` when it is running, else None."""
        attrs = self.find(name)
        if attrs is None or not (attrs.get("State") or {}).get("Running"):
            return None
        labels = attrs.get("Config", {}).get("Labels") or {}
        return spec_of(attrs).url if LABEL_SPEC in labels else None

    def status(self, name: str) -> ContainerStatus:
        attrs = self.find(name)
        if attrs is None:
            return ContainerStatus(name=name, exists=False)
        state = attrs.get("State") or {}
        labels = attrs.get("Config", {}).get("Labels") or {}
        try:
            url = spec_of(attrs).url if LABEL_SPEC in labels else None
        except UsageError:  # a label changed by hand: show the rest rather than nothing
            url = None
        version = None
        if url and state.get("Running"):
            with contextlib.suppress(GpulessError):
                version = ollama_admin.api_version(url, timeout=2.0)
        return ContainerStatus(
            name=name,
            exists=True,
            id=str(attrs.get("Id", ""))[:12],
            state=str(state.get("Status")),
            health=(state.get("Health") or {}).get("Status"),
            image=attrs.get("Config", {}).get("Image"),
            model=labels.get(LABEL_MODEL),
            served_model=served_model(labels[LABEL_MODEL]) if labels.get(LABEL_MODEL) else None,
            fingerprint=labels.get(LABEL_FINGERPRINT),
            started_at=state.get("StartedAt"),
            url=url,
            ollama_version=version,
        )

    def logs(
        self, name: str, *, tail: int = 100, follow: bool = False, max_seconds: float | None = None
    ) -> Iterator[str]:
        """Log lines of the container; with ``follow`` keep polling until it stops (or ``max_seconds``
        pass, when given)."""
        if self.find(name) is None:
            raise ContainerError(f"no container named {name}", "Start it with `gpuless up`.")
        with translate(f"reading logs of {name}"):
            raw = self.client.api.logs(name, tail=tail, timestamps=True)
        last = ""
        for stamp, line in _split_stamped(raw):
            last = stamp
            yield line
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        while follow and (deadline is None or time.monotonic() < deadline):
            time.sleep(1.0)
            attrs = self.find(name)
            with translate(f"reading logs of {name}"):
                raw = self.client.api.logs(name, timestamps=True, since=_since(last))
            for stamp, line in _split_stamped(raw):
                if stamp > last:
                    last = stamp
                    yield line
            if attrs is None or not (attrs.get("State") or {}).get("Running"):
                return

    def verify(self, name: str, *, warnings: tuple[str, ...] = ()) -> VerifyReport:
        """Read back which settings took effect (see ``toolkit.core.compose.verify``): from the container's
        inspect data, ``ulimit -l`` inside it, the served model's parameters (``/api/show``), and the
        thread count and context the loaded model really runs with (its runner's command line and
        ``/api/ps``). The served model is loaded first when it is not (as a first request would)."""
        attrs = self.find(name)
        if attrs is None:
            raise ContainerError(f"no container named {name}", "Start it with `gpuless up`.")
        labels = attrs.get("Config", {}).get("Labels") or {}
        if LABEL_SPEC not in labels:
            raise ContainerError(
                f"container {name} has no gpuless spec label; nothing to compare against",
                "Start it with `gpuless up` or from a compose file gpuless generated.",
            )
        spec = spec_of(attrs)
        running = bool((attrs.get("State") or {}).get("Running"))
        ulimit_l = self._exec(attrs["Id"], ["sh", "-c", "ulimit -l"]) if running else None
        params = ollama_admin.served_parameters(spec.url, spec.served_model) if running else None
        if params is not None:
            ollama_admin.load_model(spec.url, spec.served_model)
        ps = ollama_admin.loaded_models(spec.url) if running else None
        cmdlines = self._exec(attrs["Id"], ["sh", "-c", CMDLINES]) if running else None
        version = None
        if running:
            with contextlib.suppress(GpulessError):
                version = ollama_admin.api_version(spec.url)
        return verify(
            spec,
            attrs,
            warnings=warnings,
            ulimit_l=ulimit_l,
            ps=ps,
            cgroup_version=self.engine_info().cgroup_version,
            runner=parse_runner_args(cmdlines),
            served_parameters=params,
            version=version,
        )

    def _exec(self, container_id: str, cmd: list[str]) -> str | None:
        """stdout of ``cmd`` in the container, None if it cannot run or fails."""
        try:
            exec_id = self.client.api.exec_create(container_id, cmd, stdout=True, stderr=False)
            output = self.client.api.exec_start(exec_id)
            code = self.client.api.exec_inspect(exec_id).get("ExitCode")
        except (docker.errors.DockerException, requests.exceptions.RequestException):
            return None
        if code != 0 or not isinstance(output, bytes):
            return None
        return output.decode("utf-8", "replace")


def spec_of(attrs: dict[str, Any]) -> OllamaServiceSpec:
    labels = attrs.get("Config", {}).get("Labels") or {}
    return spec_from_json(str(labels[LABEL_SPEC]))


def _split_stamped(raw: bytes) -> Iterator[tuple[str, str]]:
    for line in raw.decode("utf-8", "replace").splitlines():
        stamp, _, text = line.partition(" ")
        yield stamp, text


def _since(stamp: str) -> float | None:
    """An RFC 3339 log timestamp → Unix seconds (whole seconds are enough: lines are de-duplicated)."""
    if not stamp:
        return None
    from datetime import datetime

    try:
        return datetime.fromisoformat(stamp[:19] + "+00:00").timestamp()
    except ValueError:
        return None
