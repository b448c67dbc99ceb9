"""The pick's reasons: the plain-language sentences ``gpuless recommend`` and the wizard show.

Kept apart from the ranking so the wording can change without touching the policy: every sentence is
built from the ``Candidate``s and ``Budget`` the ranking produced.
"""

from __future__ import annotations

from toolkit.core.estimate.grades import grade_meaning
from toolkit.core.machine.hardware import Machine
from toolkit.core.recommend.budget import Budget
from toolkit.core.recommend.candidate import (
    ANSWER_TOKENS,
    DEFAULT_QUANT,
    LARGER_THAN_DEFAULT_QUANT,
    QUANT_UPGRADE_SPEED_MARGIN,
    THINKING_TOKENS,
    THINKING_USE_CASES,
    Candidate,
)
from toolkit.core.units import format_memory


def _budget_sentence(budget: Budget) -> str:
    if budget.limited_by == "Docker Desktop VM":
        where = (
            f"Docker Desktop's VM has {format_memory(budget.docker_vm_bytes or 0)} "
            f"({format_memory(budget.usable_bytes)} usable after its own "
            f"{format_memory(budget.reserve_bytes)})"
        )
    elif budget.limited_by == "cgroup limit":
        limit = format_memory(budget.cgroup_bytes or 0)
        where = f"the container's memory limit is {limit} ({format_memory(budget.usable_bytes)} usable)"
    else:
        where = (
            f"of {format_memory(budget.host_bytes)} RAM, {format_memory(budget.usable_bytes)} is left "
            "after the OS "
            f"and desktop ({format_memory(budget.reserve_bytes)})"
        )
    if budget.comfortable_bytes < budget.usable_bytes:
        return (
            f"Memory: {where}; a model should take at most {format_memory(budget.comfortable_bytes)} "
            "so your browser and other apps keep working."
        )
    return f"Memory: {where}."


def _download_sentence(pick: Candidate) -> str:
    """The ``ollama pull`` size: cited when the catalog has a primary source, else marked an estimate
    (the full citation is in ``--json`` as ``download_source``)."""
    amount = pick.download_bytes / 1e9
    size = f"{amount:.2f} GB" if amount < 1 else f"{amount:.1f} GB"
    if pick.size_verified:
        return f"Download: {size} (`ollama pull {pick.tag}`; size from {pick.size_note})."
    return f"Download: about {size} (`ollama pull {pick.tag}`; estimated, `ollama pull` shows the real size)."


