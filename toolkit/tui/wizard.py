"""What a step screen may ask of the wizard app: its dependencies, the state the steps produced, and
navigation. Screens see the app through this ``Protocol`` (``WizardScreen.wizard``), so no screen imports
``toolkit.tui.app``, which imports the screens (that would be a circle).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from toolkit.core.compose.spec import OllamaServiceSpec
from toolkit.core.machine.hardware import Machine
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
    """

    services: WizardDeps
    machine: Machine | None
    choice: Any
    compose_path: Path | None
    spec: OllamaServiceSpec | None
    engine: tuple[str, str] | None

    def default_spec(self, model: str) -> OllamaServiceSpec:
        """The spec for ``model`` when the Compose step has not produced one."""
        ...

    def action_goto(self, step_id: str) -> None:
        """Show the step ``step_id``."""
        ...

    def action_connect(self, url: str = "", model: str = "") -> None:
        """Open the Connect panel for ``url`` and ``model`` (by default the launched ones)."""
        ...
