"""The one plan: (machine, catalog, what the user asked) → the service spec and what to tell them.

``gpuless compose``, ``gpuless up``, the wizard's Compose and Launch steps and the benchmark's
prediction all call ``plan_service``, so the same choice gives byte-identical compose.yaml files and
the same predicted speed wherever it is made. Sizing policy lives here: the container's memory limit
from the estimate, threads and the CPU quota from the cores, an unknown model left unlimited with a
note that says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.core.catalog.model import Catalog
from toolkit.core.compose.spec import (
    DEFAULT_CONTAINER,
    DEFAULT_CONTEXT,
    DEFAULT_IMAGE,
    DEFAULT_KEEP_ALIVE,
    DEFAULT_PORT,
    DEFAULT_VOLUME,
    KvCacheType,
    NetworkMode,
    OllamaServiceSpec,
    build_spec,
)
from toolkit.core.estimate.params import DEFAULT_PARAMS, EstimatorParams
from toolkit.core.machine.hardware import Machine
from toolkit.core.recommend.candidate import Candidate
from toolkit.core.recommend.native_advice import native_reason
from toolkit.core.recommend.pick import recommend
from toolkit.errors import UnknownModelError, UsageError

#: Container memory on top of the estimate: the Ollama server process, load-time buffers, estimate error.
MEM_HEADROOM_SHARE = 0.25
MEM_HEADROOM_BYTES = 512 * 1024**2
_MEM_STEP = 256 * 1024**2


@dataclass(frozen=True)
class PlanRequest:
    """What the user asked for; None means "let the plan decide".

    Attributes:
        model: the Ollama tag to serve; None = the recommendation's pick.
        context_length: tokens of context per request slot.
        users: concurrent requests (OLLAMA_NUM_PARALLEL); each gets its own KV cache.
        kv_cache_type: f16, q8_0 or q4_0 (a quantized cache turns flash attention on).
        mem_limit_bytes: the container's memory limit; None = sized from the estimate.
        cpus: the CPU quota in cores; None = the cores llama.cpp would use anyway.
        keep_alive: OLLAMA_KEEP_ALIVE (a Go duration).
        port: the host port Ollama answers on.
        expose: listen beyond loopback (Ollama has no authentication).
        image: the container image.
        container_name: the container's fixed name.
        volume_name: the models volume.
        network: "host" or "ports"; None = decided from the engine.
        memlock: force the memlock ulimit on (True) or leave it off (None/False).
        swappiness: force ``mem_swappiness: 0`` on or off; None = decided from the engine.
        native: for native Ollama rather than the container: on a Mac, with no model named, the pick is
            native Ollama's own (``Recommendation.native_pick``: Metal speeds, the Mac's own memory).
    """

    model: str | None = None
    context_length: int = DEFAULT_CONTEXT
    users: int = 1
    kv_cache_type: KvCacheType = "f16"
    mem_limit_bytes: int | None = None
    cpus: float | None = None
    keep_alive: str = DEFAULT_KEEP_ALIVE
    port: int = DEFAULT_PORT
    expose: bool = False
    image: str = DEFAULT_IMAGE
    container_name: str = DEFAULT_CONTAINER
    volume_name: str = DEFAULT_VOLUME
    network: NetworkMode | None = None
    memlock: bool | None = None
    swappiness: bool | None = None
    native: bool = False


@dataclass(frozen=True)
class Plan:
    """The spec to write and start, and what the user should be told about it.

    Attributes:
        spec: the service spec (its ``adjustments`` are written into the file header).
        candidate: the catalog candidate served (its estimate is the prediction everyone shows); None
            for a model the catalog does not know.
        notes: one-line notes for the terminal (an unknown model, a model that does not fit).
        advice: on a Mac, native Ollama on the Metal GPU with its predicted speed beside Docker's
            (``native_advice.native_reason``), for a Docker plan to mention; None elsewhere.
    """

    spec: OllamaServiceSpec
    candidate: Candidate | None
    notes: tuple[str, ...] = ()
    advice: str | None = None


def container_memory_limit(model_bytes: int, usable_bytes: int | None = None) -> int:
    """The memory limit for a model whose estimate is ``model_bytes``.

    ``model_bytes × 1.25 + 512 MiB`` rounded up to 256 MiB, capped at ``usable_bytes`` (what the machine
    can give without swapping) but never below the estimate plus 256 MiB, so the model always loads.
    """
    wanted = _round_up(int(model_bytes * (1 + MEM_HEADROOM_SHARE)) + MEM_HEADROOM_BYTES)
    if usable_bytes is not None:
        wanted = min(wanted, max(_round_up(usable_bytes - _MEM_STEP + 1), _round_up(model_bytes) + _MEM_STEP))
    return wanted


def _round_up(value: int) -> int:
    return -(-value // _MEM_STEP) * _MEM_STEP


def plan_service(
    machine: Machine, catalog: Catalog, request: PlanRequest, params: EstimatorParams = DEFAULT_PARAMS
) -> Plan:
    """The spec for ``request`` on ``machine`` (whose ``docker`` is the engine it will run on).

    Without a model the recommendation's pick is served; a model the catalog knows is sized from its
    estimate (memory limit) and the cores (threads = performance cores, else physical cores: what
    llama.cpp itself would use, but pinned so a CPU quota cannot oversubscribe); a model it does not
    know gets the same threads but no memory limit, and a note that says so. Explicit values in
    ``request`` always win. ``params``: the estimator's (this machine's calibration applied, when the
    caller has one), so the plan picks what ``recommend`` shows.
    """
    notes: list[str] = []
    threads = machine.cpu.performance_cores or machine.cpu.physical_cores
    only = None
    if request.model is not None:
        try:
            only = (catalog.find(request.model),)
        except UnknownModelError as unknown:
            note = f"{unknown.message}; no memory limit was set for it (pass --mem-limit to set one)"
            if request.mem_limit_bytes is not None:
                note = f"{unknown.message}; the memory limit is the one given, not an estimate"
            spec = _build(machine, request, request.model, None, threads, (note,))
            return Plan(spec, None, (note,))
    result = recommend(
        machine,
        catalog,
        context=request.context_length,
        users=request.users,
        kv_cache_type=request.kv_cache_type,
        only=only,
        params=params,
    )
    pick = result.pick
    if request.native and only is None and result.native_pick is not None:
        pick = result.native_pick
    if pick is None:
        if only is None or not result.candidates:
            raise UsageError(
                f"nothing in the catalog fits {result.machine}",
                "Free memory, or pass --model with a small model (e.g. qwen2.5:0.5b).",
            )
        pick = result.candidates[0]
        notes.append(f"{request.model} does not fit this machine's memory budget")
    limit = request.mem_limit_bytes
    if limit is None:
        limit = container_memory_limit(pick.total_bytes, result.budget.usable_bytes)
    # The catalog's full tag is served (``qwen2.5:1.5b`` → ``qwen2.5:1.5b-instruct-q4_K_M``): the exact
    # file that was sized, which a registry's moving default tag is not.
    spec = _build(machine, request, pick.tag, limit, threads, ())
    # the Docker-vs-Metal sentence is about Docker's pick (a native pick's figures are already Metal's)
    metal = None if pick is result.native_pick and request.native else result.metal.get(pick.tag)
    advice = native_reason(pick.tag, pick.decode_tps, metal) if metal is not None else None
    return Plan(spec, pick, tuple(notes), advice)


def _build(
    machine: Machine,
    request: PlanRequest,
    model: str,
    mem_limit_bytes: int | None,
    threads: int | None,
    notes: tuple[str, ...],
) -> OllamaServiceSpec:
    cpus = request.cpus if request.cpus is not None else (float(threads) if threads else None)
    available = machine.cpu.logical_cores
    if not machine.docker.reachable and cpus is not None and available and cpus > available:
        # No engine to cap the quota (it would refuse more than it has): this machine's CPUs do.
        notes = (*notes, f"cpus lowered from {cpus:g} to {available}: the machine has only {available} CPUs")
        cpus = float(available)
    return build_spec(
        model=model,
        context_length=request.context_length,
        num_parallel=request.users,
        mem_limit_bytes=request.mem_limit_bytes if request.mem_limit_bytes is not None else mem_limit_bytes,
        cpus=cpus,
        num_thread=threads if request.cpus is None else None,  # None: follow the quota given
        kv_cache_type=request.kv_cache_type,
        keep_alive=request.keep_alive,
        engine=machine.docker if machine.docker.reachable else None,
        expose=request.expose,
        port=request.port,
        image=request.image,
        container_name=request.container_name,
        volume_name=request.volume_name,
        network=request.network,
        memlock=request.memlock,
        swappiness=request.swappiness,
        notes=notes,
    )
