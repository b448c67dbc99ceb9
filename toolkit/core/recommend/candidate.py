"""One model variant judged for one machine and request: fit, speed as the user feels it, quality, tier.

What users feel decides the details:

- Q4_K_M is the default quantisation: a larger one (Q8_0, F16…) counts for its extra quality only when
  it is clearly affordable (``QUANT_UPGRADE_SPEED_MARGIN`` × the target, fitting comfortably); otherwise
  it ranks below the model's Q4_K_M.
- A thinking model (``ModelSpec.thinking``) makes the user wait for ``THINKING_TOKENS`` before the
  answer: outside ``THINKING_USE_CASES`` its speed is judged as the answer tokens per second of waiting
  (``Candidate.visible_tps``) and it ranks after non-thinking models of the same tier, so chat never
  gets one by default. Its answer time always includes the thinking.

``judge`` builds a ``Candidate`` from an estimate and the budget; ``rank_key`` orders candidates for
``toolkit.core.recommend.pick``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from toolkit.core.catalog.model import ModelSpec, QuantVariant
from toolkit.core.estimate.estimator import Estimate
from toolkit.core.estimate.grades import grade_meaning
from toolkit.core.recommend.budget import Budget
from toolkit.core.units import format_memory

#: Length of the answer the "answer takes N s" sentence uses.
ANSWER_TOKENS = 300

#: Tokens a thinking model (Qwen3's original tags) writes before its answer, for the answer-time estimate.
#: An assumption at the short end: Qwen3's reasoning traces run from a few hundred tokens for a simple
#: question to thousands for a hard one (its model card suggests allowing 32,768 output tokens), so the
#: answer time of a thinking model is, if anything, optimistic.
THINKING_TOKENS = 500
#: Use cases where the thinking is the point; elsewhere a thinking model is judged by the answer speed the
#: user feels (``visible_tps``) and ranks after non-thinking models.
THINKING_USE_CASES = frozenset({"reasoning"})
#: The quantisation a model is recommended in unless a larger one is clearly affordable.
DEFAULT_QUANT = "Q4_K_M"
#: "Clearly affordable": a larger quantisation than Q4_K_M wins only when it still reaches this multiple
#: of the target speed and fits comfortably. Q8_0 reads ~1.6-1.7× the bytes per token of Q4_K_M and so
#: decodes about that much slower, for a quality gain most users cannot see (see ``QUANT_QUALITY``).
QUANT_UPGRADE_SPEED_MARGIN = 2.0
#: Bits per weight above which a variant counts as "larger than Q4_K_M" (Q4_K_M averages ~4.85).
LARGER_THAN_DEFAULT_QUANT = {"Q5_0", "Q5_1", "Q5_K_S", "Q5_K_M", "Q6_K", "Q8_0", "F16", "BF16", "F32"}

#: Quality kept by each quantisation relative to 16-bit weights (rough, from the usual perplexity and
#: benchmark deltas: Q8_0 is indistinguishable, Q4_K_M loses a little, 3-bit and below loses clearly).
QUANT_QUALITY: dict[str, float] = {
    "F32": 1.0,
    "F16": 1.0,
    "BF16": 1.0,
    "Q8_0": 0.99,
    "Q6_K": 0.98,
    "Q5_K_M": 0.97,
    "Q5_K_S": 0.965,
    "Q5_1": 0.965,
    "Q5_0": 0.96,
    "Q4_K_M": 0.95,
    "Q4_K_S": 0.94,
    "Q4_1": 0.93,
    "Q4_0": 0.92,
    "Q3_K_L": 0.88,
    "Q3_K_M": 0.86,
    "Q3_K_S": 0.82,
    "Q2_K": 0.75,
}


@dataclass(frozen=True)
class Candidate:
    """One model variant judged for this machine and request.

    Attributes:
        model, tag, quant: what it is; params_b: parameters in billions.
        size_verified: the download size is from a primary source, not an estimate.
        test_model: a toy model gpuless uses in its own tests.
        fits: total memory ≤ the usable budget; fits_comfortably: ≤ the comfortable budget.
        context_ok: the requested context is within the model's trained context.
        meets_target: per-user speed as the user feels it (``visible_tps``) ≥ the target.
        thinking: the model writes a reasoning trace before answering (see ``THINKING_TOKENS``).
        visible_tps: answer tokens per second of waiting after the first token: ``decode_tps`` for a
            normal model; for a thinking model outside ``THINKING_USE_CASES``, ``decode_tps`` ×
            answer ÷ (answer + thinking tokens).
        answer_s: seconds until a ``ANSWER_TOKENS``-token answer is complete, thinking included.
        download_bytes: the GGUF download (``ollama pull``) size; download_source: where it is cited from;
            size_note: how the size was obtained, in a few words.
        total_bytes, decode_tps, aggregate_tps, ttft_s, grade: from the estimate.
        use_case_score: catalog score 0–10 for the requested use case.
        quality: use_case_score × the quantisation's quality factor (what the pick maximises).
        tier: 1 comfortable + fast enough, 2 fits + fast enough, 3 comfortable, 4 fits, 5 does not fit.
        why_not: why it is not in tier 1, in a few words (None when it is).
        estimate: the full estimate.
    """

    model: str
    tag: str
    quant: str
    params_b: float
    size_verified: bool
    test_model: bool
    fits: bool
    fits_comfortably: bool
    context_ok: bool
    meets_target: bool
    thinking: bool
    visible_tps: float
    answer_s: float
    download_bytes: int
    download_source: str
    size_note: str
    use_case_score: int
    quality: float
    tier: int
    why_not: str | None
    estimate: Estimate

    @property
    def total_bytes(self) -> int:
        return self.estimate.total_bytes

    @property
    def decode_tps(self) -> float:
        return self.estimate.decode_tps

    @property
    def aggregate_tps(self) -> float:
        return self.estimate.aggregate_tps

    @property
    def ttft_s(self) -> float:
        return self.estimate.ttft_s

    @property
    def grade(self) -> str:
        return self.estimate.grade

    def to_dict(self) -> dict[str, Any]:
        fields_ = asdict(self)
        fields_.pop("estimate")
        judged = ("use_case_score", "quality", "tier", "why_not")
        data = {key: value for key, value in fields_.items() if key not in judged}
        data.update(
            total_bytes=self.total_bytes,
            decode_tps=self.decode_tps,
            aggregate_tps=self.aggregate_tps,
            ttft_s=self.ttft_s,
            grade=self.grade,
        )
        data.update({key: fields_[key] for key in judged})
        data["weights_bytes"] = self.estimate.weights_bytes
        data["kv_bytes"] = self.estimate.kv_bytes
        data["overhead_bytes"] = self.estimate.overhead_bytes
        data["prefill_tps"] = round(self.estimate.prefill_tps, 1)
        data["bound"] = self.estimate.factors.bound
        for key in ("decode_tps", "aggregate_tps", "quality", "visible_tps"):
            data[key] = round(data[key], 2)
        data["answer_s"] = round(self.answer_s, 1)
        data["grade_meaning"] = grade_meaning(self.grade)
        data["ttft_s"] = round(self.ttft_s, 2)
        return data


def judge(
    model: ModelSpec,
    variant: QuantVariant,
    est: Estimate,
    budget: Budget,
    use_case: str,
    target_tps: float,
    context: int,
) -> Candidate:
    """``variant`` of ``model`` judged by its estimate ``est`` against ``budget`` and the request."""
    fits = est.total_bytes <= budget.usable_bytes
    comfortable = est.total_bytes <= budget.comfortable_bytes
    context_ok = context <= model.context_length
    thinking_counts = model.thinking and use_case not in THINKING_USE_CASES
    answer_s = est.answer_seconds(ANSWER_TOKENS + (THINKING_TOKENS if model.thinking else 0))
    visible = (
        est.decode_tps * ANSWER_TOKENS / (ANSWER_TOKENS + THINKING_TOKENS)
        if thinking_counts
        else est.decode_tps
    )
    meets = visible >= target_tps
    score = model.score(use_case)
    quant = variant.quant.upper()
    quant_quality = QUANT_QUALITY.get(quant, 0.9)
    affordable = comfortable and est.decode_tps >= QUANT_UPGRADE_SPEED_MARGIN * target_tps
    if quant in LARGER_THAN_DEFAULT_QUANT and not affordable:
        # Not clearly affordable: the larger file counts for no more than the default quantisation,
        # just below it, so the model's Q4_K_M (faster, smaller) wins.
        quant_quality = min(quant_quality, QUANT_QUALITY[DEFAULT_QUANT] - 0.005)
    quality = score * quant_quality
    if not context_ok:
        tier, why = 5, f"trained for {model.context_length} tokens of context, {context} asked"
    elif not fits:
        tier, why = 5, f"needs {format_memory(est.total_bytes)}, {format_memory(budget.usable_bytes)} usable"
    elif comfortable and meets:
        tier, why = 1, None
    elif meets:
        tier, why = (
            2,
            f"needs {format_memory(est.total_bytes)}, "
            f"more than the {format_memory(budget.comfortable_bytes)} comfortable",
        )
    elif comfortable:
        tier, why = 3, f"too slow: {_speed_words(est.decode_tps, visible)} < {target_tps:g}"
    else:
        tier, why = 4, f"too slow ({_speed_words(est.decode_tps, visible)}) and tight on memory"
    return Candidate(
        model=model.name,
        tag=variant.tag,
        quant=variant.quant,
        params_b=round(model.params / 1e9, 3),
        size_verified=variant.size_verified,
        test_model=model.test_model,
        fits=fits and context_ok,
        fits_comfortably=comfortable and context_ok,
        context_ok=context_ok,
        meets_target=meets,
        thinking=model.thinking,
        visible_tps=visible,
        answer_s=answer_s,
        download_bytes=variant.size_bytes,
        download_source=variant.source or variant.note,
        size_note=variant.note,
        use_case_score=score,
        quality=quality,
        tier=tier,
        why_not=why,
        estimate=est,
    )


def _speed_words(decode_tps: float, visible_tps: float) -> str:
    if abs(decode_tps - visible_tps) < 1e-9:
        return f"{decode_tps:.1f} tok/s"
    return f"{visible_tps:.1f} tok/s of answer after thinking"


def short_note(c: Candidate) -> str:
    """``why_not`` in a word, for a narrow table column: "slow" (below the target), "tight" (fits, but
    not comfortably), "too big", "context" (beyond the model's trained context), "" for a candidate in
    tier 1; "test" is added for gpuless's own toy models."""
    notes = {1: "", 2: "tight", 3: "slow", 4: "slow+tight", 5: "too big" if c.context_ok else "context"}
    note = notes[c.tier]
    if c.test_model:
        note = f"{note}, test" if note else "test"
    return note


def rank_key(c: Candidate, use_case: str) -> tuple[Any, ...]:
    """Sort key: the best candidate for ``use_case`` first (see ``core.recommend.pick``'s pick policy)."""
    thinking_last = c.thinking and use_case not in THINKING_USE_CASES
    if c.tier <= 2:  # good enough on both counts: the best model for the job wins, then the faster one
        return (c.tier, thinking_last, -c.quality, -c.decode_tps)
    # nothing qualified: get as close to the target as possible, real models before test toys
    return (c.tier, c.test_model, thinking_last, -c.visible_tps, -c.quality)


__all__ = [
    "ANSWER_TOKENS",
    "DEFAULT_QUANT",
    "LARGER_THAN_DEFAULT_QUANT",
    "QUANT_QUALITY",
    "QUANT_UPGRADE_SPEED_MARGIN",
    "THINKING_TOKENS",
    "THINKING_USE_CASES",
    "Candidate",
    "judge",
    "rank_key",
    "short_note",
]
