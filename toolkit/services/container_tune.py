"""A tune of the container of a compose file, from set-up to the winner written back.

Shared by `gpuless tune` (which applies a winner at once) and the wizard's Benchmark step (which asks:
Apply writes the winner into compose.yaml, Keep restarts the configuration that ran before). The rules
are ``core.tune.knobs``'s, the loop ``toolkit.adapters.tune.tuner``'s; this service finds the container,
builds the candidates from the estimator, and does the safe write, ``verify`` and the history entry.

Everything that would make the end of a tune fail is checked before its budget is spent: the file's
directory must be writable, the user's edits must leave the tuned lines where they can be changed in
place (``toolkit.core.compose.edit``: the rest of the file is kept byte for byte), and a memory cap
must leave something to measure.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from toolkit.adapters.tune.target import ComposeTarget, Target
from toolkit.adapters.tune.tuner import Progress, Tuner
from toolkit.core.compose.spec import OllamaServiceSpec
from toolkit.core.tune.knobs import (
    Knobs,
    MemoryOf,
    Objective,
    Pruned,
    TuneBudget,
    TuneCandidate,
    generate_candidates,
    memory_estimator,
)
from toolkit.core.units import format_bytes
from toolkit.errors import GpulessError, UsageError
from toolkit.services.launch import up_and_pull


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
    hold: contextlib.ExitStack | None = None,
) -> TuneSession:
    """The session for the running container of ``compose_path``; ``UsageError`` when there is no file,
    its container is not running, or the tune could not end well (see the module docstring). With
    ``hold`` the container's project lock is taken into it (``ContainerError`` naming the holder)."""
    from toolkit.adapters.compose_file import check_writable, read_compose_file
    from toolkit.adapters.docker.project_lock import exclusive
    from toolkit.adapters.docker.runner import DockerRunner

    if not compose_path.exists():
        raise UsageError(
            f"{compose_path} does not exist", "Write one with `gpuless compose`, start it with `up`."
        )
    spec = read_compose_file(compose_path).spec
    check_writable(compose_path)
    runner = DockerRunner()
    if hold is not None:
        hold.enter_context(exclusive(spec.container_name, runner.lock_dir, command="tune"))
    attrs = runner.find(spec.container_name)
    if attrs is None or not (attrs.get("State") or {}).get("Running"):
        raise UsageError(
            f"the container {spec.container_name} of {compose_path} is not running",
            "Start it with `gpuless up` first; tune measures the server you run.",
        )
    planned = plan_candidates(spec, objective)
    memory_of = planned[0]

    def restart(candidate: OllamaServiceSpec) -> object:
        return up_and_pull(runner, candidate, pull_image=False)

    target = ComposeTarget(runner, spec, memory_of, start=restart, mem_cap_bytes=objective.mem_cap_bytes)
    tuner = checked_tuner(target, spec, objective, budget_s, compose_path, planned, progress, cancelled)
    return TuneSession(compose_path, spec, runner, target, tuner, len(tuner.candidates), len(tuner.pruned))


class TunedServer(Target, Protocol):
    """A server tune restarts (a container or a native Ollama), and the spec it would run ``knobs`` with."""

    def spec_for(self, knobs: Knobs) -> OllamaServiceSpec: ...


def checked_tuner(
    target: TunedServer,
    spec: OllamaServiceSpec,
    objective: Objective,
    budget_s: float,
    compose_path: Path | None,
    planned: tuple[MemoryOf, tuple[TuneCandidate, ...], tuple[Pruned, ...]],
    progress: Progress | None,
    cancelled: Callable[[], bool] | None,
) -> Tuner:
    """The tune of ``target`` over the ``planned`` candidates (``plan_candidates``), once it is known it
    can end well: a cap that pruned every candidate is checked against what runs now (``check_cap``), and
    ``compose_path`` (None: no file to write the winner into) against every candidate (``check_editable``)."""
    memory_of, candidates, pruned = planned
    start = Knobs.of(spec)
    if objective.mem_cap_bytes is not None and not candidates:
        check_cap(target.memory_bytes(), memory_of(start), objective.mem_cap_bytes)
    if compose_path is not None:
        check_editable(compose_path, spec, target.spec_for, candidates)
    budget = TuneBudget(budget_s)
    return Tuner(target, objective, start, candidates, pruned, budget, progress=progress, cancelled=cancelled)


def plan_candidates(
    spec: OllamaServiceSpec, objective: Objective
) -> tuple[MemoryOf, tuple[TuneCandidate, ...], tuple[Pruned, ...]]:
    """(the memory estimate of a configuration, the candidates, the pruned ones) for the server that
    runs ``spec`` on this machine: the container's and a native server's tune share them."""
    from toolkit.adapters.machine.probes import detect_machine
    from toolkit.adapters.resources import load_catalog

    machine = detect_machine(docker=False)
    try:
        memory_of = memory_estimator(*load_catalog().find(spec.model), machine)
    except GpulessError:  # a model the catalog does not know: no estimate, no memory pruning
        memory_of = memory_estimator(None, None, machine)
    candidates, pruned = generate_candidates(
        Knobs.of(spec),
        objective,
        physical_cores=machine.cpu.physical_cores,
        logical_cores=machine.cpu.logical_cores,
        memory_of=memory_of,
        slot_cap=_forced_slots(spec),
    )
    return memory_of, tuple(candidates), tuple(pruned)


