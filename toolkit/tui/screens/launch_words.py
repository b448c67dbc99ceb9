"""What the Launch step says besides its progress: what runs already when the step opens, the words for
each pull failure, the result line after a failure (why, what to do, what ``o`` offers) and the container
as the engine has it afterwards."""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.errors import (
    DiskFullError,
    DockerUnavailableError,
    ModelNotFoundError,
    PortInUseError,
    RegistryUnreachableError,
)
from toolkit.tui.plan import port_of_url
from toolkit.tui.screens.base import StepCancelled

if TYPE_CHECKING:
    from toolkit.adapters.docker.runner import DockerRunner
    from toolkit.core.catalog.model import Catalog
    from toolkit.core.compose.spec import OllamaServiceSpec
    from toolkit.core.machine.hardware import Machine
    from toolkit.services.world import World
    from toolkit.tui.deps import WizardDeps

#: Pull failures and the words for them on the Model row.
PULL_FAILED = {
    ModelNotFoundError: "failed: no such model in the registry",
    RegistryUnreachableError: "failed: the registry could not be reached",
    DiskFullError: "failed: the disk is full",
}

#: Failures the result line explains with what to do in this step (o, f, r, a): no error panel repeats it.
EXPLAINED = (DockerUnavailableError, PortInUseError, *PULL_FAILED)


class LaunchCancelled(StepCancelled):
    """Raised inside the launch worker's progress callback when the user cancels."""


def failure_text(error: BaseException | None, offer: str | None) -> str:
    """What the result line says after a failed launch: why, what to do, and what ``o`` offers."""
    if isinstance(error, LaunchCancelled):
        return "Cancelled; anything this launch created was removed."
    if isinstance(error, DockerUnavailableError):
        return f"No Docker engine answers: {error.message}"
    if isinstance(error, PortInUseError):
        return f"{error.message}."
    if not isinstance(error, tuple(PULL_FAILED)):
        return "Launch failed: what happened and what to do are said below."
    assert isinstance(error, ModelNotFoundError | RegistryUnreachableError | DiskFullError)
    text = f"{error.message}\nWhat to do: {error.hint}"
    if offer is not None:
        text += f"\nPress o to try {offer} instead (the next candidate that fits this machine)"
        if isinstance(error, RegistryUnreachableError):
            text += "; it needs the registry too, unless it is downloaded already"
        text += "."
    return text


def container_state(runner: DockerRunner, name: str) -> str:
    """The Health row's text for the container ``name`` as the engine has it now."""
    try:
        attrs = runner.find(name)
    except Exception:  # the engine went away too: say so rather than guess
        return "unknown: the Docker engine did not answer"
    if attrs is None:
        return "no container (this launch removed what it created)"
    status = (attrs.get("State") or {}).get("Status") or "unknown"
    return f"container {name} {status} (left as it was)"


def running_rows(world: World) -> dict[str, str]:
    """The rows (health, image, pull) and the result line for what runs already, by row name."""
    box, serving = world.container, world.serving()
    if box is None:
        return {"health": "no gpuless container yet: ctrl+s starts one"}
    health = f", {box.health}" if box.health else ""
    where = f", port {port_of_url(box.url)}" if box.url else ""
    rows = {"health": f"{box.state}{health}{where}"}
    if box.running and serving is not None:
        rows |= {
            "image": "present (the container runs)",
            "pull": f"{serving} ready",
            "result": f"Running: {serving} at {world.url} (container {box.name}). Press n to benchmark it,"
            " 6 to chat, c to connect an app; ctrl+s starts the plan of Compose (3) instead.",
        }
    return rows


def mode_line(services: WizardDeps, spec: OllamaServiceSpec | None) -> str:
    """What a launch will do (the image, container and port it starts, or the server it attaches to)."""
    if services.launch_mode != "docker":
        text = f"Attach: using the server at {services.url} (gpuless does not start it)."
    elif spec is not None:
        text = f"Docker: image {spec.image}, container {spec.container_name}, port {spec.port}."
    else:
        text = f"Docker: image {services.ollama_image}, container {services.settings.container_name}."
    return text + " ctrl+s starts; esc cancels a launch, or leaves the model field."


def next_offer(machine: Machine, catalog: Catalog, failed: set[str]) -> str | None:
    """The next candidate that fits ``machine`` after the tags in ``failed`` (offered with ``o``)."""
    from toolkit.core.recommend.pick import recommend
    from toolkit.core.recommend.pullfailure import next_candidate

    found = next_candidate(recommend(machine, catalog).candidates, failed)
    return found.tag if found is not None else None
