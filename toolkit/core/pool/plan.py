"""``gpuless pool plan``: can the pool's laptops carry N users at a speed grade, and if not, what would.

The answer adds up what each member measured (its users per grade, from its own ``gpuless bench``): nginx
spreads requests by least connections weighted by those figures, so the pool holds about the sum. When
that falls short, three ways out are priced: fewer users (what the pool holds now), another laptop of a
named class (users the estimator predicts that class holds with the pool's model, a prediction, not a
measurement), and a smaller model (the members' figures scaled by the estimator's decode-speed ratio of
the two models on one machine). A member that measured nothing counts for nothing, and says so.
Pure: the service gathers the capacities, machines and catalog; this decides.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from toolkit.core.catalog.model import ModelSpec, QuantVariant
from toolkit.core.estimate.estimator import estimate
from toolkit.core.estimate.grades import grade_line
from toolkit.core.estimate.params import DEFAULT_PARAMS, EstimatorParams
from toolkit.core.machine.hardware import Machine
from toolkit.core.pool.members import Capacity

#: The most users an estimate is priced for (a laptop class holding more is reported as this).
MOST_USERS = 32
#: Share of a laptop's RAM the model, its KV caches and the runtime may take (the OS and apps keep the rest).
RAM_SHARE = 0.6


@dataclass(frozen=True)
class LaptopOption:
    """A laptop class that could join: its profile name and label, and users it is predicted to hold."""

    name: str
    label: str
    users: int


@dataclass(frozen=True)
class ModelOption:
    """A smaller model: its name and its decode speed relative to the pool's model (estimator)."""

    model: str
    speed_ratio: float


@dataclass(frozen=True)
class PoolPlan:
    """The answer.

    Attributes:
        users: users asked for; grade: the grade letter asked for.
        members: (name, users held at the grade, or None when it measured nothing) per member.
        held: the sum over members that measured.
        holds: ``held >= users``.
        floor: some member's sweep stopped before the grade failed (the pool may hold more than ``held``).
        suggestions: what would carry ``users`` when the pool does not (empty when it does).
    """

    users: int
    grade: str
    members: tuple[tuple[str, int | None], ...]
    held: int
    holds: bool
    floor: bool
    suggestions: tuple[str, ...]


def estimated_users(
    spec: ModelSpec,
    variant: QuantVariant,
    machine: Machine,
    letter: str,
    params: EstimatorParams = DEFAULT_PARAMS,
) -> int:
    """Users ``machine`` is predicted to hold at grade ``letter``: the most simultaneous streams whose
    predicted per-stream decode stays on the grade's line and whose memory fits in ``RAM_SHARE`` of RAM."""
    line = grade_line(letter)
    ram = machine.memory.total_bytes * RAM_SHARE
    held = 0
    for streams in range(1, MOST_USERS + 1):
        guess = estimate(spec, variant, machine, parallel=streams, params=params)
        if guess.decode_tps < line or guess.total_bytes > ram:
            break
        held = streams
    return held


def plan_pool(
    members: Sequence[tuple[str, Capacity | None]],
    users: int,
    letter: str,
    laptops: Sequence[LaptopOption] = (),
    smaller: Sequence[ModelOption] = (),
) -> PoolPlan:
    """Whether ``members`` hold ``users`` at grade ``letter``, and if not, what would."""
    rows = tuple((name, cap.at(letter) if cap else None) for name, cap in members)
    held = sum(n for _, n in rows if n is not None)
    floor = any(cap is not None and cap.is_floor(letter) for _, cap in members)
    if held >= users:
        return PoolPlan(users, letter, rows, held, True, floor, ())
    missing = users - held
    tips = [f"fewer users: the pool holds {held} at grade {letter} as measured"]
    fits = sorted((lap for lap in laptops if lap.users > 0), key=lambda lap: (-lap.users, lap.name))
    for lap in fits[:2]:
        count = math.ceil(missing / lap.users)
        more = "another laptop" if count == 1 else f"{count} more laptops"
        tips.append(
            f"{more} like {lap.label} ({lap.name}): predicted {lap.users} users each at grade {letter} "
            "with this model (an estimate, not a measurement)"
        )
    for option in sorted(smaller, key=lambda o: -o.speed_ratio):
        scaled = math.floor(held * option.speed_ratio)
        if scaled >= users:
            tips.append(
                f"a smaller model: {option.model} decodes about {option.speed_ratio:.1f}× as fast, so about "
                f"{scaled} users at grade {letter} (the measured figures scaled by the estimator's ratio)"
            )
            break
    unmeasured = [name for name, n in rows if n is None]
    if unmeasured:
        tips.append(
            f"measure {', '.join(unmeasured)}: `gpuless bench` there (on a member, then `gpuless share` to "
            "publish it and `gpuless pool add` here to read it); unmeasured, it counts for nothing here"
        )
    return PoolPlan(users, letter, rows, held, False, floor, tuple(tips))
