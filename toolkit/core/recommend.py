"""Pick a model and quant tag for a machine: the memory budget, every candidate's estimate, the ranking,
and the reasons in plain language.

Pure: the machine comes in as a ``Machine`` (detected or built from a hardware profile), the models as a
``Catalog``. The familiar rule of thumb (0.5–1.5B for 8 GB, 3–4B for 16 GB, 7–9B for 32 GB) is not
written anywhere here; it follows from the budget policy below, the estimator's speed physics and the
default target speed, and tests over the shipped hardware profiles check that it does.

API:

- ``memory_budget(machine) -> Budget``: what a model can really use (host RAM, Docker Desktop's VM,
  a cgroup limit, minus what the OS needs) and how much of it a model should take so the laptop stays usable.
- ``recommend(machine, catalog, *, use_case="chat", target_tps=10, context=4096, users=1,
  kv_cache_type="f16", prompt_tokens=512) -> Recommendation`` with ranked ``Candidate``s, ``pick``
  (or None when nothing fits) and ``reasons`` (list of sentences).

Budget policy (documented constants below):

- ``usable`` = min(host RAM − OS reserve, Docker VM − VM reserve, cgroup limit − 5%): a model larger than
  this does not load without swapping. OS reserve = 1.5 GiB + 10% of RAM (kernel, desktop session, Docker
  daemon, a minimum of page cache).
- ``comfortable`` = the larger of a third of the host's usable memory and what is left after the apps of
  a laptop that is being *used* (browser, editor, chat client: ``APPS_RESERVE_BYTES``), capped by
  ``usable``. A cgroup limit is dedicated to the model, so there ``comfortable = usable``.

Pick policy: the best use-case score (× a small quantisation-quality factor) among candidates that fit
comfortably and meet the target speed per user; failing that, among those that fit and meet the target;
failing that, the fastest that fits comfortably, then the fastest that fits. Test models (135M/270M toys)
get low scores, so they only win when nothing real qualifies. What users feel decides the details:

- Q4_K_M is the default quantisation: a larger one (Q8_0, F16…) counts for its extra quality only when
  it is clearly affordable (``QUANT_UPGRADE_SPEED_MARGIN`` × the target, fitting comfortably); otherwise
  it ranks below the model's Q4_K_M.
- A thinking model (``ModelSpec.thinking``) makes the user wait for ``THINKING_TOKENS`` before the
  answer: outside ``THINKING_USE_CASES`` its speed is judged as the answer tokens per second of waiting
  (``Candidate.visible_tps``) and it ranks after non-thinking models of the same tier, so chat never
  gets one by default. Its answer time always includes the thinking.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from toolkit.core.catalog import Catalog, ModelSpec, QuantVariant, normalise_use_case
from toolkit.core.estimate import (
    DEFAULT_PARAMS,
    Estimate,
    EstimatorParams,
    estimate,
    grade,
    grade_meaning,
)
from toolkit.core.hardware import GIB, Machine
from toolkit.core.offcatalog import spec_from_tag
from toolkit.errors import UnknownModelError, UsageError

#: Tokens/s per user the pick must reach by default: about twice silent reading speed (~5–6 tok/s), the
#: pace at which an answer streams faster than it is read. Grade C (15) is the next line up; at 32 GB the
#: DDR5 laptops of today decode a 7–8B model at ~10–12 tok/s (§3: Ryzen AI 5 340, 8B, 10.46 tok/s), so a
#: default of 15 would never offer a 7B model to anyone on a laptop.
DEFAULT_TARGET_TPS = 10.0
#: Ollama's default context on a machine without a GPU (OLLAMA_CONTEXT_LENGTH=0 ⇒ 4096).
DEFAULT_CONTEXT = 4096
DEFAULT_USE_CASE = "chat"
#: Length of the prompt TTFT is quoted for, and of the answer the "answer takes N s" sentence uses.
DEFAULT_PROMPT_TOKENS = 512
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
_LARGER_THAN_DEFAULT_QUANT = {"Q5_0", "Q5_1", "Q5_K_S", "Q5_K_M", "Q6_K", "Q8_0", "F16", "BF16", "F32"}

#: OS reserve on the host: fixed part + share of RAM (kernel, desktop, Docker daemon, page cache floor).
HOST_RESERVE_BASE_BYTES = int(1.5 * GIB)
HOST_RESERVE_SHARE = 0.10
#: Docker Desktop's VM keeps this for its own kernel, dockerd and containerd.
VM_RESERVE_BYTES = GIB // 2
#: Inside a cgroup limit, keep this share free so the kernel reclaims page cache instead of OOM-killing.
CGROUP_RESERVE_SHARE = 0.05
#: Share of the host's usable memory a model may always take and still leave the laptop usable.
COMFORT_SHARE = 1 / 3
#: What the apps of a laptop in use (a browser with a dozen tabs, an editor, a chat client) keep
#: resident, beside the OS reserve. A model may take whatever is left when that is more than
#: ``COMFORT_SHARE``: on 16 GB a 7B Q4 model (≈ 5 GiB) then fits comfortably, as users expect, while on
#: 8 GB the share still rules.
APPS_RESERVE_BYTES = 4 * GIB

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
class Budget:
    """How much memory a model may use on a machine, and why.

    Attributes:
        host_bytes: installed RAM as the OS reports it.
        docker_vm_bytes: memory of Docker Desktop's VM (or a non-Linux engine), None when Docker is native.
        cgroup_bytes: the memory limit of the cgroup gpuless runs in, None when unlimited.
        limited_by: which of "host RAM", "Docker Desktop VM", "cgroup limit" sets ``usable``.
        reserve_bytes: what is kept back from that limit (OS / VM / cgroup reserve).
        usable_bytes: the most a model can take without swapping ("fits").
        comfortable_bytes: what a model should take so the machine stays usable ("fits comfortably").
    """

    host_bytes: int
    docker_vm_bytes: int | None
    cgroup_bytes: int | None
    limited_by: str
    reserve_bytes: int
    usable_bytes: int
    comfortable_bytes: int


def memory_budget(machine: Machine) -> Budget:
    """The memory budget of ``machine`` (see the module docstring for the policy)."""
    host = machine.memory.total_bytes
    host_reserve = HOST_RESERVE_BASE_BYTES + int(HOST_RESERVE_SHARE * host)
    host_usable = max(host - host_reserve, 0)
    options: list[tuple[int, str, int]] = [(host_usable, "host RAM", host_reserve)]
    docker = machine.docker
    vm_bytes = None
    if docker.reachable and docker.mem_total_bytes and (docker.is_desktop or machine.os != "linux"):
        vm_bytes = docker.mem_total_bytes
        options.append((max(vm_bytes - VM_RESERVE_BYTES, 0), "Docker Desktop VM", VM_RESERVE_BYTES))
    cgroup_bytes = machine.cgroup.memory_limit_bytes
    if cgroup_bytes:
        reserve = int(cgroup_bytes * CGROUP_RESERVE_SHARE)
        options.append((cgroup_bytes - reserve, "cgroup limit", reserve))
    usable, limited_by, reserve = min(options, key=lambda option: option[0])
    beside_apps = max(int(host_usable * COMFORT_SHARE), host_usable - APPS_RESERVE_BYTES)
    comfortable = usable if limited_by == "cgroup limit" else min(beside_apps, usable)
    return Budget(
        host_bytes=host,
        docker_vm_bytes=vm_bytes,
        cgroup_bytes=cgroup_bytes,
        limited_by=limited_by,
        reserve_bytes=reserve,
        usable_bytes=usable,
        comfortable_bytes=comfortable,
    )


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


def gb(n_bytes: float) -> str:
    """Bytes as "5.3 GiB" ("0.04 GiB" below 1 GiB, so small sizes do not read as zero): binary units, as
    ``gpuless detect``, the TUI and ``free -h`` show memory."""
    value = n_bytes / GIB
    return f"{value:.2f} GiB" if value < 1 else f"{value:.1f} GiB"


def _judge(
    model: ModelSpec,
    variant: QuantVariant,
    est: Estimate,
    budget: Budget,
    use_case: str,
    target_tps: float,
    context: int,
) -> Candidate:
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
    if quant in _LARGER_THAN_DEFAULT_QUANT and not affordable:
        # Not clearly affordable: the larger file counts for no more than the default quantisation,
        # just below it, so the model's Q4_K_M (faster, smaller) wins.
        quant_quality = min(quant_quality, QUANT_QUALITY[DEFAULT_QUANT] - 0.005)
    quality = score * quant_quality
    if not context_ok:
        tier, why = 5, f"trained for {model.context_length} tokens of context, {context} asked"
    elif not fits:
        tier, why = 5, f"needs {gb(est.total_bytes)}, {gb(budget.usable_bytes)} usable"
    elif comfortable and meets:
        tier, why = 1, None
    elif meets:
        tier, why = (
            2,
            f"needs {gb(est.total_bytes)}, more than the {gb(budget.comfortable_bytes)} comfortable",
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


def _rank_key(c: Candidate, use_case: str) -> tuple[Any, ...]:
    thinking_last = c.thinking and use_case not in THINKING_USE_CASES
    if c.tier <= 2:  # good enough on both counts: the best model for the job wins, then the faster one
        return (c.tier, thinking_last, -c.quality, -c.decode_tps)
    # nothing qualified: get as close to the target as possible, real models before test toys
    return (c.tier, c.test_model, thinking_last, -c.visible_tps, -c.quality)


def resolve_model(catalog: Catalog, name: str) -> tuple[ModelSpec, QuantVariant]:
    """The catalog's model and variant for ``name``; a tag the catalog does not know is estimated from
    its name (``toolkit.core.offcatalog.spec_from_tag``: parameter count and quantisation, uncertainty in
    the spec's notes). A name with no size in it raises ``UnknownModelError`` with close matches."""
    try:
        return catalog.find(name)
    except UnknownModelError as unknown:
        try:
            spec = spec_from_tag(name, catalog)
        except UnknownModelError:
            raise unknown from None
        return spec, spec.default_variant


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
        candidates.append(_judge(model, variant, est, budget, use_case, target_tps, context))
    ranked = tuple(sorted(candidates, key=lambda c: _rank_key(c, use_case)))
    pick = ranked[0] if ranked and ranked[0].tier < 5 else None
    asked = only is not None
    notes = {m.name: m.notes for m, _ in pairs if not m.good_at} if asked else {}
    reasons = _reasons(pick, ranked, budget, machine, use_case, target_tps, context, users, asked, notes)
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


def _budget_sentence(budget: Budget) -> str:
    if budget.limited_by == "Docker Desktop VM":
        where = (
            f"Docker Desktop's VM has {gb(budget.docker_vm_bytes or 0)} "
            f"({gb(budget.usable_bytes)} usable after its own {gb(budget.reserve_bytes)})"
        )
    elif budget.limited_by == "cgroup limit":
        limit = gb(budget.cgroup_bytes or 0)
        where = f"the container's memory limit is {limit} ({gb(budget.usable_bytes)} usable)"
    else:
        where = (
            f"of {gb(budget.host_bytes)} RAM, {gb(budget.usable_bytes)} is left after the OS "
            f"and desktop ({gb(budget.reserve_bytes)})"
        )
    if budget.comfortable_bytes < budget.usable_bytes:
        return (
            f"Memory: {where}; a model should take at most {gb(budget.comfortable_bytes)} "
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


def _reasons(
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
                f"Nothing fits: even {smallest.tag} needs {gb(smallest.total_bytes)} with a {context}-token "
                f"context for {users} user(s). Try a shorter --ctx, fewer --users, or more memory."
            )
        return reasons
    est = pick.estimate
    who = "1 user" if users == 1 else f"{users} users at once"
    reasons.append(
        f"{pick.tag} needs about {gb(pick.total_bytes)} (weights {gb(est.weights_bytes)}, "
        f"KV cache {gb(est.kv_bytes)} for a {context}-token context and {who}, "
        f"runtime {gb(est.overhead_bytes)})."
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
        larger = [
            c for c in ranked if c.model == pick.model and c.quant.upper() in _LARGER_THAN_DEFAULT_QUANT
        ]
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
            f"{gb(step_up.total_bytes)}), {why}."
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


__all__ = [
    "APPS_RESERVE_BYTES",
    "COMFORT_SHARE",
    "DEFAULT_CONTEXT",
    "DEFAULT_TARGET_TPS",
    "DEFAULT_USE_CASE",
    "QUANT_QUALITY",
    "QUANT_UPGRADE_SPEED_MARGIN",
    "THINKING_TOKENS",
    "Budget",
    "Candidate",
    "Recommendation",
    "gb",
    "grade",
    "memory_budget",
    "recommend",
    "resolve_model",
    "what_if",
]


def what_if(
    machine: Machine,
    *,
    ram_gb: float | None = None,
    cores: int | None = None,
    bandwidth_gbps: float | None = None,
) -> Machine:
    """``machine`` with RAM (GiB), physical cores or bandwidth (GB/s, a theoretical peak) replaced.

    Replacing RAM drops the cgroup limit and a native engine's memory figure (they described the old
    RAM); a Docker Desktop VM keeps its share of the new RAM.
    """
    from dataclasses import replace

    from toolkit.core.hardware import Bandwidth

    for label, value in (("--ram", ram_gb), ("--cores", cores), ("--bandwidth", bandwidth_gbps)):
        if value is not None and not value > 0:
            raise UsageError(f"{label} must be positive, not {value:g}")
    changed = []
    if ram_gb is not None:
        total = int(ram_gb * GIB)
        docker = machine.docker
        if docker.mem_total_bytes and machine.memory.total_bytes:
            share = docker.mem_total_bytes / machine.memory.total_bytes if docker.is_desktop else 1.0
            docker = replace(docker, mem_total_bytes=int(total * min(share, 1.0)))
        machine = replace(
            machine,
            memory=replace(machine.memory, total_bytes=total, available_bytes=total),
            cgroup=replace(machine.cgroup, memory_limit_bytes=None),
            docker=docker,
        )
        changed.append(f"{ram_gb:g} GiB RAM")
    if cores is not None:
        cpu = replace(
            machine.cpu,
            physical_cores=cores,
            logical_cores=max(cores, machine.cpu.logical_cores),
            performance_cores=None,
        )
        machine = replace(machine, cpu=cpu, cgroup=replace(machine.cgroup, cpu_limit=None))
        changed.append(f"{cores} cores")
    if bandwidth_gbps is not None:
        machine = replace(
            machine,
            bandwidth=Bandwidth(gbps=bandwidth_gbps, source="profile", detail="given on the command line"),
        )
        changed.append(f"{bandwidth_gbps:g} GB/s")
    if changed:
        machine = replace(machine, name=f"{machine.name} with {', '.join(changed)}")
    return machine
