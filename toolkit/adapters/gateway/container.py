"""The gateway container: nginx on host networking in front of Ollama, started, reloaded, removed.

It listens on the address the user chose (``listen`` label) and proxies to Ollama on loopback; its
configuration is the key store's ``gateway`` directory mounted read-only. A change of keys is applied with
``nginx -t`` then SIGHUP (nginx's graceful reload: new workers take new requests, old ones finish their
streams). ``start`` leaves nothing behind on failure: a container that does not come up is removed, and
its nginx error is the message.
"""

from __future__ import annotations

import contextlib
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors

from toolkit.adapters.docker.engine import connect
from toolkit.adapters.docker.errors import translate
from toolkit.adapters.docker.images import ImageStore
from toolkit.adapters.ports import check_port_free
from toolkit.core.safe_text import terminal_safe
from toolkit.core.share.model_files import MODELS_MOUNT
from toolkit.core.share.nginx_conf import CONF_DIR, CONF_PATH
from toolkit.errors import ContainerError, ImageError, PortInUseError, UsageError

LABEL_GATEWAY = "io.gpuless.gateway"
LABEL_LISTEN = "io.gpuless.gateway.listen"
NGINX_COMMAND = ["nginx", "-c", CONF_PATH, "-g", "daemon off;"]
_START_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class GatewayState:
    """A gateway container as the engine reports it: its listen address and whether it runs."""

    container_id: str
    listen: str
    running: bool
    image: str


def check_listen_free(host: str, port: int) -> None:
    """UsageError when ``host`` is not an address of this machine; PortInUseError when the port is taken."""
    try:
        check_port_free(host, port)
    except PortInUseError as error:
        hint = f"Stop what listens there (`ss -ltnp 'sport = :{port}'`) or pick another: --listen {host}:PORT"
        raise PortInUseError(error.message, hint) from None
    except UsageError:  # no interface has that address (check_port_free's address check)
        raise UsageError(
            f"{host} is not an address of this machine",
            "Pick one of this laptop's LAN addresses (`ip -brief address`).",
        ) from None
    except OSError as error:
        raise UsageError(f"cannot listen on {host}:{port}: {error.strerror}") from None


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


_RECONFIGURING = "reconfiguring"


def _stderr(container: Any, since: int) -> str:
    return str(container.logs(stdout=False, stderr=True, since=since).decode("utf-8", "replace"))


def _reloads(container: Any, since: int) -> int:
    return _stderr(container, since).count(_RECONFIGURING)


class GatewayRunner(ImageStore):
    """One named gateway container on one Docker engine."""

    def __init__(self, name: str, client: docker.DockerClient | None = None) -> None:
        self.name = name
        self.client = client if client is not None else connect()

    def state(self) -> GatewayState | None:
        """The gateway container, or None when there is none."""
        with translate(f"looking up container {self.name}"):
            try:
                container = self.client.containers.get(self.name)
            except docker.errors.NotFound:
                return None
        labels = container.labels or {}
        if labels.get(LABEL_GATEWAY) != "true":
            raise ContainerError(
                f"a container named {self.name} exists and gpuless did not create it",
                f"Remove or rename it (`docker rm -f {self.name}`) if it is not needed.",
            )
        image = str(container.attrs.get("Config", {}).get("Image", ""))
        running = container.status == "running"
        return GatewayState(container.id or "", labels.get(LABEL_LISTEN, ""), running, image)

    def start(
        self,
        image: str,
        conf_dir: Path,
        host: str,
        port: int,
        *,
        pull: bool = True,
        models_volume: str | None = None,
    ) -> GatewayState:
        """Start the gateway on ``host:port`` with the files in ``conf_dir``; wait until it answers.
        ``models_volume``, when it exists, is mounted read-only so key holders can fetch its models."""
        check_listen_free(host, port)
        try:
            self.ensure_image(image, pull=pull)
        except ImageError as error:
            raise ImageError(
                f"the gateway image is missing: {error.message}",
                f"Connect to the network once (`docker pull {image}`), or set GPULESS_GATEWAY_IMAGE to an "
                "nginx image this engine has.",
            ) from None
        listen = f"{host}:{port}"
        volumes = {str(conf_dir): {"bind": CONF_DIR, "mode": "ro"}}
        if models_volume is not None and self._volume_exists(models_volume):
            volumes[models_volume] = {"bind": MODELS_MOUNT, "mode": "ro"}
        with translate("creating the gateway container"):
            container = self.client.containers.run(
                image,
                NGINX_COMMAND,
                name=self.name,
                detach=True,
                network_mode="host",
                volumes=volumes,
                labels={LABEL_GATEWAY: "true", LABEL_LISTEN: listen},
                restart_policy={"Name": "unless-stopped"},
                security_opt=["no-new-privileges"],
            )
        try:
            self._wait_listening(container, host, port)
        except BaseException:
            with contextlib.suppress(docker.errors.DockerException):
                container.remove(force=True)
            raise
        return GatewayState(container.id or "", listen, True, image)

    def _volume_exists(self, name: str) -> bool:
        """Whether the volume is there (mounting a missing one would make an empty one)."""
        with translate(f"looking up volume {name}"):
            try:
                self.client.api.inspect_volume(name)
            except docker.errors.NotFound:
                return False
        return True

    def _wait_listening(self, container: Any, host: str, port: int) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if answers(host, port):
                return
            with translate("reading the gateway container"):
                container.reload()
            if container.status in ("exited", "dead"):
                raise ContainerError(f"the gateway did not start: {self._last_error(container)}")
            time.sleep(0.1)
        raise ContainerError(f"the gateway did not answer on {host}:{port} within {_START_TIMEOUT_S:.0f}s")

    @staticmethod
    def _last_error(container: Any) -> str:
        with contextlib.suppress(docker.errors.DockerException):
            lines = container.logs(tail=20).decode("utf-8", "replace").splitlines()
            errors = [line for line in lines if "[emerg]" in line or "error" in line.lower()]
            if errors or lines:
                return terminal_safe((errors or lines)[-1], one_line=True)[:300]
        return "nginx exited (no log)"

    def reload(self) -> None:
        """Check the new configuration (``nginx -t``), then reload gracefully (SIGHUP)."""
        with translate("reloading the gateway"):
            container = self.client.containers.get(self.name)
            result = container.exec_run(["nginx", "-t", "-c", CONF_PATH])
            if result.exit_code != 0:
                text = result.output.decode("utf-8", "replace").strip().splitlines()
                last = terminal_safe(text[-1] if text else "", one_line=True)
                raise ContainerError(f"the gateway refused the new configuration: {last}")
            since = int(time.time()) - 1
            before = _reloads(container, since)
            container.kill(signal="SIGHUP")
            self._wait_reloaded(container, since, before)

    @staticmethod
    def _wait_reloaded(container: Any, since: int, before: int) -> None:
        """Wait until the old worker logs that it shuts down gracefully ("notice" level): it closes its
        listening socket right then, so from here every new connection meets the new keys (it keeps
        serving the streams it has until they end)."""
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            text = _stderr(container, since)
            latest = text.rsplit(_RECONFIGURING, 1)[-1]
            if text.count(_RECONFIGURING) > before and "gracefully shutting down" in latest:
                return
            time.sleep(0.1)
        raise ContainerError(f"the gateway did not confirm its reload within {_START_TIMEOUT_S:.0f}s")

    def remove(self) -> bool:
        """Remove the gateway container; False when there was none."""
        state = self.state()
        if state is None:
            return False
        with translate("removing the gateway container"), contextlib.suppress(docker.errors.NotFound):
            self.client.containers.get(self.name).remove(force=True)
        return True
