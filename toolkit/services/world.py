"""What runs here, read fresh: the compose file, the container it names, and that server's models.

The wizard reads this when it opens and whenever a step is entered, so a wizard reopened over a running
server shows that server (model, port, health) instead of an empty form, and its Compose step starts from
the file the user has rather than from defaults. Every look is bounded (the engine gets 2 s, the server
3 s) and a look that fails is recorded as "not known", never raised: the world is shown, not required.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.core.compose.read import ComposeFileSpec
from toolkit.core.compose.spec import OllamaServiceSpec, served_model
from toolkit.errors import GpulessError, PortInUseError, UsageError
from toolkit.settings import Settings

#: How many ports above a busy one ``next_free_port`` tries.
PORT_SEARCH = 200


@dataclass(frozen=True)
class Container:
    """gpuless's container as the engine has it.

    Attributes:
        name: the container name.
        state: the engine's state ("running", "exited", …).
        health: the healthcheck's status ("healthy", "starting", …), None without one.
        model: the model it was started for (its label), None when the label is missing.
        url: the loopback URL its server answers on, None when not running.
    """

    name: str
    state: str
    health: str | None
    model: str | None
    url: str | None

    @property
    def running(self) -> bool:
        return self.state == "running" and self.url is not None

    @property
    def served_model(self) -> str | None:
        return served_model(self.model) if self.model else None


@dataclass(frozen=True)
class World:
    """What the wizard found when it last looked.

    Attributes:
        url: the server Benchmark and Chat talk to when nothing was launched in this session: the one
            the user chose, else the running container's, else the compose file's, else the default.
        compose: the compose file, read back (None when there is none or it is not gpuless's).
        compose_problem: why an existing compose file could not be used, None when it could.
        container: gpuless's container (the file's, or the configured name), None when there is none
            or no engine answered.
        version: the Ollama version answering at ``url``, None when nothing answers.
        models: the models that server has.
    """

    url: str
    compose: ComposeFileSpec | None = None
    compose_problem: str | None = None
    container: Container | None = None
    version: str | None = None
    models: tuple[str, ...] = field(default_factory=tuple)

    @property
    def file_spec(self) -> OllamaServiceSpec | None:
        return self.compose.spec if self.compose is not None else None

    @property
    def running(self) -> Container | None:
        """The container when it runs and its server answers at ``url``."""
        box = self.container
        return box if box is not None and box.running and box.url == self.url and self.version else None

    def serving(self) -> str | None:
        """The model clients should use on the running server: the container's served model when the
        server has it, else its base model, else the server's first model; None when nothing answers."""
        if self.version is None:
            return None
        box = self.running
        for name in (box.served_model, box.model) if box is not None else ():
            if name and (name in self.models or f"{name}:latest" in self.models):
                return name
        return self.models[0] if self.models else None


def read_world(settings: Settings, compose_path: Path, *, url: str = "", docker: bool = True) -> World:
    """Look at ``compose_path``, gpuless's container (with ``docker``) and the server. ``url``: a server
    the caller was given (it wins over what runs here). Blocking: call it in a thread."""
    from toolkit.adapters.compose_file import read_compose_file
    from toolkit.services.server_url import chosen_url

    compose, problem = None, None
    if compose_path.is_file():
        try:
            compose = read_compose_file(compose_path)
        except UsageError as error:
            problem = error.message
    spec = compose.spec if compose is not None else None
    container = _container(spec.container_name if spec else settings.container_name) if docker else None
    chosen = chosen_url(url or None, settings)
    running = container.url if container is not None and container.running else None
    where = chosen or running or (spec.url if spec is not None else settings.ollama_url)
    version, models = _server(where)
    return World(where, compose, problem, container, version, models)


def _container(name: str) -> Container | None:
    from toolkit.adapters.docker.runner import DockerRunner

    try:
        status = DockerRunner(timeout=2).status(name)
    except GpulessError:  # no engine, or it does not answer: nothing of ours is known to run
        return None
    if not status.exists:
        return None
    url = status.url if status.state == "running" else None
    return Container(name, status.state or "unknown", status.health, status.model, url)


def _server(url: str) -> tuple[str | None, tuple[str, ...]]:
    from toolkit.adapters.ollama import admin as ollama_admin

    try:
        version = ollama_admin.api_version(url, timeout=3.0)
    except GpulessError:
        return None, ()
    models: tuple[str, ...] = ()
    with contextlib.suppress(GpulessError):
        models = tuple(ollama_admin.model_names(url, timeout=3.0))
    return version, models


def port_in_use(port: int, address: str = "127.0.0.1") -> bool:
    """Whether something already listens on ``address:port`` (a bind there fails)."""
    from toolkit.adapters.ports import check_port_free

    try:
        check_port_free(address, port)
    except PortInUseError:
        return True
    return False


def next_free_port(port: int, address: str = "127.0.0.1") -> int:
    """The first port above ``port`` nothing listens on; UsageError when none of the next
    ``PORT_SEARCH`` is free."""
    for candidate in range(port + 1, min(port + 1 + PORT_SEARCH, 65536)):
        if not port_in_use(candidate, address):
            return candidate
    raise UsageError(
        f"no free port among the {PORT_SEARCH} above {port}", "Stop something that listens there."
    )
