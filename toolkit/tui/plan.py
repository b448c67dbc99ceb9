"""Thin adapter: from what the wizard knows (machine, chosen model) to the one plan.

The wizard's Compose and Launch steps call ``toolkit.services.planning.plan`` with the same request
``gpuless compose --model TAG`` builds, so both write byte-identical compose.yaml files for the same
choice. The Model step's pick supplies context, users and KV cache type; the port comes from the
wizard's Ollama URL, so a test server on another loopback port gets a container on that port.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, get_args
from urllib.parse import urlsplit

from toolkit.core.compose.spec import DEFAULT_PORT, KvCacheType, OllamaServiceSpec
from toolkit.core.recommend.plan import Plan, PlanRequest
from toolkit.services.planning import plan

if TYPE_CHECKING:
    from toolkit.core.machine.hardware import Machine
    from toolkit.core.recommend.candidate import Candidate
    from toolkit.tui.deps import WizardDeps


@dataclass(frozen=True)
class Pick:
    """The Model step's choice: a ranked candidate plus the request it was judged for.

    Attributes:
        candidate: ``toolkit.core.recommend.candidate.Candidate`` (tag, estimate, fit, grade).
        context_length: tokens of context per slot the estimate assumed.
        num_parallel: users served at once (OLLAMA_NUM_PARALLEL).
        kv_cache_type: KV cache type the estimate assumed.
    """

    candidate: Candidate
    context_length: int
    num_parallel: int
    kv_cache_type: str

    @property
    def tag(self) -> str:
        return self.candidate.tag


def port_of(url: str) -> int:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    return parts.port or DEFAULT_PORT


def _kv(value: str) -> KvCacheType:
    for allowed in get_args(KvCacheType):
        if value == allowed:
            return allowed  # type: ignore[no-any-return]
    return "f16"


def plan_for(services: WizardDeps, machine: Machine | None, model: str, choice: Pick | None = None) -> Plan:
    """The plan for ``model`` on ``machine`` (``choice``: the Model step's pick, if any)."""
    from toolkit.services.machine import this_machine

    settings = services.settings
    request = PlanRequest(
        model=model,
        image=services.ollama_image,
        container_name=settings.container_name,
        volume_name=settings.volume_name,
        port=port_of(services.url),
    )
    if choice is not None:
        request = replace(
            request,
            context_length=choice.context_length,
            users=choice.num_parallel,
            kv_cache_type=_kv(choice.kv_cache_type),
        )
    if machine is None:  # the Machine step has not answered yet: a quick look, no bandwidth probe
        machine = this_machine(measure_bandwidth=False, docker=False)
    return plan(request, machine=machine, catalog=services.catalog(), settings=settings)


def spec_for(
    services: WizardDeps, machine: Machine | None, model: str, choice: Pick | None = None
) -> OllamaServiceSpec:
    """The service spec of ``plan_for`` (what the Compose step writes and the Launch step starts)."""
    return plan_for(services, machine, model, choice).spec
