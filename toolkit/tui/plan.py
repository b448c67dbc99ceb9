"""Thin adapter: from what the wizard knows (machine, chosen model, the user's file, its settings) to the
one plan.

The wizard's Compose and Launch steps call ``toolkit.services.planning.plan`` with the same request
``gpuless compose --model TAG`` builds, so both write byte-identical compose.yaml files for the same
choice. The Model step's pick supplies context, users and KV cache type; the port comes from the
wizard's Ollama URL, so a test server on another loopback port gets a container on that port.

An existing gpuless compose file wins over those defaults: for its own model with no setting changed,
its spec is used as it is (Launch starts what the file says and writes nothing); otherwise its port,
users, exposure, names and image are kept unless the Settings area changes them
(``toolkit.core.recommend.file_settings``, which also says what a new spec changes in the file).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, get_args
from urllib.parse import urlsplit

from toolkit.core.compose.spec import DEFAULT_PORT, KvCacheType, OllamaServiceSpec
from toolkit.core.recommend.file_settings import UNCHANGED, ServerSettings, file_kept, request_over
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


#: Planned until the Model step picks something (or a compose file names a model), so Compose and Launch
#: are usable on their own.
FALLBACK_MODEL = "qwen2.5:1.5b"


def port_of_url(url: str) -> int:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    return parts.port or DEFAULT_PORT


def _kv(value: str) -> KvCacheType:
    for allowed in get_args(KvCacheType):
        if value == allowed:
            return allowed  # type: ignore[no-any-return]
    return "f16"


def plan_for(
    services: WizardDeps,
    machine: Machine | None,
    model: str,
    choice: Pick | None = None,
    file: OllamaServiceSpec | None = None,
    server: ServerSettings = UNCHANGED,
) -> Plan:
    """The plan for ``model`` on ``machine`` (``choice``: the Model step's pick, if any; ``file``: the
    compose file's spec, whose values are kept unless ``server`` changes them)."""
    from toolkit.services.machine import this_machine

    settings = services.settings
    request = PlanRequest(
        model=model,
        image=services.ollama_image,
        container_name=settings.container_name,
        volume_name=settings.volume_name,
        port=port_of_url(services.url),
    )
    if choice is not None:
        request = replace(
            request,
            context_length=choice.context_length,
            users=choice.num_parallel,
            kv_cache_type=_kv(choice.kv_cache_type),
        )
    request = request_over(request, file, server)
    if machine is None:  # the Machine step has not answered yet: a quick look, no bandwidth probe
        machine = this_machine(measure_bandwidth=False, docker=False)
    return plan(request, machine=machine, catalog=services.catalog(), settings=settings)


def spec_for(
    services: WizardDeps,
    machine: Machine | None,
    model: str,
    choice: Pick | None = None,
    file: OllamaServiceSpec | None = None,
    server: ServerSettings = UNCHANGED,
) -> OllamaServiceSpec:
    """The service spec of ``plan_for`` (what the Compose step writes and the Launch step starts); the
    file's own spec when it is for ``model`` and no setting changes it."""
    if file is not None and file_kept(file, model, server):  # None checked again for mypy's narrowing
        return file
    return plan_for(services, machine, model, choice, file, server).spec
