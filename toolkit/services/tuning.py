"""A tune of the server that runs here, container or native: set up, winner applied, history stored.

The container's tune is ``toolkit.services.container_tune``'s (the winner written into compose.yaml). A
native ``ollama serve`` that ``gpuless up --runtime native`` started is tuned the same way: the same
candidates (``plan_candidates``), the same loop and transaction (``toolkit.adapters.tune.tuner``: the start
restored on any failure or signal, what runs read back), its restarts done by
``toolkit.adapters.native.target.NativeTarget``. Its winner is left running and recorded; when the
server was started from a compose file, the winner is written into that file in place too (diff, backup),
so ``gpuless up --runtime native`` starts it again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.adapters.native.record import NativeRecord, lock_name
from toolkit.adapters.native.target import NativeTarget
from toolkit.adapters.tune.tuner import Progress, Tuner
from toolkit.core.compose.spec import OllamaServiceSpec
from toolkit.core.tune.knobs import Knobs, Objective
from toolkit.services.container_tune import TuneSession, checked_tuner, plan_candidates, store_history
from toolkit.services.readback import runtime_here
from toolkit.settings import Settings


@dataclass
class NativeTuneSession:
    """Everything one tune of a native server needs (``TuneSession``'s fields that apply).

    Attributes:
        record: the server as it was when the tune began.
        compose_path: the compose file it was started from (the winner is written there), or None.
        spec: its starting configuration.
        target: the server as the tuner restarts it.
        tuner: the loop, with the candidates and the budget.
        candidates / pruned: how many configurations will be tried, and how many were pruned.
    """

    record: NativeRecord
    compose_path: Path | None
    spec: OllamaServiceSpec
    target: NativeTarget
    tuner: Tuner
    candidates: int
    pruned: int


def prepare(
    settings: Settings,
    compose_path: Path,
    objective: Objective,
    budget_s: float,
    *,
    runtime: str | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    hold: contextlib.ExitStack | None = None,
) -> TuneSession | NativeTuneSession:
    """The session for the server that runs here (``runtime``: "docker", "native", or None for
    ``toolkit.services.readback.runtime_here``'s rule); ``UsageError`` when it cannot be tuned."""
    from toolkit.services import container_tune as tune_session

    file = compose_path if compose_path.exists() or runtime == "docker" else None
    _, found = runtime_here(settings, file, runtime)
    if found is None:
        return tune_session.prepare(
            compose_path, objective, budget_s, progress=progress, cancelled=cancelled, hold=hold
        )
    return _prepare_native(settings, found, objective, budget_s, progress, cancelled, hold)


def _prepare_native(
    settings: Settings,
    found: NativeRecord,
    objective: Objective,
    budget_s: float,
    progress: Progress | None,
    cancelled: Callable[[], bool] | None,
    hold: contextlib.ExitStack | None,
) -> NativeTuneSession:
    from toolkit.adapters.docker.project_lock import exclusive

    spec = found.spec
    target = NativeTarget(found, settings.native_dir)
    if hold is not None:
        hold.enter_context(exclusive(lock_name(spec.port), command="tune"))
    compose_path = Path(found.compose_path) if found.compose_path else None
    if compose_path is not None and not compose_path.is_file():
        compose_path = None  # the file it came from is gone: the winner is recorded only
    if compose_path is not None:
        from toolkit.adapters.compose_file import check_writable

        check_writable(compose_path)
    planned = plan_candidates(spec, objective)
    tuner = checked_tuner(target, spec, objective, budget_s, compose_path, planned, progress, cancelled)
    counts = len(tuner.candidates), len(tuner.pruned)
    return NativeTuneSession(found, compose_path, spec, target, tuner, *counts)


def apply_winner(session: TuneSession | NativeTuneSession, knobs: Knobs) -> dict[str, Any]:
    """The winner kept: the container's written into its compose file and verified
    (``container_tune.apply_winner``); a native server's (already running it, and recorded) verified, and
    written into the compose file it was started from, when there is one."""
    from toolkit.adapters.native import readback
    from toolkit.services import container_tune as tune_session

    if isinstance(session, TuneSession):
        return tune_session.apply_winner(session, knobs)
    spec = session.target.spec_for(knobs)
    written: dict[str, Any] = {"compose_file": None, "backup": None, "diff": ""}
    if session.compose_path is not None:
        written = tune_session.write_winner(
            session.compose_path, session.spec, spec, label(session), start_command(session)
        )
    return written | {"verify": readback.verify(session.target.record).to_dict()}


def start_command(session: TuneSession | NativeTuneSession) -> str:
    """The command that starts the tuned server's saved configuration again."""
    return "gpuless up" if isinstance(session, TuneSession) else "gpuless up --runtime native"


def label(session: TuneSession | NativeTuneSession) -> str:
    """What is tuned, for the first line ("the container gpuless-ollama", "ollama serve (pid 4242) at
    http://127.0.0.1:11434")."""
    if isinstance(session, TuneSession):
        return f"the container {session.spec.container_name}"
    return f"ollama serve (pid {session.record.pid}) at {session.spec.url}"


__all__ = [
    "NativeTuneSession",
    "TuneSession",
    "apply_winner",
    "label",
    "prepare",
    "start_command",
    "store_history",
]
