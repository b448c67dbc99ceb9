"""Launch a planned server and report what took effect: the CLI's ``up`` and the wizard's Launch step
do exactly this, in this order, in each of the three ways.

In Docker (``launch``): start (or reuse) the container, pull the model and create the served model
(``up_and_pull``, a Docker and Ollama transaction: a container this call created is removed again when
the pull fails), read back what took effect (``verify``), and bring ./compose.yaml in line when the
server was started from options rather than from the file (a model switch must not leave the file
naming the old model). Natively: ``toolkit.services.native.launch_native`` (the process is recorded, so
later commands find it). Attached (``attach``): an Ollama that already answers at a URL, and the model
pulled there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from toolkit.adapters.compose_file import sync_compose_file
from toolkit.adapters.docker.readback import spec_of
from toolkit.adapters.docker.runner import DockerRunner, UpResult
from toolkit.adapters.ollama import admin as ollama_admin
from toolkit.adapters.ollama import native
from toolkit.adapters.ollama.native import NativeResult
from toolkit.adapters.progress import ProgressCallback
from toolkit.core.compose.docker_args import spec_fingerprint
from toolkit.core.compose.spec import LABEL_FINGERPRINT, LABEL_MANAGED, OllamaServiceSpec
from toolkit.core.compose.verify import VerifyReport
from toolkit.errors import ModelNotFoundError, UsageError


@dataclass(frozen=True)
class Launched:
    """What a launch did.

    Attributes:
        up: the container's part (created, reused, …; refused settings; engine warnings).
        report: which settings took effect, read back from the engine and the server.
        compose_note: one line about the compose file (updated, or why it differs), None if nothing.
    """

    up: UpResult
    report: VerifyReport
    compose_note: str | None


def launch(
    runner: DockerRunner,
    spec: OllamaServiceSpec,
    *,
    compose_path: Path | None,
    pull_image: bool = True,
    pull_model: bool = True,
    progress: ProgressCallback | None = None,
    health_timeout: float = 120.0,
) -> Launched:
    """Start ``spec``, verify it, and sync ``compose_path`` (None: the spec came from that file).
    A model the registry does not know gets "did you mean …?" from the catalog's close spellings."""
    try:
        outcome = up_and_pull(
            runner,
            spec,
            pull_image=pull_image,
            pull_model=pull_model,
            progress=progress,
            health_timeout=health_timeout,
        )
    except ModelNotFoundError as error:
        raise _with_close_matches(error, spec.model) from None
    report = runner.verify(spec.container_name, warnings=outcome.warnings)
    note = sync_compose_file(compose_path, spec) if compose_path is not None else None
    return Launched(outcome, report, note)


def _with_close_matches(error: ModelNotFoundError, model: str) -> ModelNotFoundError:
    from toolkit.adapters.resources import load_catalog

    close = [tag for tag in load_catalog().close_matches(model) if tag != model]
    if not close:
        return error
    hint = f"Did you mean {' or '.join(repr(tag) for tag in close)}? {error.hint or ''}".strip()
    return ModelNotFoundError(error.message, hint=hint)


def up_and_pull(
    runner: DockerRunner,
    spec: OllamaServiceSpec,
    *,
    pull_image: bool = True,
    pull_model: bool = True,
    progress: ProgressCallback | None = None,
    health_timeout: float = 120.0,
) -> UpResult:
    """``up``, then pull the spec's model through ``/api/pull`` (skipped when already there) and create
    the served model with the tuned parameters (what the compose file's init service does).

    If the model pull fails, a container this call created is removed again (and a volume it created),
    so a failed ``gpuless up`` leaves nothing behind; a reused container is left as it was. A server
    that runs already is asked for the new model first, so a mistyped tag fails before it is replaced.
    """
    if pull_model:
        _pull_before_replacing(runner, spec, progress)
    result = runner.up(spec, pull_image=pull_image, progress=progress, health_timeout=health_timeout)
    if not pull_model:
        return result
    try:
        ollama_admin.prepare_served_model(result.url, spec, progress)
    except BaseException:
        if result.action in ("created", "recreated"):
            runner.remove_quietly(result.container_id)
            if result.created_volume:
                runner.remove_volume_quietly(spec.volume_name)
        raise
    return result


def _pull_before_replacing(
    runner: DockerRunner, spec: OllamaServiceSpec, progress: ProgressCallback | None
) -> None:
    """When our server already runs with another configuration on the same models volume, pull the new
    model through it: the models volume is shared, so the new container finds it, and a tag that does
    not exist (or a registry that cannot be reached) fails while the running server is still there."""
    attrs = runner.find(spec.container_name)
    if attrs is None or not (attrs.get("State") or {}).get("Running"):
        return
    labels = attrs.get("Config", {}).get("Labels") or {}
    if labels.get(LABEL_MANAGED) != "true" or labels.get(LABEL_FINGERPRINT) == spec_fingerprint(spec):
        return
    try:
        running = spec_of(attrs)
    except (KeyError, UsageError):
        return
    if running.volume_name != spec.volume_name:
        return
    if not ollama_admin.has_model(running.url, spec.model):
        ollama_admin.pull_model(running.url, spec.model, progress)


@dataclass(frozen=True)
class Attached:
    """What an attach did: the server that answers, and whether its model was pulled now (None: no
    model was asked for)."""

    server: NativeResult
    pulled: bool | None


def attach(
    url: str,
    model: str | None,
    *,
    wait_s: float = 0.0,
    progress: ProgressCallback | None = None,
    answered: Callable[[NativeResult], None] | None = None,
) -> Attached:
    """Use the Ollama at ``url`` (typed by the user; waiting up to ``wait_s`` for it to answer), and
    pull ``model`` there unless it has it. ``answered`` is told as soon as the server answers."""
    server = native.attach(url, wait_s=wait_s)
    if answered is not None:
        answered(server)
    if not model:
        return Attached(server, None)
    if ollama_admin.has_model(url, model):
        return Attached(server, False)
    ollama_admin.pull_model(url, model, progress)
    return Attached(server, True)