def _forced_slots(spec: OllamaServiceSpec) -> int | None:
    """The slots the loaded runner really has (its ``-np``) when fewer than the file's
    OLLAMA_NUM_PARALLEL: Ollama forced them, and more slots cannot win. None when they agree, or when no
    model is loaded yet (nothing is loaded here: a server that does not answer must not hold the tune up
    before it starts)."""
    from toolkit.adapters.docker.server_slots import server_slots

    slots = server_slots(spec.url)
    return slots if slots is not None and slots < spec.num_parallel else None


def check_cap(used: int | None, needed: int | None, cap: int) -> None:
    """Every candidate was pruned by the cap: say so when the running configuration (``used`` measured,
    ``needed`` estimated) is over it too."""
    known = ((used, "uses"), (needed, "needs"))
    over = [(n, how) for n, how in known if n is not None and n > cap]
    if over:
        n, how = max(over)
        raise UsageError(
            f"the running configuration already {how} {format_bytes(n)}, over --mem-cap"
            f" {format_bytes(cap)}; no configuration of this model fits it",
            "Raise --mem-cap, or pick a smaller model with `gpuless compose --model ... --force`.",
        )


def check_editable(
    path: Path,
    spec: OllamaServiceSpec,
    spec_for: Callable[[Knobs], OllamaServiceSpec],
    candidates: tuple[TuneCandidate, ...],
) -> None:
    """Every candidate that may win (its spec: ``spec_for``) can be written into the user's file in place."""
    from toolkit.core.compose.edit import edit_in_place

    text = path.read_text(encoding="utf-8")
    for candidate in candidates:
        try:
            edit_in_place(text, spec, spec_for(candidate.knobs))
        except UsageError as error:
            raise UsageError(
                f"cannot tune {path}: a winner could not be written into it ({error.message})",
                "Undo that edit, or regenerate the file with `gpuless compose ... --force` (a backup is"
                " kept), then tune again.",
            ) from None


def apply_winner(session: TuneSession, knobs: Knobs) -> dict[str, Any]:
    """Write ``knobs`` into the compose file in place through the safe write (diff, backup) and
    ``verify`` the container (already running them: the tuner left the winner running)."""
    spec = session.target.spec_for(knobs)
    written = write_winner(session.compose_path, session.spec, spec, spec.container_name, "gpuless up")
    return written | {"verify": session.runner.verify(spec.container_name).to_dict()}


def write_winner(
    path: Path, before: OllamaServiceSpec, after: OllamaServiceSpec, running: str, start_command: str
) -> dict[str, Any]:
    """Write the tuned ``after`` into ``path`` in place of ``before`` (the safe write: the diff, a backup);
    the file, backup and diff. When it cannot be written, the error says that ``running`` runs the tuned
    settings while the file keeps the ones before (which ``start_command`` starts again)."""
    from toolkit.adapters.compose_file import write_compose
    from toolkit.core.compose.edit import edit_in_place

    try:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise UsageError(f"cannot read {path} again: {error}") from None
        written = write_compose(path, edit_in_place(text, before, after), force=True)
    except GpulessError as error:
        error.message += (
            f"; {running} runs the tuned settings, {path} still has the ones before"
            f" (`{start_command}` starts those again)"
        )
        raise
    backup = str(written.backup) if written.backup else None
    return {"compose_file": str(path), "backup": backup, "diff": written.diff}


Ending = Literal["complete", "incomplete", "failed"]


def store_history(
    path: Path | None, model: str, url: str, payload: dict[str, Any], status: Ending | None = None
) -> str | None:
    """Store the tune in the history at ``path`` (api "tune"; None = history off); the reason it could
    not be, or None. ``status`` defaults to "incomplete" for an interrupted tune, else "complete"."""
    from toolkit.adapters.bench.history import History
    from toolkit.adapters.critical import signals_deferred

    if path is None:
        return None
    if status is None:
        status = "incomplete" if payload["interrupted"] else "complete"
    try:
        with signals_deferred(), History(path) as store:  # one more Ctrl-C does not lose the record
            run_id = store.start_run(
                model=model, api="tune", url=url, settings={"objective": payload["objective"]}
            )
            summary = {"reason": payload["reason"], "before_after": payload["before_after"]}
            error = payload.get("problem") or payload.get("error")
            store.finish_run(run_id, status=status, summary=summary, error=error)
    except GpulessError as error:
        return error.message
    return None
