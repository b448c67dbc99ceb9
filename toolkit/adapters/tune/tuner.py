"""Run `gpuless tune`: restart the server with each candidate, measure it, keep the winner or the start.

The rules (what to try, the budget, who won) are in ``toolkit.core.tune.knobs``; this module does the I/O:

* a ``Target`` (``toolkit.adapters.tune.target``) restarts the server with given knobs:
  ``ComposeTarget`` recreates the container of ./compose.yaml through ``DockerRunner`` (the served
  model re-created with the candidate's ``num_thread``/``num_ctx``), ``CallbackTarget`` calls a
  restart function (a native or test server);
* each measurement is a short streaming run — after a restart a warm-up of ``streams`` one-token
  requests (the model loaded, every slot holding the chat template's shared prefix, as on a server in
  use), then ``rounds`` × ``streams`` requests of a few tokens each, every prompt made unique by a nonce
  (no prompt-cache flattery);
* the start is measured once plus a second repeat without the warm-up (its spread is the noise floor),
  the top two candidates are re-measured (the best last, so it is the one left running);
* any exception, Ctrl-C or SIGTERM (which the CLI turns into ``KeyboardInterrupt``) restores the
  configuration that was running before, then propagates. The restore runs with those signals held
  back (``signals_deferred``: a second Ctrl-C cannot leave the container removed and not yet made
  again), and what runs afterwards is read back (``restore_problem``), so nobody is told the start
  runs again when it does not. A tune that ends normally reads back what it leaves running too
  (``TuneResult.problem``): the container may have stopped under it.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from statistics import median
from typing import Any

from toolkit.adapters.critical import signals_deferred
from toolkit.adapters.ollama.client import OllamaClient, Recorder
from toolkit.adapters.tune.target import Target
from toolkit.core.bench.metrics import request_metrics
from toolkit.core.stats import percentile
from toolkit.core.tune.knobs import Knobs, Measurement, Objective, Pruned, Trial, TuneBudget, TuneCandidate
from toolkit.core.tune.verdict import TuneComparison, TuneVerdict, before_after, decide, top
from toolkit.errors import GpulessError

Progress = Callable[[str], None]

#: The most the final measurement of the winner may run past the budget.
AFTER_GRACE_S = 20.0

# Short questions: the prompt is prefilled before the first token, so a long one would bury the slots'
# effect on TTFT under prefill time.
QUESTIONS = (
    "Tell a short story about a lighthouse keeper.",
    "Describe a village mill in a few sentences.",
    "Tell a short story about a harbour crew.",
)


# --- measuring ------------------------------------------------------------------------------------


async def _measure(
    url: str,
    model: str,
    streams: int,
    rounds: int,
    num_predict: int,
    knobs: Knobs,
    timeout: float,
    *,
    warm_up: bool = True,
) -> Measurement:
    nonce = secrets.token_hex(4)
    counter = 0

    async with OllamaClient(url, timeout=timeout) as client:

        async def one(tokens: int) -> Any:
            nonlocal counter
            counter += 1
            question = QUESTIONS[counter % len(QUESTIONS)]
            messages = [{"role": "user", "content": f"[{nonce}-{counter}] {question}"}]
            options = {"temperature": 0.0, "seed": 42, "num_predict": tokens}
            events = client.stream_chat(model, messages, options=options, think=False, keep_alive="30m")
            return request_metrics(await Recorder(time.perf_counter()).consume(events))

        if warm_up:  # the load after a restart and the template's prefill stay out of the figures
            await asyncio.gather(*(one(1) for _ in range(streams)))
        metrics = []
        tokens = 0
        wall = 0.0
        for _ in range(rounds):
            t0 = time.perf_counter()
            done = await asyncio.gather(*(one(num_predict) for _ in range(streams)))
            wall += time.perf_counter() - t0
            metrics.extend(done)
            tokens += sum(m.output_tokens or 0 for m in done)
    ttfts = sorted(m.ttft_s for m in metrics if m.ttft_s is not None)
    decodes = [m.client_decode_tps for m in metrics if m.client_decode_tps is not None]
    if not ttfts or not decodes:
        raise GpulessError(f"the server streamed no tokens with {knobs.label()}")
    return Measurement(
        streams=streams,
        requests=len(metrics),
        decode_tps=median(decodes),
        aggregate_tps=tokens / wall if wall > 0 else 0.0,
        ttft_p50_s=median(ttfts),
        ttft_p95_s=float(percentile(ttfts, 95)),
        memory_bytes=None,
        seconds=wall,
    )


@dataclass(frozen=True)
class TuneSettings:
    """How each configuration is measured.

    Attributes:
        num_predict: tokens per answer: long enough that N users served one after another wait for
            each other's answers (what more slots remove), short enough for a 2-core laptop.
        tokens_per_round: the most tokens one round asks for; with many users each answer gets
            fewer (never under ``min_predict``), so a measurement stays a few seconds.
        min_predict: the fewest tokens per answer.
        rounds: rounds of ``objective.users`` simultaneous streams per measurement.
        timeout: seconds to wait for the next bytes of an answer.
    """

    num_predict: int = 48
    tokens_per_round: int = 192
    min_predict: int = 16
    rounds: int = 1
    timeout: float = 120.0

    def predict_for(self, streams: int) -> int:
        """Tokens per answer with ``streams`` simultaneous streams."""
        return max(self.min_predict, min(self.num_predict, self.tokens_per_round // max(streams, 1)))


@dataclass
class TuneResult:
    """What a tune did.

    Attributes:
        objective: what was tuned for.
        start: the starting configuration's trial (measured twice).
        trials: every candidate tried, in order (failed ones carry their error).
        pruned: candidates not measured, and why.
        skipped_for_budget: candidates left untried when the budget ran out.
        verdict: the winner (or none) and the reason.
        after: the applied winner measured again after the final restart; None when nothing changed.
        seconds: the whole tune's wall time.
        interrupted: the tune was stopped (Ctrl-C, SIGTERM, an error) and the start restored.
        problem: after a tune that ended normally, what runs instead of what it meant to leave
            running (the container stopped under it); None when that runs.
    """

    objective: Objective
    start: Trial
    trials: list[Trial] = field(default_factory=list)
    pruned: tuple[Pruned, ...] = ()
    skipped_for_budget: int = 0
    verdict: TuneVerdict | None = None
    after: Measurement | None = None
    seconds: float = 0.0
    interrupted: bool = False
    problem: str | None = None

    def table(self) -> tuple[TuneComparison, ...]:
        if self.after is None or not self.start.ok:
            return ()
        return before_after(self.start.mean(), self.after)

    def to_dict(self) -> dict[str, Any]:
        verdict = self.verdict
        return {
            "objective": self.objective.describe(),
            "start": self.start.to_dict(),
            "candidates": [t.to_dict() for t in self.trials],
            "pruned": [{"label": p.knobs.label(), "reason": p.reason} for p in self.pruned],
            "skipped_for_budget": self.skipped_for_budget,
            "winner": verdict.winner.to_dict() if verdict and verdict.winner else None,
            "reason": verdict.reason if verdict else "interrupted",
            "gain": verdict.gain if verdict else None,
            "spread": verdict.spread if verdict else None,
            "after": None if self.after is None else self.after.__dict__,
            "before_after": [c.__dict__ for c in self.table()],
            "seconds": round(self.seconds, 1),
            "interrupted": self.interrupted,
            "problem": self.problem,
        }


class Tuner:
    """One tune of one target (see the module docstring)."""

    def __init__(
        self,
        target: Target,
        objective: Objective,
        start: Knobs,
        candidates: Sequence[TuneCandidate],
        pruned: Sequence[Pruned],
        budget: TuneBudget,
        *,
        settings: TuneSettings | None = None,
        progress: Progress | None = None,
        clock: Callable[[], float] = time.monotonic,
        cancelled: Callable[[], bool] | None = None,
    ) -> None:
        self.target = target
        self.objective = objective
        self.start_knobs = start
        self.candidates = list(candidates)
        self.pruned = tuple(pruned)
        self.budget = budget
        self.settings = settings or TuneSettings()
        self.progress = progress or (lambda _text: None)
        self.clock = clock
        # Asked between steps (a thread cannot be interrupted like the CLI's main thread): True stops
        # the tune as Ctrl-C does, the start restored.
        self.cancelled = cancelled or (lambda: False)
        self._running = start
        self._t0 = clock()
        #: The tune so far (kept when ``run`` raises, for the history).
        self.result: TuneResult | None = None
        #: After ``run`` raised: None when the start runs again, else what runs instead.
        self.restore_problem: str | None = None

    def _measure(self, knobs: Knobs, *, warm_up: bool = True, at_least_s: float = 1.0) -> Measurement:
        """One measurement, cut off where the budget ends (but given ``at_least_s``; ``TimeoutError`` →
        ``GpulessError``)."""
        self._check_cancelled()
        s = self.settings
        left = max(self.budget.total_s - (self.clock() - self._t0), at_least_s)
        users = self.objective.users
        run = _measure(
            self.target.url,
            self.target.model,
            users,
            s.rounds,
            s.predict_for(users),
            knobs,
            s.timeout,
            warm_up=warm_up,
        )
        try:
            m = asyncio.run(asyncio.wait_for(run, left))
        except TimeoutError:
            raise GpulessError(f"measuring {knobs.label()} ran past the budget") from None
        mem = self.target.memory_bytes()
        return Measurement(**{**m.__dict__, "memory_bytes": mem})

    def _check_cancelled(self) -> None:
        if self.cancelled():
            raise KeyboardInterrupt("cancelled")

    def _apply(self, knobs: Knobs) -> float:
        self._check_cancelled()
        t0 = self.clock()
        self._running = knobs  # a failed start still leaves the server changed: restore from here
        self.target.apply(knobs)
        return self.clock() - t0

    def _say(self, trial: Trial, what: str) -> None:
        if trial.error:
            self.progress(f"{what}{trial.candidate.knobs.label()}: skipped, {trial.error}")
            return
        m = trial.runs[-1]
        self.progress(
            f"{what}{trial.candidate.knobs.label()}: {m.decode_tps:.1f} tok/s per stream,"
            f" {m.aggregate_tps:.1f} total, TTFT p95 {m.ttft_p95_s:.2f} s"
        )

    def _try(self, candidate: TuneCandidate) -> Trial:
        try:
            restart = self._apply(candidate.knobs)
            return Trial(candidate, (self._measure(candidate.knobs),), restart_s=restart)
        except GpulessError as error:
            return Trial(candidate, error=error.message)

    def run(self) -> TuneResult:
        t0 = self._t0 = self.clock()
        start = Trial(TuneCandidate(self.start_knobs, "the configuration running now"))
        result = self.result = TuneResult(self.objective, start, pruned=self.pruned)
        try:
            self._run(result, t0)
        except BaseException:
            result.interrupted = True
            result.seconds = self.clock() - t0
            self.restore_problem = "the restore did not finish"  # until it says otherwise
            with signals_deferred():  # a second Ctrl-C waits until the start runs again
                self.restore_problem = self._restore_and_check()
            raise
        result.seconds = self.clock() - t0
        result.problem = self.target.check(self._running)
        return result

    def _restore_and_check(self) -> str | None:
        try:
            self.restore()
        except Exception as error:  # reported, not raised: the reason the tune stopped goes on
            return f"restoring it failed: {getattr(error, 'message', None) or error}"
        return self.target.check(self.start_knobs)

    def restore(self) -> None:
        """Put the starting configuration back if the tune left something else running."""
        if self._running != self.start_knobs:
            self.progress(f"restoring the configuration that ran before: {self.start_knobs.label()}")
            self._running = self.start_knobs
            self.target.apply(self.start_knobs)

    def _run(self, result: TuneResult, t0: float) -> None:

        def elapsed() -> float:
            return self.clock() - t0

        try:
            first = self._measure(self.start_knobs)
            start_runs = (first, self._measure(self.start_knobs, warm_up=False))
        except GpulessError as error:
            result.start = Trial(result.start.candidate, error=error.message)
            result.skipped_for_budget = len(self.candidates)
            result.verdict = decide([], result.start, self.objective)
            self.progress(f"start: {error.message}")
            return
        result.start = Trial(result.start.candidate, start_runs)
        self._say(result.start, "start: ")
        # A candidate costs a restart, the warm-up and a measurement; until one has been timed, the
        # start's measurement (with its warm-up) is the guess.
        per_candidate = elapsed() / 2
        for index, candidate in enumerate(self.candidates):
            if not self.budget.may_try_another(elapsed(), per_candidate):
                result.skipped_for_budget = len(self.candidates) - index
                self.progress(f"budget: {result.skipped_for_budget} candidate(s) left untried")
                break
            t_c = self.clock()
            trial = self._try(candidate)
            per_candidate = max(per_candidate, self.clock() - t_c)
            result.trials.append(trial)
            self._say(trial, "")
        best_two = top(result.trials, result.start, self.objective, 2)
        if not self.budget.may_remeasure(elapsed() + per_candidate, per_candidate):
            best_two = best_two[:1]  # time for one re-measure only: the best's
        for best in reversed(best_two):  # the best last, so it is left running
            if not self.budget.may_remeasure(elapsed(), per_candidate):
                break
            index = result.trials.index(best)
            try:
                restarted = self._running != best.candidate.knobs
                if restarted:
                    self._apply(best.candidate.knobs)
                again = self._measure(best.candidate.knobs, warm_up=restarted)
            except GpulessError as error:
                result.trials[index] = Trial(best.candidate, best.runs, f"re-measure failed: {error.message}")
                continue
            result.trials[index] = Trial(best.candidate, (*best.runs, again), restart_s=best.restart_s)
            self._say(result.trials[index], "again: ")
        result.verdict = decide(result.trials, result.start, self.objective)
        if not result.trials and result.skipped_for_budget:
            reason = (
                f"the budget left no time for a candidate after measuring the start"
                f" ({per_candidate:.0f} s per measurement); keeping the configuration that runs"
            )
            result.verdict = replace(result.verdict, reason=reason)
        winner = result.verdict.winner
        if winner is None:
            self.restore()
            return
        if self._running != winner.candidate.knobs:
            self._apply(winner.candidate.knobs)
        # The proof gets the time of one measurement of the start even when the budget is spent (at most
        # AFTER_GRACE_S past it); cut off there, the winner (it won on its own measurements) stays
        # applied without an after figure, and the tune says so.
        grace = min(max(result.start.runs[0].seconds * 2, 5.0), AFTER_GRACE_S)
        try:
            result.after = self._measure(winner.candidate.knobs, at_least_s=grace)
        except GpulessError as error:
            self.progress(f"after: {error.message}; no before → after figures")
