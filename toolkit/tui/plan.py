"""Thin adapter: from what the wizard knows (machine, chosen model, the user's file, its settings) to the
one plan.

The wizard's Compose and Launch steps call ``toolkit.services.planning.plan`` with the same request
``gpuless compose --model TAG`` builds, so both write byte-identical compose.yaml files for the same
choice. The Model step's pick supplies context, users and KV cache type; the port comes from the
wizard's Ollama URL, so a test server on another loopback port gets a container on that port.

An existing gpuless compose file wins over those defaults: for its own model with no setting changed,
its spec is used as it is (Launch starts what the file says and writes nothing); otherwise its port,
users, exposure, names and image are kept unless the Settings area changes them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, get_args
from urllib.parse import urlsplit

from toolkit.core.compose.spec import DEFAULT_PORT, KvCacheType, OllamaServiceSpec
from toolkit.core.recommend.plan import Plan, PlanRequest
from toolkit.core.units import GIB, format_bytes
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


@dataclass(frozen=True)
class ServerSettings:
    """The Settings area's values; None keeps the file's value (or, with no file, the plan's).

    Attributes:
        port: the host port the server answers on.
        users: requests served at once (OLLAMA_NUM_PARALLEL).
        mem_limit_gib: the container's memory cap in GiB; None sizes it from the estimate.
        expose: listen on every address (the LAN) instead of loopback only.
    """

    port: int | None = None
    users: int | None = None
    mem_limit_gib: float | None = None
    expose: bool | None = None

    def changes(self, spec: OllamaServiceSpec) -> bool:
        """Whether a value set here differs from ``spec``'s."""
        mem = None if self.mem_limit_gib is None else int(self.mem_limit_gib * GIB)
        return any(
            mine is not None and mine != theirs
            for mine, theirs in (
                (self.port, spec.port),
                (self.users, spec.num_parallel),
                (mem, spec.mem_limit_bytes),
                (self.expose, spec.expose),
            )
        )


def _memory(value: int | None) -> str:
    return "sized from the estimate" if value is None else format_bytes(value)


def spec_changes(old: OllamaServiceSpec, new: OllamaServiceSpec) -> tuple[str, ...]:
    """What ``new`` changes in ``old``, in the Settings area's words ("port 38434 → 38435")."""
    where = {False: "this machine only", True: "the LAN"}
    pairs: tuple[tuple[str, Any, Any], ...] = (
        ("model", old.model, new.model),
        ("port", old.port, new.port),
        ("users", old.num_parallel, new.num_parallel),
        ("memory cap", _memory(old.mem_limit_bytes), _memory(new.mem_limit_bytes)),
        ("listens on", where[old.expose], where[new.expose]),
        ("context", old.context_length, new.context_length),
        ("image", old.image, new.image),
    )
    return tuple(f"{name} {a} → {b}" for name, a, b in pairs if a != b)


def plan_for(
    services: WizardDeps,
    machine: Machine | None,
    model: str,
    choice: Pick | None = None,
    file: OllamaServiceSpec | None = None,
    server: ServerSettings = ServerSettings(),
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
    if file is not None:
        request = replace(
            request,
            port=file.port,
            users=file.num_parallel,
            expose=file.expose,
            image=file.image,
            container_name=file.container_name,
            volume_name=file.volume_name,
            keep_alive=file.keep_alive,
        )
        if file.model == model:  # sized for this model: its context, cache and cap stay
            request = replace(
                request,
                context_length=file.context_length,
                kv_cache_type=file.kv_cache_type,
                mem_limit_bytes=file.mem_limit_bytes if server.users in (None, file.num_parallel) else None,
            )
    request = replace(
        request,
        port=server.port if server.port is not None else request.port,
        users=server.users if server.users is not None else request.users,
        expose=server.expose if server.expose is not None else request.expose,
    )
    if server.mem_limit_gib is not None:
        request = replace(request, mem_limit_bytes=int(server.mem_limit_gib * GIB))
    if machine is None:  # the Machine step has not answered yet: a quick look, no bandwidth probe
        machine = this_machine(measure_bandwidth=False, docker=False)
    return plan(request, machine=machine, catalog=services.catalog(), settings=settings)


def spec_for(
    services: WizardDeps,
    machine: Machine | None,
    model: str,
    choice: Pick | None = None,
    file: OllamaServiceSpec | None = None,
    server: ServerSettings = ServerSettings(),
) -> OllamaServiceSpec:
    """The service spec of ``plan_for`` (what the Compose step writes and the Launch step starts); the
    file's own spec when it is for ``model`` and no setting changes it."""
    if file is not None and file.model == model and not server.changes(file):
        return file
    return plan_for(services, machine, model, choice, file, server).spec
