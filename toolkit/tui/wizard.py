"""What a step screen may ask of the wizard app: its dependencies, the state the steps produced, and
navigation. Screens see the app through this ``Protocol`` (``WizardScreen.wizard``), so no screen imports
``toolkit.tui.app``, which imports the screens (that would be a circle).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from toolkit.core.compose.spec import OllamaServiceSpec
from toolkit.core.machine.hardware import Machine
from toolkit.services.world import World
from toolkit.tui.deps import WizardDeps


class Wizard(Protocol):
    """The wizard app as its steps use it (``toolkit.tui.app.GpulessApp`` is the one implementation).

    Attributes:
        services: what the wizard depends on (settings, URL, catalog, paths).
        machine: the machine the Machine step detected, None until it has.
        choice: the Model step's pick (a ``Pick``), None until one is made.
        compose_path: the file the Compose step saved, None until it has.
        spec: the spec the Compose step produced, None until it has.
        engine: (url, model) of the server the Launch step started or attached, None until then.
        world: what runs here (compose file, container, server), None until first read.
        port_offer: the next free port when the planned one is taken, else None.
        sharing: the URL of the share gateway the Team panel started, None when none.
        pending_errors: an error per step id, shown on that step until dismissed.
    """

    services: WizardDeps
    machine: Machine | None
    choice: Any
    compose_path: Path | None
    spec: OllamaServiceSpec | None
    engine: tuple[str, str] | None
    world: World | None
    port_offer: int | None
    sharing: str | None
    pending_errors: dict[str, BaseException]

    @property
    def file_spec(self) -> OllamaServiceSpec | None:
        """The spec of the gpuless compose file here, None when there is none."""
        ...

    def look(self) -> Any:
        """Read the world again (a worker: it returns at once)."""
        ...

    def check_port(self) -> Any:
        """Offer the next free port when the planned one is taken (a worker)."""
        ...

    def use_free_port(self) -> int | None:
        """Move the plan to the offered free port; the port taken, None when none was offered."""
        ...

    def action_step(self, offset: int) -> None:
        """Show the step ``offset`` steps away."""
        ...

    def default_spec(self, model: str) -> OllamaServiceSpec:
        """The spec for ``model`` when the Compose step has not produced one."""
        ...

    def action_goto(self, step_id: str) -> None:
        """Show the step ``step_id``."""
        ...

    def action_connect(self, url: str = "", model: str = "") -> None:
        """Open the Connect panel for ``url`` and ``model`` (by default the launched ones)."""
        ...