def pick_reasons(
    pick: Candidate | None,
    ranked: tuple[Candidate, ...],
    budget: Budget,
    machine: Machine,
    use_case: str,
    target_tps: float,
    context: int,
    users: int,
    asked: bool = False,
    notes: dict[str, str] | None = None,
) -> list[str]:
    """Why ``pick`` (or why nothing): the budget, the pick's memory, speed and first-token time, why it
    won (or, when ``asked``, how the model the user named fares), the step up, download and caveats."""
    reasons = [_budget_sentence(budget)]
    if pick is None:
        smallest = min(ranked, key=lambda c: c.total_bytes, default=None)
        if smallest is not None and asked:
            reasons.append(
                f"{smallest.tag} does not fit: {smallest.why_not}. Try a shorter --ctx, fewer --users, "
                "a smaller quantisation, or more memory."
            )
        elif smallest is not None:
            reasons.append(
                f"Nothing fits: even {smallest.tag} needs {format_memory(smallest.total_bytes)} "
                f"with a {context}-token "
                f"context for {users} user(s). Try a shorter --ctx, fewer --users, or more memory."
            )
        return reasons
    est = pick.estimate
    who = "1 user" if users == 1 else f"{users} users at once"
    reasons.append(
        f"{pick.tag} needs about {format_memory(pick.total_bytes)} "
        f"(weights {format_memory(est.weights_bytes)}, "
        f"KV cache {format_memory(est.kv_bytes)} for a {context}-token context and {who}, "
        f"runtime {format_memory(est.overhead_bytes)})."
    )
    thinking = (
        f" after ~{THINKING_TOKENS} tokens of thinking (a thinking model writes its reasoning first)"
        if pick.thinking
        else ""
    )
    reasons.append(
        f"Predicted ~{pick.decode_tps:.0f} tokens/s per user (grade {grade_meaning(pick.grade)}); "
        f"a {ANSWER_TOKENS}-token answer is complete in ~{pick.answer_s:.0f} s{thinking}."
    )
    reasons.append(
        f"Time to first token after a {est.prompt_tokens}-token prompt: ~{pick.ttft_s:.1f} s with the model "
        "already loaded (the first request after a start also waits for it to load)."
    )
    if asked:
        if pick.tier == 1:
            reasons.append(
                f"You asked for {pick.tag}: it fits comfortably and reaches your target of "
                f"{target_tps:g} tokens/s."
            )
        elif pick.tier == 2:
            reasons.append(
                f"You asked for {pick.tag}: it reaches {target_tps:g} tokens/s but needs more memory than "
                "is comfortable: close other apps while it runs."
            )
        else:
            reasons.append(
                f"You asked for {pick.tag}: it fits, but at ~{pick.visible_tps:.1f} tokens/s it is below "
                f"your target of {target_tps:g}; run `gpuless recommend` for one that reaches it."
            )
        for note in (notes or {}).values():
            reasons.append(note)
    elif pick.tier == 1:
        reasons.append(
            f"It is the best model for {use_case} (score {pick.use_case_score}/10) among those that fit "
            f"comfortably and reach your target of {target_tps:g} tokens/s."
        )
    elif pick.tier == 2:
        reasons.append(
            f"Nothing that fits comfortably reaches {target_tps:g} tokens/s for {use_case}; "
            "this one does but uses more memory than is comfortable: close other apps while it runs."
        )
    else:
        reasons.append(
            f"No model reaches your target of {target_tps:g} tokens/s on this machine; this is the fastest "
            "that fits. Lower --target-tps to see slower, stronger models."
        )
    if pick.quant.upper() == DEFAULT_QUANT and not asked:
        larger = [c for c in ranked if c.model == pick.model and c.quant.upper() in LARGER_THAN_DEFAULT_QUANT]
        if larger:
            other = larger[0]
            reasons.append(
                f"{DEFAULT_QUANT} rather than {other.quant} (~{other.decode_tps:.0f} tokens/s): a larger "
                f"quantisation must reach {QUANT_UPGRADE_SPEED_MARGIN:g}× your target to be worth its speed."
            )
    bigger = [
        c
        for c in ranked
        if c.fits
        and not c.test_model
        and c.params_b > pick.params_b
        and c.use_case_score > pick.use_case_score
        and not (c.thinking and use_case not in THINKING_USE_CASES)
    ]
    if bigger and pick.tier <= 2 and not asked:
        # The next step up, not the strongest model: it is the one a user would try instead, quoted in
        # its fastest variant (the best case for it).
        step_size = min(c.params_b for c in bigger)
        step_up = max((c for c in bigger if c.params_b == step_size), key=lambda c: c.decode_tps)
        why = "is too slow" if not step_up.meets_target else "needs more memory than is comfortable"
        reasons.append(
            f"The next step up, {step_up.tag} ({step_up.decode_tps:.1f} tokens/s, "
            f"{format_memory(step_up.total_bytes)}), {why}."
        )
    reasons.append(_download_sentence(pick))
    if pick.test_model:
        reasons.append("This is a tiny test model: expect short, simple answers.")
    if machine.docker.is_desktop:
        reasons.append(
            "Docker Desktop runs Ollama in a VM on the CPU only (no Apple/Metal GPU); give the VM more "
            "memory under Settings → Resources for bigger models."
        )
    if est.factors.bandwidth_source == "assumed":
        reasons.append("Memory bandwidth was not measured; speeds assume a slow DDR4 laptop.")
    return reasons


__all__ = ["pick_reasons"]
