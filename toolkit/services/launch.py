"""Launch a planned server in Docker and report what took effect: the CLI's ``up`` and the wizard's
Launch step do exactly this, in this order.

Start (or reuse) the container, pull the model and create the served model (``up_and_pull``), read back
what took effect (``verify``), and bring ./compose.yaml in line when the server was started from options
rather than from the file (a model switch must not leave the file naming the old model).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from toolkit.adapters.compose_file import sync_compose_file
from toolkit.adapters.docker.runner import DockerRunner, UpResult, up_and_pull
from toolkit.adapters.progress import ProgressCallback
from toolkit.core.compose.spec import OllamaServiceSpec
from toolkit.core.compose.verify import VerifyReport
from toolkit.errors import ModelNotFoundError


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
