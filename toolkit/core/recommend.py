"""Pick a model and quant tag for a machine: every candidate's estimate, the ranking and the pick.

Pure: the machine comes in as a ``Machine`` (detected or built from a hardware profile), the models as a
``Catalog``. The familiar rule of thumb (0.5–1.5B for 8 GB, 3–4B for 16 GB, 7–9B for 32 GB) is not
written anywhere here; it follows from the budget policy (``toolkit.core.budget``), the estimator's speed
physics and the default target speed, and tests over the shipped hardware profiles check that it does.

API:

- ``recommend(machine, catalog, *, use_case="chat", target_tps=10, context=4096, users=1,
  kv_cache_type="f16", prompt_tokens=512) -> Recommendation`` with ranked ``Candidate``s, ``pick``
  (or None when nothing fits) and ``reasons`` (list of sentences, ``toolkit.core.reasons``).

Pick policy: the best use-case score (× a small quantisation-quality factor) among candidates that fit
comfortably and meet the target speed per user; failing that, among those that fit and meet the target;
failing that, the fastest that fits comfortably, then the fastest that fits. Test models (135M/270M toys)
get low scores, so they only win when nothing real qualifies. How one candidate is judged (quantisation,
thinking models) is ``toolkit.core.candidate``'s job.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from toolkit import defaults
from toolkit.core.budget import Budget, memory_budget
from toolkit.core.candidate import Candidate, judge, rank_key
from toolkit.core.catalog import Catalog, ModelSpec, QuantVariant, normalise_use_case
from toolkit.core.estimate import estimate
from toolkit.core.estimator_params import DEFAULT_PARAMS, EstimatorParams
from toolkit.core.hardware import Machine
from toolkit.core.reasons import pick_reasons
from toolkit.errors import UsageError

#: Tokens/s per user the pick must reach by default: about twice silent reading speed (~5–6 tok/s), the
#: pace at which an answer streams faster than it is read. Grade C (15) is the next line up; at 32 GB the
#: DDR5 laptops of today decode a 7–8B model at ~10–12 tok/s (§3: Ryzen AI 5 340, 8B, 10.46 tok/s), so a
#: default of 15 would never offer a 7B model to anyone on a laptop.
DEFAULT_TARGET_TPS = 10.0
#: Ollama's default context on a machine without a GPU (OLLAMA_CONTEXT_LENGTH=0 ⇒ 4096).
DEFAULT_CONTEXT = defaults.CONTEXT_LENGTH
DEFAULT_USE_CASE = "chat"
#: Length of the prompt TTFT is quoted for (the answer's length is ``candidate.ANSWER_TOKENS``).
DEFAULT_PROMPT_TOKENS = 512


@dataclass(frozen=True)
class Recommendation:
    """The answer of ``recommend``: settings used, budget, ranked candidates, the pick and why.

    Attributes:
        machine: the machine's name ("this machine" or a profile name).
        use_case, target_tps, context, users, kv_cache_type, prompt_tokens: the request.
        budget: see ``Budget``.
        candidates: every variant, best first.
        pick: the recommended candidate, None when nothing fits.
        reasons: plain-language sentences explaining the pick (or why there is none).
        asked: the user named the model (``--model``): the reasons judge that model, not a ranking.
    """

    machine: str
    use_case: str
    target_tps: float
    context: int
    users: int
    kv_cache_type: str
    prompt_tokens: int
    budget: Budget
    candidates: tuple[Candidate, ...]
    pick: Candidate | None
    reasons: tuple[str, ...]
    asked: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "machine": self.machine,
            "request": {
                "use_case": self.use_case,
                "target_tps": self.target_tps,
                "context": self.context,
                "users": self.users,
                "kv_cache_type": self.kv_cache_type,
                "prompt_tokens": self.prompt_tokens,
            },
            "budget": asdict(self.budget),
            "pick": self.pick.to_dict() if self.pick else None,
            "reasons": list(self.reasons),
            "candidates": [c.to_dict() for c in self.candidates],
        }


def recommend(
    machine: Machine,
    catalog: Catalog,
    *,
    use_case: str = DEFAULT_USE_CASE,
    target_tps: float = DEFAULT_TARGET_TPS,
    context: int = DEFAULT_CONTEXT,
    users: int = 1,
    kv_cache_type: str = "f16",
    prompt_tokens: int = DEFAULT_PROMPT_TOKENS,
    only: tuple[tuple[ModelSpec, QuantVariant], ...] | None = None,
    params: EstimatorParams = DEFAULT_PARAMS,
) -> Recommendation:
    """Rank every variant in ``catalog`` (or just ``only``) for ``machine`` and pick one.

    ``users`` concurrent users each get a KV cache (``OLLAMA_NUM_PARALLEL = users``) and share the
    decode throughput; the target applies to each user's speed.
    """
    use_case = normalise_use_case(use_case)
    if not target_tps > 0:
        raise UsageError(f"target speed must be positive, not {target_tps:g} tok/s")
    if context < 256:
        raise UsageError(f"context must be at least 256 tokens, not {context}")
    if users < 1:
        raise UsageError(f"users must be at least 1, not {users}")
    if machine.memory.total_bytes <= 0:
        raise UsageError("the machine's RAM must be positive")
    budget = memory_budget(machine)
    pairs = only if only is not None else tuple((m, v) for m in catalog.models for v in m.variants)
    candidates = []
    for model, variant in pairs:
        est = estimate(
            model,
            variant,
            machine,
            context=min(context, model.context_length),
            parallel=users,
            kv_cache_type=kv_cache_type,
            prompt_tokens=min(prompt_tokens, context),
            params=params,
        )
        candidates.append(judge(model, variant, est, budget, use_case, target_tps, context))
    ranked = tuple(sorted(candidates, key=lambda c: rank_key(c, use_case)))
    pick = ranked[0] if ranked and ranked[0].tier < 5 else None
    asked = only is not None
    notes = {m.name: m.notes for m, _ in pairs if not m.good_at} if asked else {}
    reasons = pick_reasons(pick, ranked, budget, machine, use_case, target_tps, context, users, asked, notes)
    return Recommendation(
        machine=machine.name,
        use_case=use_case,
        target_tps=target_tps,
        context=context,
        users=users,
        kv_cache_type=kv_cache_type,
        prompt_tokens=prompt_tokens,
        budget=budget,
        candidates=ranked,
        pick=pick,
        reasons=tuple(reasons),
        asked=asked,
    )


__all__ = [
    "DEFAULT_CONTEXT",
    "DEFAULT_PROMPT_TOKENS",
    "DEFAULT_TARGET_TPS",
    "DEFAULT_USE_CASE",
    "Recommendation",
    "recommend",
]
