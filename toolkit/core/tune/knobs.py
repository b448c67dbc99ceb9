"""What `gpuless tune` tries, in which order, and when a candidate has really won.

Pure logic over data: the engine's tuner (``toolkit.adapters.tune.tuner``) restarts the server with each
candidate, measures it, and asks this module what to try next, whether the budget allows it and who won.

* Objective: one user as fast as possible (decode tok/s of a single stream), or N users at once (TTFT p95
  of N simultaneous streams; with a TTFT p95 limit, the most aggregate tok/s among the settings that meet
  it), optionally under a memory cap.
* Candidates come from the estimator, not a blind grid: OLLAMA_NUM_PARALLEL 1, 2, 4, … up to the users
  (more slots than users only cost memory), threads around the physical core count, the KV cache f16 or
  q8_0 (flash attention on; q8_0 needs it), flash attention off, and a halved context where a slot count
  would not fit otherwise. A candidate whose estimated memory exceeds the cap is pruned ("cannot fit"),
  one that cannot serve the objective better is pruned ("cannot win").
* Winner rule: the best candidate (its measurements averaged) must beat the starting configuration by
  more than the run-to-run spread measured on the configurations measured twice; otherwise the start is
  kept, and the result says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from statistics import fmean
from typing import Any, Literal

from toolkit.core.catalog.model import ModelSpec, QuantVariant
from toolkit.core.compose.spec import KvCacheType, OllamaServiceSpec
from toolkit.core.estimate.estimator import estimate
from toolkit.core.machine.hardware import Machine
from toolkit.errors import UsageError

#: The smallest spread a winner must clear: two runs agreeing closely once do not make the machine quiet.
MIN_SPREAD = 0.05
#: The shortest context a candidate may be given to fit more slots.
MIN_CONTEXT = 2048

ObjectiveKind = Literal["single", "users"]


@dataclass(frozen=True)
class Objective:
    """What the user wants tuned.

    Attributes:
        kind: "single" (one user as fast as possible) or "users" (``users`` people at once).
        users: simultaneous streams each measurement sends (1 for "single").
        ttft_p95_limit_s: with "users", the TTFT p95 every user must get; None = as low as possible.
        mem_cap_bytes: candidates whose estimated memory (or measured, once known) exceeds this are out.
    """

    kind: ObjectiveKind = "single"
    users: int = 1
    ttft_p95_limit_s: float | None = None
    mem_cap_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.users < 1:
            raise UsageError(f"--users {self.users} must be at least 1")
        if self.kind == "single" and self.users != 1:
            raise UsageError("the single-user objective measures one user", "use --users N for N users")
        if self.ttft_p95_limit_s is not None and self.ttft_p95_limit_s <= 0:
            raise UsageError(f"--ttft-p95 {self.ttft_p95_limit_s} must be above 0 seconds")

    @classmethod
    def for_users(
        cls, users: int, ttft_p95_limit_s: float | None = None, mem_cap_bytes: int | None = None
    ) -> Objective:
        """One user (``users`` = 1 and no limit) or ``users`` at once."""
        kind: ObjectiveKind = "single" if users == 1 and ttft_p95_limit_s is None else "users"
        return cls(kind, users, ttft_p95_limit_s, mem_cap_bytes)

    def describe(self) -> str:
        if self.kind == "single":
            text = "one user as fast as possible (decode tok/s)"
        elif self.ttft_p95_limit_s is None:
            text = f"{self.users} users at once, lowest TTFT p95"
        else:
            text = f"{self.users} users at once within TTFT p95 ≤ {self.ttft_p95_limit_s:g} s, most tok/s"
        if self.mem_cap_bytes is not None:
            text += f", memory ≤ {self.mem_cap_bytes / 1024**3:.1f} GiB"
        return text


@dataclass(frozen=True)
class Knobs:
    """The settings tuning changes (everything else of the spec stays as it is).

    Attributes:
        num_parallel: OLLAMA_NUM_PARALLEL.
        num_thread: llama.cpp threads (the served model's ``num_thread``); None = llama.cpp decides.
        flash_attention: OLLAMA_FLASH_ATTENTION.
        kv_cache_type: OLLAMA_KV_CACHE_TYPE (q8_0 needs flash attention).
        context_length: OLLAMA_CONTEXT_LENGTH and the served model's ``num_ctx``.
    """

    num_parallel: int
    num_thread: int | None
    flash_attention: bool
    kv_cache_type: KvCacheType
    context_length: int

    @classmethod
    def of(cls, spec: OllamaServiceSpec) -> Knobs:
        return cls(
            spec.num_parallel, spec.num_thread, spec.flash_attention, spec.kv_cache_type, spec.context_length
        )

    def label(self) -> str:
        threads = "auto" if self.num_thread is None else str(self.num_thread)
        fa = "on" if self.flash_attention else "off"
        return (
            f"parallel {self.num_parallel}, threads {threads}, flash attn {fa}, KV {self.kv_cache_type},"
            f" ctx {self.context_length}"
        )

    def apply_to(self, spec: OllamaServiceSpec, mem_limit_bytes: int | None) -> OllamaServiceSpec:
        """``spec`` with these knobs (and the memory limit they need)."""
        return replace(
            spec,
            num_parallel=self.num_parallel,
            num_thread=self.num_thread,
            flash_attention=self.flash_attention,
            kv_cache_type=self.kv_cache_type,
            context_length=self.context_length,
            mem_limit_bytes=mem_limit_bytes,
        )


@dataclass(frozen=True)
class TuneCandidate:
    """A configuration to try, and why.

    Attributes:
        knobs: the settings.
        reason: why it is worth measuring (one phrase).
        estimated_bytes: the estimator's memory for it; None for a model the catalog does not know.
    """

    knobs: Knobs
    reason: str
    estimated_bytes: int | None = None


@dataclass(frozen=True)
class Pruned:
    """A configuration not measured, and why ("cannot fit: …", "cannot win: …")."""

    knobs: Knobs
    reason: str


@dataclass(frozen=True)
class Measurement:
    """One short streaming run of one configuration. Rates in tokens/s, times in seconds.

    Attributes:
        streams: simultaneous streams sent.
        requests: requests that finished.
        decode_tps: median per-stream decode rate.
        aggregate_tps: all tokens generated ÷ the wall time of the run.
        ttft_p50_s / ttft_p95_s: client time to first token, over every request.
        memory_bytes: the server's memory after the run (container usage); None if unknown.
        seconds: the run's wall time.
    """

    streams: int
    requests: int
    decode_tps: float
    aggregate_tps: float
    ttft_p50_s: float
    ttft_p95_s: float
    memory_bytes: int | None
    seconds: float


@dataclass(frozen=True)
class Trial:
    """Everything measured for one configuration.

    Attributes:
        candidate: what was tried.
        runs: its measurements (two for the start and the top two).
        error: why it could not be measured (failed to start, refused, ran out of memory); None if it ran.
        restart_s: seconds the restart with these settings took.
    """

    candidate: TuneCandidate
    runs: tuple[Measurement, ...] = ()
    error: str | None = None
    restart_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.runs)

    def mean(self) -> Measurement:
        """The runs averaged (memory: the largest seen)."""
        if not self.runs:
            raise ValueError("no measurement")
        mems = [r.memory_bytes for r in self.runs if r.memory_bytes is not None]
        return Measurement(
            streams=self.runs[0].streams,
            requests=sum(r.requests for r in self.runs),
            decode_tps=fmean(r.decode_tps for r in self.runs),
            aggregate_tps=fmean(r.aggregate_tps for r in self.runs),
            ttft_p50_s=fmean(r.ttft_p50_s for r in self.runs),
            ttft_p95_s=fmean(r.ttft_p95_s for r in self.runs),
            memory_bytes=max(mems) if mems else None,
            seconds=sum(r.seconds for r in self.runs),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "knobs": asdict(self.candidate.knobs),
            "label": self.candidate.knobs.label(),
            "reason": self.candidate.reason,
            "estimated_bytes": self.candidate.estimated_bytes,
            "error": self.error,
            "restart_s": round(self.restart_s, 3),
            "runs": [asdict(r) for r in self.runs],
        }


# --- candidates -----------------------------------------------------------------------------------

MemoryOf = Callable[[Knobs], int | None]


def memory_estimator(model: ModelSpec | None, variant: QuantVariant | None, machine: Machine) -> MemoryOf:
    """The estimator's memory (weights + KV + runtime) for a model at given knobs; None if unknown."""

    def memory_of(knobs: Knobs) -> int | None:
        if model is None or variant is None:
            return None
        return estimate(
            model,
            variant,
            machine,
            context=knobs.context_length,
            parallel=knobs.num_parallel,
            kv_cache_type=knobs.kv_cache_type,
        ).total_bytes

    return memory_of


def _slot_counts(users: int) -> list[int]:
    counts = [1]
    while counts[-1] < users:
        counts.append(min(counts[-1] * 2, users))
    return counts


def _thread_counts(start: int | None, physical: int, logical: int) -> list[int]:
    around = {physical, max(physical - 1, 1), logical}
    if start is not None:
        around.add(start)
    return sorted(around, key=lambda n: (n != physical, abs(n - physical)))


def generate_candidates(
    start: Knobs,
    objective: Objective,
    *,
    physical_cores: int,
    logical_cores: int,
    memory_of: MemoryOf,
    slot_cap: int | None = None,
) -> tuple[tuple[TuneCandidate, ...], tuple[Pruned, ...]]:
    """Candidates in the order worth measuring (most promising first), and what was pruned.

    The start itself is not among them (the tuner measures it first, twice). ``slot_cap``: the slots the
    server really gives this model when it gives fewer than OLLAMA_NUM_PARALLEL asks (Ollama forces one
    for embedding models and some architectures, server/sched.go); more slots than that cannot win.
    """
    physical = max(physical_cores, 1)
    logical = max(logical_cores, physical)
    threads_best = start.num_thread if start.num_thread is not None else physical
    ordered: list[tuple[Knobs, str]] = []
    slots = _slot_counts(objective.users)
    # Most slots first for several users (every user then starts at once), the start's count for one.
    for n in sorted(slots, reverse=True) if objective.kind == "users" else [start.num_parallel]:
        base = replace(start, num_parallel=n, num_thread=threads_best)
        ordered.append((replace(base, flash_attention=True, kv_cache_type="f16"), f"{n} slot(s), flash attn"))
        ordered.append((replace(base, flash_attention=True, kv_cache_type="q8_0"), f"{n} slot(s), KV q8_0"))
        ordered.append(
            (replace(base, flash_attention=False, kv_cache_type="f16"), f"{n} slot(s), no flash attn")
        )
    best_slots = max(slots) if objective.kind == "users" else start.num_parallel
    for threads in _thread_counts(start.num_thread, physical, logical):
        knobs = replace(start, num_parallel=best_slots, num_thread=threads)
        ordered.append((knobs, f"{threads} thread(s) (physical cores {physical})"))

    candidates: list[TuneCandidate] = []
    pruned: list[Pruned] = []
    seen = {start}
    for knobs, reason in ordered:
        if knobs in seen:
            continue
        seen.add(knobs)
        if objective.kind == "single" and knobs.num_parallel > 1 and knobs.num_parallel > start.num_parallel:
            pruned.append(Pruned(knobs, "cannot win: more slots do not speed up one user"))
            continue
        if objective.kind == "users" and knobs.num_parallel > objective.users:
            pruned.append(Pruned(knobs, f"cannot win: more slots than the {objective.users} users"))
            continue
        if slot_cap is not None and knobs.num_parallel > slot_cap:
            why = f"Ollama runs this model with {slot_cap} slot(s) whatever OLLAMA_NUM_PARALLEL says"
            pruned.append(Pruned(knobs, f"cannot win: {why} (the runner's -np)"))
            continue
        need = memory_of(knobs)
        if objective.mem_cap_bytes is not None and need is not None and need > objective.mem_cap_bytes:
            smaller = replace(knobs, context_length=max(knobs.context_length // 2, MIN_CONTEXT))
            need_smaller = memory_of(smaller)
            if (
                smaller.context_length < knobs.context_length
                and smaller not in seen
                and need_smaller is not None
                and need_smaller <= objective.mem_cap_bytes
            ):
                seen.add(smaller)
                candidates.append(TuneCandidate(smaller, f"{reason}, context halved to fit", need_smaller))
            pruned.append(Pruned(knobs, f"cannot fit: needs ~{need / 1024**2:.0f} MiB, over the cap"))
            continue
        candidates.append(TuneCandidate(knobs, reason, need))
    return tuple(candidates), tuple(pruned)


# --- budget ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TuneBudget:
    """The time box.

    Attributes:
        total_s: the whole tune, from the first restart to the verified winner.
        finish_reserve_candidates: candidate-times kept back after the last candidate: one for
            re-measuring the best (a restart and a measurement) and one for applying it (the final
            measurement, the write-back and ``verify``); the second re-measure runs only if time is left.
    """

    total_s: float
    finish_reserve_candidates: float = 2.0

    def __post_init__(self) -> None:
        if self.total_s <= 0:
            raise UsageError(f"--budget {self.total_s:g} must be above 0 seconds")

    def may_try_another(self, elapsed_s: float, per_candidate_s: float) -> bool:
        """True when one more candidate still leaves time to re-measure and apply."""
        return elapsed_s + per_candidate_s * (1 + self.finish_reserve_candidates) <= self.total_s

    def may_remeasure(self, elapsed_s: float, per_candidate_s: float) -> bool:
        """True when re-measuring one configuration still leaves time to apply the winner."""
        return elapsed_s + per_candidate_s * 2 <= self.total_s
