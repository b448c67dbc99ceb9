"""Start and stop the Ollama container through the Docker SDK (docker-py).

``up`` starts exactly ``to_docker_kwargs(spec)`` — the same spec ``gpuless compose`` writes — and:
checks the loopback port first, pulls the image only when it is missing, reuses a container whose
fingerprint label matches and recreates one that does not, retries without the memlock ulimit when
the engine refuses it (and labels the container so ``verify`` reports "refused"), waits for the
healthcheck with a deadline, and on any failure removes what this call created. The low-level
``client.api`` is used for create because the high-level API drops the engine's warnings (e.g.
"swappiness discarded" on cgroup v2), which ``verify`` needs. Every docker-py or requests error leaves
this module as a ``toolkit.errors`` class (``docker.errors``); reading a container back (status, logs,
verify) is ``docker.readback``, whose methods the runner inherits.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import docker
import docker.errors
import requests

from toolkit.adapters.critical import signals_deferred
from toolkit.adapters.docker.engine import connect, read_engine_info, unavailable_hint
from toolkit.adapters.docker.errors import explain, is_memlock_refusal, name_conflict, translate
from toolkit.adapters.docker.images import ImageStore
from toolkit.adapters.docker.project_lock import exclusive
from toolkit.adapters.docker.readback import HEALTH_POLL_SECONDS, ContainerReadback, spec_of
from toolkit.adapters.ports import check_address, check_port_free
from toolkit.adapters.progress import ProgressCallback
from toolkit.core.compose.docker_args import spec_fingerprint, to_docker_kwargs
from toolkit.core.compose.spec import LABEL_FINGERPRINT, LABEL_MANAGED, LABEL_REFUSED, OllamaServiceSpec
from toolkit.core.machine.hardware import DockerEngineInfo
from toolkit.errors import (
    ContainerError,
    DockerUnavailableError,
    GpulessError,
    PortInUseError,
    UsageError,
)

_STOP_TIMEOUT_SECONDS = 10
#: How long ``down`` waits for another ``up``/``down`` of the same container to finish: an ``up`` that was
#: interrupted a moment ago is still removing what it created; a longer holder is named instead.
DOWN_LOCK_WAIT_S = 10.0

UpAction = Literal["created", "recreated", "reused", "started"]


@dataclass(frozen=True)
class UpResult:
    """What ``up`` did.

    Attributes:
        container_id: the container's full id.
        container_name: its name.
        url: where Ollama answers (loopback).
        action: "created" (new), "recreated" (config changed), "reused" (already running, same config),
            "started" (existed stopped with the same config).
        refused: settings the engine refused and the container runs without (e.g. "memlock").
        warnings: the engine's warnings from container creation, verbatim.
        image_pulled: the image was pulled by this call.
        seconds_to_ready: from start to the server answering (its API, or the healthcheck, first).
        created_volume: the models volume was created by this call.
    """

    container_id: str
    container_name: str
    url: str
    action: UpAction
    refused: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    image_pulled: bool = False
    seconds_to_ready: float = 0.0
    created_volume: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- the runner ------------------------------------------------------------------------------------


class DockerRunner(ContainerReadback, ImageStore):
    """Ollama's container lifecycle on one Docker engine."""

    def __init__(
        self,
        client: docker.DockerClient | None = None,
        *,
        timeout: float = 30.0,
        lock_dir: Path | None = None,
    ) -> None:
        self.client = client if client is not None else connect(timeout)
        self.lock_dir = lock_dir
        self._engine: DockerEngineInfo | None = None

    def engine_info(self) -> DockerEngineInfo:
        if self._engine is None:
            with translate("reading the engine's info"):
                self._engine = read_engine_info(self.client)
        return self._engine

    def up(
        self,
        spec: OllamaServiceSpec,
        *,
        pull_image: bool = True,
        progress: ProgressCallback | None = None,
        health_timeout: float = 120.0,
    ) -> UpResult:
        """Start the spec's container (or reuse it), wait until the server answers. Leaves nothing behind
        on failure: only what this call created is removed, by id (never a container of the same name
        someone else started). One ``up``/``down`` per container name at a time (``project_lock``)."""
        with exclusive(spec.container_name, self.lock_dir):
            return self._up(spec, pull_image=pull_image, progress=progress, health_timeout=health_timeout)

    def _up(
        self,
        spec: OllamaServiceSpec,
        *,
        pull_image: bool,
        progress: ProgressCallback | None,
        health_timeout: float,
    ) -> UpResult:
        wanted = spec_fingerprint(spec)
        existing = self.find(spec.container_name)
        action: UpAction = "created"
        if existing is not None:
            labels = existing.get("Config", {}).get("Labels") or {}
            if labels.get(LABEL_MANAGED) != "true":
                raise ContainerError(
                    f"a container named {spec.container_name} exists that gpuless did not create",
                    "Remove or rename it (`docker rm -f NAME`), or choose another name.",
                )
            if labels.get(LABEL_FINGERPRINT) == wanted:
                return self._reuse(spec, existing, health_timeout, progress)
            action = "recreated"

        # Everything that can fail without creating anything runs before an existing container is
        # replaced, so a refused change (port taken, image missing) leaves the running server alone.
        if _holds_port(existing, spec):
            check_address(spec.bind_address)  # an address nobody can bind is refused before the swap
        else:
            check_port_free(spec.bind_address, spec.port)
        pulled = self.ensure_image(spec.image, pull=pull_image, progress=progress)
        if existing is not None:
            self._remove(existing["Id"])
        created: list[str] = []  # ids of containers this call created, noted as the engine answers
        created_volume: list[bool] = []
        try:
            with signals_deferred():
                if self._ensure_volume(spec.volume_name):
                    created_volume.append(True)
            container_id, warnings, refused = self._create_and_start(spec, created)
            seconds = self.wait_ready(container_id, spec.container_name, health_timeout, progress, spec.url)
        except BaseException:
            # Only what this call created, by id: a container of the same name may be someone else's.
            for own in created:
                self.remove_quietly(own)
            if created_volume:
                self.remove_volume_quietly(spec.volume_name)
            raise
        return UpResult(
            container_id=container_id,
            container_name=spec.container_name,
            url=spec.url,
            action=action,
            refused=refused,
            warnings=warnings,
            image_pulled=pulled,
            seconds_to_ready=seconds,
            created_volume=bool(created_volume),
        )

    def _reuse(
        self,
        spec: OllamaServiceSpec,
        attrs: dict[str, Any],
        health_timeout: float,
        progress: ProgressCallback | None = None,
    ) -> UpResult:
        container_id = str(attrs["Id"])
        state = attrs.get("State") or {}
        action: UpAction = "reused"
        if not state.get("Running"):
            check_port_free(spec.bind_address, spec.port)
            with translate(f"starting container {spec.container_name}"):
                self.client.api.start(container_id)
            action = "started"
        seconds = self.wait_ready(container_id, spec.container_name, health_timeout, progress, spec.url)
        labels = attrs.get("Config", {}).get("Labels") or {}
        refused = tuple(filter(None, str(labels.get(LABEL_REFUSED, "")).split(",")))
        return UpResult(container_id, spec.container_name, spec.url, action, refused, (), False, seconds)

    def _ensure_volume(self, name: str) -> bool:
        """Create the models volume if it does not exist; True when this call created it."""
        with translate(f"creating volume {name}"):
            try:
                self.client.api.inspect_volume(name)
                return False
            except docker.errors.NotFound:
                self.client.api.create_volume(name, labels={LABEL_MANAGED: "true"})
                return True

    def _create(
        self, spec: OllamaServiceSpec, created: list[str], *, drop_memlock: bool
    ) -> tuple[str, tuple[str, ...]]:
        """Create the container; its id joins ``created`` before any signal can interrupt."""
        kwargs = to_docker_kwargs(spec, drop_memlock=drop_memlock)
        host_config = self.client.api.create_host_config(**kwargs.pop("host_config"))
        with (
            signals_deferred(),
            translate(f"creating container {spec.container_name}"),
            name_conflict(spec.container_name),
        ):
            # use_config_proxy=False: proxies from ~/.docker/config.json would be injected as HTTP_PROXY,
            # which Ollama's FAQ says breaks client connections; pass HTTPS_PROXY in a compose file instead.
            response = self.client.api.create_container(
                **kwargs, host_config=host_config, use_config_proxy=False
            )
            created.append(str(response["Id"]))
        warnings = tuple(str(w) for w in (response.get("Warnings") or []) if w)
        return str(response["Id"]), warnings

    def _create_and_start(
        self, spec: OllamaServiceSpec, created: list[str]
    ) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        container_id, warnings = self._create(spec, created, drop_memlock=False)
        try:
            self.client.api.start(container_id)
            return container_id, warnings, ()
        except docker.errors.APIError as error:
            text = explain(error)
            if not (spec.memlock_unlimited and is_memlock_refusal(text)):
                self.remove_quietly(container_id)
                if "address already in use" in text:
                    raise PortInUseError(
                        f"starting {spec.container_name}: port {spec.port} is already in use",
                        "Stop whatever listens there or choose another port with --port.",
                    ) from None
                raise ContainerError(f"starting container {spec.container_name}: {text}") from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as error:
            self.remove_quietly(container_id)
            raise DockerUnavailableError(
                f"starting {spec.container_name}: the engine stopped answering ({type(error).__name__})",
                unavailable_hint(),
            ) from None
        # The engine refused the memlock ulimit; docker-py leaves the created container behind.
        self._remove(container_id)
        container_id, warnings = self._create(spec, created, drop_memlock=True)
        try:
            with translate(f"starting container {spec.container_name} without the memlock ulimit"):
                self.client.api.start(container_id)
        except BaseException:
            self.remove_quietly(container_id)
            raise
        return container_id, warnings, ("memlock",)

    def _remove(self, container: str, *, label: str | None = None, stop: bool = False) -> None:
        """Remove a container (stopping it first, gracefully, with ``stop``). One that is already gone,
        or that someone else is removing (a cancelled launch cleaning up: the engine answers 409),
        counts as removed once it is gone."""
        label = label or container[:12]
        with translate(f"{'stopping' if stop else 'removing'} container {label}"):
            try:
                if stop:
                    self.client.api.stop(container, timeout=_STOP_TIMEOUT_SECONDS)
                self.client.api.remove_container(container, force=True, v=False)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as error:
                if "already in progress" not in explain(error):
                    raise
                self._wait_gone(container, label)

    def remove_quietly(self, container: str) -> None:
        with contextlib.suppress(GpulessError, docker.errors.DockerException, requests.RequestException):
            self.client.api.remove_container(container, force=True, v=False)

    def remove_volume_quietly(self, name: str) -> None:
        """Remove a volume this run created; the engine refuses while a container still uses it."""
        with contextlib.suppress(GpulessError, docker.errors.DockerException, requests.RequestException):
            self.client.api.remove_volume(name, force=False)

    def down(self, name: str, *, volume: str | None = None) -> dict[str, Any]:
        """Stop and remove the container (only one gpuless created); with ``volume`` remove that too
        (only one gpuless created: it carries the managed label). Waits up to DOWN_LOCK_WAIT_S for an
        ``up`` or ``down`` of the same name that is finishing (one just interrupted removes what it made)."""
        with exclusive(name, self.lock_dir, wait_s=DOWN_LOCK_WAIT_S, command="down"):
            return self._down(name, volume=volume)

    def _down(self, name: str, *, volume: str | None) -> dict[str, Any]:
        result: dict[str, Any] = {
            "container": name,
            "removed": False,
            "volume": volume,
            "volume_removed": False,
        }
        attrs = self.find(name)
        if attrs is not None:
            if (attrs.get("Config", {}).get("Labels") or {}).get(LABEL_MANAGED) != "true":
                raise ContainerError(
                    f"container {name} was not created by gpuless; not removing it",
                    "Remove it yourself with `docker rm -f` if you mean to.",
                )
            self._remove(str(attrs["Id"]), label=name, stop=True)
            result["removed"] = True
        if volume:
            with translate(f"removing volume {volume}"):
                try:
                    labels = self.client.api.inspect_volume(volume).get("Labels") or {}
                except docker.errors.NotFound:
                    return result
                if labels.get(LABEL_MANAGED) != "true":
                    raise ContainerError(
                        f"volume {volume} was not created by gpuless; not removing it (its models stay)",
                        f"Remove it yourself with `docker volume rm {volume}` if you mean to.",
                    )
                try:
                    self.client.api.remove_volume(volume)
                    result["volume_removed"] = True
                except docker.errors.NotFound:
                    pass
        return result

    def _wait_gone(self, container_id: str, name: str, timeout: float = 30.0) -> None:
        """Wait for a removal someone else started (the engine refuses a second one with 409)."""
        deadline = time.monotonic() + timeout
        while self.find(container_id) is not None:
            if time.monotonic() >= deadline:
                raise ContainerError(
                    f"container {name} is still being removed after {timeout:.0f} s",
                    "Check `docker ps -a`; run `gpuless down` again when it is gone.",
                )
            time.sleep(HEALTH_POLL_SECONDS)


def _holds_port(attrs: dict[str, Any] | None, spec: OllamaServiceSpec) -> bool:
    """Whether a running container of ours already holds ``spec``'s port, on any address (it frees it on
    removal: an exposed server can be moved back to loopback on the same port)."""
    if attrs is None or not (attrs.get("State") or {}).get("Running"):
        return False
    try:
        running = spec_of(attrs)
    except (KeyError, UsageError):  # no spec label (made by an older gpuless) or an unreadable one
        return False
    return running.port == spec.port
