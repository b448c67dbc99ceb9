"""A tune of the container of a compose file, from set-up to the winner written back.

Shared by `gpuless tune` (which applies a winner at once) and the wizard's Benchmark step (which asks:
Apply writes the winner into compose.yaml, Keep restarts the configuration that ran before). The rules
are ``toolkit.core.tune``'s, the loop ``toolkit.adapters.tuner``'s; this module finds the container,
builds the candidates from the estimator, and does the safe write, ``verify`` and the history entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.adapters.tuner import ComposeTarget, Progress, Tuner
from toolkit.core.compose import OllamaServiceSpec
from toolkit.core.tune import Budget, Knobs, Objective, generate_candidates, memory_estimator
from toolkit.errors import GpulessError, UsageError


@dataclass
class TuneSession:
    """Everything one tune needs, ready to ``tuner.run()``.

    Attributes:
        compose_path: the compose file whose container is tuned (the winner is written here).
        spec: its service spec (the starting configuration).
        runner: the ``DockerRunner`` that recreates the container.
        target: the container as the tuner restarts it.
        tuner: the loop, with the candidates and the budget.
        candidates / pruned: how many configurations will be tried, and how many were pruned.
    """

    compose_path: Path
    spec: OllamaServiceSpec
    runner: Any
    target: ComposeTarget
    tuner: Tuner
    candidates: int
    pruned: int


def prepare(
    compose_path: Path,
    objective: Objective,
    budget_s: float,
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> TuneSession:
    """The session for the running container of ``compose_path``; ``UsageError`` when there is no file
    or its container is not running."""
    from toolkit.adapters.compose_file import read_compose_file
    from toolkit.adapters.docker_runner import DockerRunner
    from toolkit.adapters.probes import detect_machine
    from toolkit.adapters.resources import load_catalog

    if not compose_path.exists():
        raise UsageError(
            f"{compose_path} does not exist", "Write one with `gpuless compose`, start it with `up`."
        )
    spec = read_compose_file(compose_path).spec
    runner = DockerRunner()
    attrs = runner.find(spec.container_name)
    if attrs is None or not (attrs.get("State") or {}).get("Running"):
        raise UsageError(
            f"the container {spec.container_name} of {compose_path} is not running",
            "Start it with `gpuless up` first; tune measures the server you run.",
        )
    machine = detect_machine(docker=False)
    try:
        memory_of = memory_estimator(*load_catalog().find(spec.model), machine)
    except GpulessError:  # a model the catalog does not know: no estimate, no memory pruning
        memory_of = memory_estimator(None, None, machine)
    start = Knobs.of(spec)
    candidates, pruned = generate_candidates(
        start,
        objective,
        physical_cores=machine.cpu.physical_cores,
        logical_cores=machine.cpu.logical_cores,
        memory_of=memory_of,
    )
    target = ComposeTarget(runner, spec, memory_of, mem_cap_bytes=objective.mem_cap_bytes)
    tuner = Tuner(
        target, objective, start, candidates, pruned, Budget(budget_s), progress=progress, cancelled=cancelled
    )
    return TuneSession(compose_path, spec, runner, target, tuner, len(candidates), len(pruned))


def apply_winner(session: TuneSession, knobs: Knobs) -> dict[str, Any]:
    """Write ``knobs`` into the compose file through the safe write (diff, backup) and ``verify`` the
    container (already running them: the tuner left the winner running)."""
    from toolkit.adapters.compose_file import write_compose
    from toolkit.core.compose_yaml import render_compose_yaml

    spec = session.target.spec_for(knobs)
    written = write_compose(session.compose_path, render_compose_yaml(spec), force=True)
    report = session.runner.verify(spec.container_name)
    return {
        "compose_file": str(session.compose_path),
        "backup": str(written.backup) if written.backup else None,
        "diff": written.diff,
        "verify": report.to_dict(),
    }


def store_history(path: Path | None, model: str, url: str, payload: dict[str, Any]) -> str | None:
    """Store the tune in the history at ``path`` (api "tune"; None = history off); the reason it could
    not be, or None."""
    from toolkit.adapters.history import History

    if path is None:
        return None
    try:
        with History(path) as store:
            run_id = store.start_run(
                model=model, api="tune", url=url, settings={"objective": payload["objective"]}
            )
            status = "interrupted" if payload["interrupted"] else "complete"
            summary = {"reason": payload["reason"], "before_after": payload["before_after"]}
            store.finish_run(run_id, status=status, summary=summary)  # type: ignore[arg-type]
    except GpulessError as error:
        return error.message
    return None
