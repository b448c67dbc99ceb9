"""What a benchmark result means, in lines that agree with each other.

The grade, the users held and the OLLAMA_NUM_PARALLEL advice are all read from the same concurrency
levels with the same rule (``bench.concurrency.level_holds``: the slowest stream at or above a grade line,
no failed request, TTFT p95 within the limit), and each comes with the figures it was read from.
The CLI (``gpuless bench``) and the wizard's Benchmark step print these lines unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from toolkit.core.bench.concurrency import ConcurrencyLevel, level_holds, streams_label
from toolkit.core.bench.metrics import ShapeResult
from toolkit.core.estimate.estimator import Estimate
from toolkit.core.estimate.grades import BELOW_C, GRADE_LINES, grade_line, grade_meaning
from toolkit.core.units import format_fixed as _fmt

if TYPE_CHECKING:
    from toolkit.core.bench.config import BenchResult

#: Shown wherever the aggregate and per-stream figures stand side by side.
FIGURES_NOTE = (
    "aggregate tok/s = every token of a level ÷ its wall time (prefill and waiting included); "
    "per stream = one stream's decode rate once its tokens flow — so at 1 stream the aggregate is lower"
)


@dataclass(frozen=True)
class Verdict:
    """The reading of one run.

    Attributes:
        grade: "A", "B", "C", "<C", or None when nothing was measured.
        grade_reason: the figures the grade was read from.
        users: grade line (tok/s) → most simultaneous users a level held (the runner's ``users``).
        users_reason: the rule and the levels measured.
        num_parallel: the OLLAMA_NUM_PARALLEL advice, None without a sweep.
        num_parallel_reason: the totals it was chosen from, or why the sweep cannot advise.
        slots_capped: the server's own OLLAMA_NUM_PARALLEL was below the most streams swept: the
            streams beyond its slots waited in a queue, so the sweep measured the slots the server
            has, not what more would give; ``num_parallel`` is then no advice (``lines`` says so).
    """

    grade: str | None
    grade_reason: str
    users: Mapping[float, int]
    users_reason: str
    num_parallel: int | None
    num_parallel_reason: str
    slots_capped: bool = False

    def lines(self) -> list[str]:
        grade = "— (nothing measured)" if self.grade is None else grade_meaning(self.grade)
        out = [f"grade {grade}: {self.grade_reason}"]
        if self.users:
            held = " · ".join(f"{n} at ≥ {g:g} tok/s" for g, n in sorted(self.users.items(), reverse=True))
            out.append(f"users held: {held} — {self.users_reason}")
        if self.num_parallel is not None and self.slots_capped:
            out.append(f"OLLAMA_NUM_PARALLEL: no advice from this sweep: {self.num_parallel_reason}")
            out.append(FIGURES_NOTE)
        elif self.num_parallel is not None:
            out.append(f"OLLAMA_NUM_PARALLEL={self.num_parallel}: {self.num_parallel_reason}")
            out.append(FIGURES_NOTE)
        return out


def _letter(users: Mapping[float, int]) -> str:
    for line, letter in GRADE_LINES:
        if users.get(line, 0) >= 1:
            return letter
    return BELOW_C


def _grade(
    shapes: Sequence[ShapeResult], levels: Sequence[ConcurrencyLevel], users: Mapping[float, int], slo: float
) -> tuple[str | None, str]:
    if levels:
        letter = _letter(users)
        if letter != BELOW_C:
            line = grade_line(letter)
            best = max(lv.streams for lv in levels if level_holds(lv, line, slo))
            level = next(lv for lv in levels if lv.streams == best)
            slowest = level.per_stream_tps.min if level.per_stream_tps else None
            return letter, (
                f"at {streams_label(best)} the slowest stream decoded {_fmt(slowest)} tok/s "
                f"(line {line:g}) and TTFT p95 was {_fmt(level.ttft_p95_s, 2)} s (limit {slo:g} s)"
            )
        first = levels[0]
        slowest = first.per_stream_tps.min if first.per_stream_tps else None
        why = (
            f"{first.errors} request(s) failed"
            if first.errors
            else f"slowest stream {_fmt(slowest)} tok/s, "
            f"TTFT p95 {_fmt(first.ttft_p95_s, 2)} s (limit {slo:g} s)"
        )
        at = streams_label(first.streams)
        return BELOW_C, f"no level held the C line of {grade_line('C'):g} tok/s; at {at}: {why}"
    chat = next((s for s in shapes if s.shape == "chat"), shapes[0] if shapes else None)
    if chat is None or chat.client_decode_tps is None:
        return None, "no request finished"
    slowest = chat.client_decode_tps.min
    ttft = chat.ttft_s.p95 if chat.ttft_s else None
    letter = (
        BELOW_C if ttft is None or ttft > slo else _letter({g: 1 for g, _ in GRADE_LINES if slowest >= g})
    )
    return letter, (
        f"the slowest of {chat.requests} {chat.shape} requests decoded {_fmt(slowest)} tok/s, "
        f"TTFT p95 {_fmt(ttft, 2)} s (limit {slo:g} s); no concurrency sweep"
    )


def _num_parallel_reason(
    levels: Sequence[ConcurrencyLevel], advice: int, users: Mapping[float, int], slo: float
) -> str:
    floor = GRADE_LINES[-1][0]
    usable = [lv for lv in levels if level_holds(lv, floor, slo)]
    if not usable:
        return f"no level held the C line ({floor:g} tok/s per stream, TTFT p95 ≤ {slo:g} s), so one slot"
    totals = ", ".join(f"{streams_label(lv.streams)} {lv.aggregate_tps:.1f}" for lv in usable)
    text = (
        f"the fewest streams within 10% of the best aggregate tok/s among levels holding C ({totals}); "
        "each slot costs KV-cache memory"
    )
    most = max(users.values(), default=0)
    if most > advice:
        text += (
            f"; the {most} users held were measured with the server's current slots — with {advice}, "
            "users beyond it wait their turn for the first token"
        )
    return text


def _capped_reason(levels: Sequence[ConcurrencyLevel], server_slots: int) -> str:
    most = max(lv.streams for lv in levels)
    return (
        f"the server runs OLLAMA_NUM_PARALLEL={server_slots}, so at {streams_label(most)} the requests "
        f"beyond {server_slots} waited for a free slot; the sweep cannot show what more slots would give. "
        f"`gpuless tune --users {most}` restarts the server with more slots and measures them"
    )


def verdict_of(result: BenchResult) -> Verdict:
    """The verdict of a whole run, as ``gpuless bench`` prints it and the wizard's Benchmark step shows it."""
    return verdict(
        result.shapes,
        result.concurrency,
        result.users,
        result.num_parallel,
        result.ttft_slo_s,
        result.server_slots,
    )


def verdict(
    shapes: Sequence[ShapeResult],
    levels: Sequence[ConcurrencyLevel],
    users: Mapping[float, int],
    num_parallel: int | None,
    ttft_slo_s: float,
    server_slots: int | None = None,
) -> Verdict:
    """Read a run: ``users`` and ``num_parallel`` are the runner's (``users_per_grade`` and
    ``recommend_num_parallel`` over ``levels``); the grade is the best line at least one level held.
    ``server_slots`` is the server's OLLAMA_NUM_PARALLEL when known: below the most streams swept, the
    sweep gives no slot advice (see ``Verdict.slots_capped``)."""
    grade, grade_reason = _grade(shapes, levels, users, ttft_slo_s)
    measured = ", ".join(str(lv.streams) for lv in levels)
    users_reason = (
        f"the most simultaneous streams (of {measured} measured) whose slowest stream stayed at or above "
        f"the line with no failure and TTFT p95 ≤ {ttft_slo_s:g} s"
    )
    capped = (
        num_parallel is not None
        and server_slots is not None
        and bool(levels)
        and max(lv.streams for lv in levels) > server_slots
    )
    if capped and server_slots is not None:
        reason = _capped_reason(levels, server_slots)
    elif num_parallel is not None:
        reason = _num_parallel_reason(levels, num_parallel, users, ttft_slo_s)
    else:
        reason = ""
    return Verdict(grade, grade_reason, dict(users), users_reason, num_parallel, reason, capped)


def model_step_lines(model: str, estimate: Estimate | None, served_file: str | None) -> list[str]:
    """The Model step's estimate of ``model`` beside a benchmark of it, and why the predictions of
    the benchmark may differ from it (another prompt length; another file under the same name)."""
    if estimate is None:
        return []
    lines = [
        f"Model step's estimate for {model} ({estimate.prompt_tokens}-token prompt, {estimate.parallel} "
        f"user): decode {estimate.decode_tps:.1f} tok/s · prefill {estimate.prefill_tps:.0f} tok/s · "
        f"TTFT {estimate.ttft_s:.2f} s; the predictions above use the prompt lengths measured"
    ]
    if served_file is not None:
        lines.append(
            f"the server holds another file under this name ({served_file}) than the catalog's public "
            "one the Model step estimated: the predictions above are for the served file"
        )
    return lines
