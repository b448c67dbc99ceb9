"""The pace of this machine now, for the Docker tests of `gpuless tune`: a tune's budget is wall time, so a
fixed budget that fits a candidate on a fast machine fits none on a slow one (at half a core a 40 s budget
did not even cover the start's measurement). The tests time one measurement as the tuner makes it and
the restart, and give the tune a budget and a margin that fit the same work at this pace.
"""

from __future__ import annotations

import asyncio
import time

from toolkit.adapters.tune.tuner import AFTER_GRACE_S, TuneSettings, _measure
from toolkit.core.tune.knobs import Knobs

#: The model the test containers serve (`gpuless compose --model smollm2:135m` creates it).
SERVED = "smollm2:135m-gpuless"


def measurement_s(url: str, users: int) -> float:
    """Seconds the tuner takes to measure one configuration for ``users`` after a restart: the warm-up
    and one measurement, with the tuner's own settings."""
    settings = TuneSettings()
    # as the test containers start (`--cpus 1`): only named in an error
    knobs = Knobs(1, 1, flash_attention=True, kv_cache_type="f16", context_length=4096)
    run = _measure(url, SERVED, users, settings.rounds, settings.predict_for(users), knobs, settings.timeout)
    started = time.monotonic()
    asyncio.run(run)
    return time.monotonic() - started


def budget_for_one_candidate(floor_s: float, measure_s: float) -> float:
    """A budget with room for the first candidate at this pace, never under ``floor_s``.

    The start is measured twice (≤ 2 × ``measure_s``), and the tuner's first guess of a candidate's cost
    is half that; a candidate is tried while elapsed + 3 guesses (it and a reserve of two) fit: 5 ×
    ``measure_s`` (which includes a warm-up the start's second measurement skips). Six leave room for the
    run-to-run spread of a shared machine."""
    return max(floor_s, round(6 * measure_s))


def margin_s(floor_s: float, restart_s: float) -> float:
    """What a tune may take past its budget at this pace: a restart (back to the start or to the winner),
    the winner's final measurement (at most AFTER_GRACE_S), `verify` and the process's own start-up,
    both counted as a second restart (``restart_s``: a `gpuless up` timed on this machine)."""
    return max(floor_s, 2 * restart_s + AFTER_GRACE_S)
