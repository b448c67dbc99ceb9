"""Pick a model and quant tag for a machine: every candidate's estimate, the ranking and the pick.

Pure: the machine comes in as a ``Machine`` (detected or built from a hardware profile), the models as a
``Catalog``. The familiar rule of thumb (0.5–1.5B for 8 GB, 3–4B for 16 GB, 7–9B for 32 GB) is not
written anywhere here; it follows from the budget policy (``core.recommend.budget``), the estimator's speed
physics and the default target speed, and tests over the shipped hardware profiles check that it does.

API:

- ``recommend(machine, catalog, *, use_case="chat", target_tps=10, context=4096, users=1,
  kv_cache_type="f16", prompt_tokens=512) -> Recommendation`` with ranked ``Candidate``s, ``pick``
  (or None when nothing fits) and ``reasons`` (list of sentences, ``toolkit.core.recommend.reasons``).

Pick policy: the best use-case score (× a small quantisation-quality factor) among candidates that fit
comfortably and meet the target speed per user; failing that, among those that fit and meet the target;
failing that, the fastest that fits comfortably, then the fastest that fits. Test models (135M/270M toys)
get low scores, so they only win when nothing real qualifies. How one candidate is judged (quantisation,
thinking models) is ``toolkit.core.recommend.candidate``'s job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from toolkit import defaults
from toolkit.core.catalog.model import Catalog, ModelSpec, QuantVariant, normalise_use_case
from toolkit.core.estimate.estimator import Estimate, decode_depth_for, estimate
from toolkit.core.estimate.grades import grade
from toolkit.core.estimate.metal import MetalEstimate, mac_chip, metal_estimate
from toolkit.core.estimate.params import DEFAULT_PARAMS, EstimatorParams
from toolkit.core.machine.hardware import Machine
from toolkit.core.recommend.budget import Budget, memory_budget
from toolkit.core.recommend.candidate import ANSWER_TOKENS, Candidate, judge, rank_key
from toolkit.core.recommend.native_advice import (
    igpu_reason,
    integrated_gpu,
    native_pick_reason,
    native_reason,
    speed_basis,
)
from toolkit.core.recommend.reasons import pick_reasons
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
        decode_depth: tokens of history the decode figures are priced at (``--ctx-depth``, or the prompt
            plus the first answer tokens).
        basis: one sentence saying which speed the figures mean (``native_advice.speed_basis``).
        metal: on a Mac, native Ollama's (Metal GPU) figures per candidate tag; empty elsewhere.
        native_pick: on a Mac (one user), the pick for native Ollama: every candidate judged by its Metal
            figures against the Mac's own memory (no Docker VM); None elsewhere.
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
    decode_depth: int = 0
    basis: str = ""
    metal: Mapping[str, MetalEstimate] = field(default_factory=dict)
    native_pick: Candidate | None = None

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
                "decode_depth": self.decode_depth,
            },
            "basis": self.basis,
            "budget": asdict(self.budget),
            "pick": self._with_metal(self.pick) if self.pick else None,
            "reasons": list(self.reasons),
            "candidates": [self._with_metal(c) for c in self.candidates],
            "native_pick": self._with_metal(self.native_pick) if self.native_pick else None,
        }

    def _with_metal(self, candidate: Candidate) -> dict[str, Any]:
        """A candidate's dict, with native Ollama's (Metal) figures under "metal" on a Mac (else null)."""
        metal = self.metal.get(candidate.tag)
        return {**candidate.to_dict(), "metal": metal.to_dict() if metal else None}


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
    decode_depth: int | None = None,
) -> Recommendation:
    """Rank every variant in ``catalog`` (or just ``only``) for ``machine`` and pick one.

    ``users`` concurrent users each get a KV cache (``OLLAMA_NUM_PARALLEL = users``) and share the
    decode throughput; the target applies to each user's speed. ``decode_depth``: price decode after
    this many tokens of context (``--ctx-depth``) instead of after the prompt and the answer's start.
    On a Mac every candidate also gets native Ollama's Metal figures, and the reasons lead with them.
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
    if decode_depth is not None and not 0 <= decode_depth <= context:
        raise UsageError(
            f"--ctx-depth must be between 0 and the context ({context} tokens), not {decode_depth}",
            hint="raise --ctx to price decode deeper into the context",
        )
    budget = memory_budget(machine)
    pairs = only if only is not None else tuple((m, v) for m in catalog.models for v in m.variants)
    candidates = []
    chip = mac_chip(machine)
    metal: dict[str, MetalEstimate] = {}
    for model, variant in pairs:
        ctx = min(context, model.context_length)
        prompt = min(prompt_tokens, context)
        depth = decode_depth_for(prompt, ctx) if decode_depth is None else min(decode_depth, ctx)
        est = estimate(
            model,
            variant,
            machine,
            context=ctx,
            parallel=users,
            kv_cache_type=kv_cache_type,
            prompt_tokens=prompt,
            params=params,
            decode_depth=depth,
        )
        if chip is not None:
            metal[variant.tag] = metal_estimate(
                model, variant, chip, depth=depth, prompt_tokens=prompt, kv_cache_type=kv_cache_type
            )
        candidates.append(judge(model, variant, est, budget, use_case, target_tps, context))
    ranked = tuple(sorted(candidates, key=lambda c: rank_key(c, use_case)))
    pick = ranked[0] if ranked and ranked[0].tier < 5 else None
    native_pick = None
    if metal and users == 1:  # Metal's figures are one stream's
        native_budget = memory_budget(replace(machine, docker=replace(machine.docker, reachable=False)))
        natively = [
            judge(m, v, on_metal(c.estimate, metal[v.tag]), native_budget, use_case, target_tps, context)
            for (m, v), c in zip(pairs, candidates, strict=True)
        ]
        best = min(natively, key=lambda c: rank_key(c, use_case), default=None)
        native_pick = best if best is not None and best.tier < 5 else None
    asked = only is not None
    notes = {m.name: m.notes for m, _ in pairs if not m.good_at} if asked else {}
    reasons = pick_reasons(pick, ranked, budget, machine, use_case, target_tps, context, users, asked, notes)
    if pick is not None and pick.tag in metal:
        reasons.insert(0, native_reason(pick.tag, pick.decode_tps, metal[pick.tag]))
    if native_pick is not None and not asked and (pick is None or native_pick.tag != pick.tag):
        reasons.insert(1 if pick is not None and pick.tag in metal else 0, native_pick_reason(native_pick))
    igpu = integrated_gpu(machine)
    if igpu is not None:
        reasons.append(igpu_reason(igpu))
    shown_depth = decode_depth
    if shown_depth is None:
        shown_depth = decode_depth_for(min(prompt_tokens, context), context)
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
        decode_depth=shown_depth,
        basis=speed_basis(
            decode_depth=shown_depth,
            prompt_tokens=min(prompt_tokens, context),
            answer_tokens=ANSWER_TOKENS,
            default_depth=decode_depth is None,
        ),
        metal=metal,
        native_pick=native_pick,
    )


def on_metal(est: Estimate, metal: MetalEstimate) -> Estimate:
    """``est`` (one stream) with native Ollama's Metal speeds in place of the CPU's; memory unchanged."""
    return replace(
        est,
        decode_tps=metal.decode_tps,
        aggregate_tps=metal.decode_tps,
        single_stream_tps=metal.decode_tps,
        prefill_tps=metal.prefill_tps,
        ttft_s=metal.ttft_s,
        grade=grade(metal.decode_tps),
    )


__all__ = [
    "DEFAULT_CONTEXT",
    "DEFAULT_PROMPT_TOKENS",
    "DEFAULT_TARGET_TPS",
    "DEFAULT_USE_CASE",
    "Recommendation",
    "recommend",
]
