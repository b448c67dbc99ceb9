"""What the wizard depends on, passed in through ``create_app`` instead of found through globals.

Pilot and snapshot tests build a ``WizardDeps`` that points at the loopback test server, a fixed
machine and a temporary directory; ``default_deps`` builds the real one from ``Settings``.
Engine modules are imported inside the default callables so that importing the TUI stays fast.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from toolkit.core.catalog.model import Catalog
from toolkit.core.machine.hardware import Machine
from toolkit.settings import Settings

LaunchMode = Literal["docker", "attach"]


def _load_catalog() -> Catalog:
    from toolkit.services.machine import catalog

    return catalog()


def _detect_this_machine(cache_dir: Path | None = None) -> Machine:
    from toolkit.services.machine import this_machine

    return this_machine(cache_dir=cache_dir)


@dataclass(frozen=True)
class WizardDeps:
    """Dependencies of the wizard.

    Attributes:
        settings: user settings (data dir, image, container and volume names).
        ollama_url: the Ollama server the Launch, Benchmark and Chat steps talk to.
        detect: returns the machine to plan for; runs in a thread worker, may be slow.
        catalog: returns the model catalog (shipped TOML files, ``toolkit.services.machine.catalog``).
        compose_dir: where the Compose step saves ``compose.yaml``.
        launch_mode: "docker" starts Ollama through the Docker SDK; "attach" uses a server that is
            already running at ``ollama_url`` (the loopback test server, or an Ollama you started).
        image: the Ollama image the Docker launch uses (defaults to the settings' image).
        history_path: SQLite file of benchmark runs; None disables history.
        bench_overrides: ``BenchConfig`` fields that replace the wizard's short-run defaults.
    """

    settings: Settings = field(default_factory=Settings)
    ollama_url: str = ""
    detect: Callable[[], Machine] = _detect_this_machine
    catalog: Callable[[], Catalog] = _load_catalog
    compose_dir: Path = field(default_factory=Path.cwd)
    launch_mode: LaunchMode = "docker"
    image: str = ""
    history_path: Path | None = None
    bench_overrides: Mapping[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.ollama_url or self.settings.ollama_url

    def resolve_url(self) -> str:
        """The server Chat and Benchmark talk to without a launch: ``ollama_url`` when given, else the
        one the CLI would pick (a running ``gpuless up`` container first). Blocking: call it in a thread."""
        if self.ollama_url:
            return self.ollama_url
        from toolkit.services.server_url import server_url

        return server_url(None, self.settings)

    @property
    def ollama_image(self) -> str:
        return self.image or self.settings.image

    @property
    def compose_path(self) -> Path:
        return self.compose_dir / "compose.yaml"


def default_deps(settings: Settings | None = None) -> WizardDeps:
    """The services of a real run: the process's settings (read from the environment when not given),
    history in the data dir."""
    settings = settings or Settings()
    cache_dir = settings.cache_dir
    return WizardDeps(
        settings=settings, history_path=settings.history_path, detect=lambda: _detect_this_machine(cache_dir)
    )
