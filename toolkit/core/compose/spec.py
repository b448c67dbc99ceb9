"""One description of the Ollama service: the spec, its validation, and its docker-py arguments.

``gpuless compose`` writes ``toolkit.core.compose.render.render_compose_yaml(spec)`` and ``gpuless up``
starts ``to_docker_kwargs(spec)``; both are pure functions of the same ``OllamaServiceSpec``, so the file a
user reads and the container gpuless starts cannot drift apart. ``spec_fingerprint`` hashes what the
container is made of; it is stored as a label so a second ``up`` knows whether it may reuse the
container. The spec is made by ``core.recommend.plan.plan_service`` (from a machine and a model) or read
back from a file by ``toolkit.core.compose.read``.

Tuned load-time parameters (threads, context) reach every client through a derived model: the base tag
is pulled, then ``served_model(tag)`` (e.g. ``qwen2.5:1.5b-gpuless``) is created from it with those
parameters (Ollama's ``POST /api/create`` with ``from`` and ``parameters``, the API form of a Modelfile's
``PARAMETER num_thread …``). Any client that names the served model gets them, whatever it sends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, get_args

from toolkit import defaults
from toolkit.core.machine.hardware import DockerEngineInfo
from toolkit.core.units import format_bytes
from toolkit.errors import UsageError

NetworkMode = Literal["host", "ports"]
KvCacheType = Literal["f16", "q8_0", "q4_0"]

#: Port Ollama listens on (inside the container when ports are published; the default host port too).
CONTAINER_PORT = defaults.OLLAMA_PORT
DEFAULT_PORT = defaults.OLLAMA_PORT
#: Context length per request slot when nothing else is asked (Ollama's CPU default).
DEFAULT_CONTEXT = defaults.CONTEXT_LENGTH
DEFAULT_IMAGE = defaults.IMAGE
DEFAULT_CONTAINER = defaults.CONTAINER_NAME
DEFAULT_VOLUME = defaults.VOLUME_NAME
DEFAULT_KEEP_ALIVE = defaults.KEEP_ALIVE
#: Where the image keeps its models (and keys); a named volume is mounted here.
MODELS_PATH = "/root/.ollama"
#: The healthcheck that fails when the server is down (``ollama --version`` exits 0 even then).
HEALTHCHECK_TEST = ("CMD", "ollama", "list")
#: The tag suffix of the derived model that carries the tuned parameters.
SERVED_SUFFIX = "gpuless"
#: The longest tag Ollama accepts (types/model/name.go:338), which ``<tag>-gpuless`` must stay within.
MAX_TAG = 80

LABEL_PREFIX = "io.gpuless."
LABEL_MANAGED = LABEL_PREFIX + "managed"
LABEL_FINGERPRINT = LABEL_PREFIX + "fingerprint"
LABEL_MODEL = LABEL_PREFIX + "model"
LABEL_NUM_THREAD = LABEL_PREFIX + "num_thread"
LABEL_SPEC = LABEL_PREFIX + "spec"
#: Set by ``up`` when the engine refused a setting and the container was started without it.
LABEL_REFUSED = LABEL_PREFIX + "refused"
#: On the compose file's one-shot init container: the name of the server container it prepares.
LABEL_INIT_OF = LABEL_PREFIX + "init-of"

COMMENT_ONLY_FIELDS = frozenset({"engine_label", "engine_kind", "adjustments"})

EngineKind = Literal["linux", "rootless", "desktop", "podman"]


def served_model(model: str) -> str:
    """The derived model clients use: ``qwen2.5:1.5b`` → ``qwen2.5:1.5b-gpuless``, ``llama3`` →
    ``llama3:gpuless``. A name that already is one is returned as it is."""
    name, _, tag = model.rpartition(":") if ":" in model.rsplit("/", 1)[-1] else (model, "", "")
    if not tag:
        return f"{model}:{SERVED_SUFFIX}"
    if tag == SERVED_SUFFIX or tag.endswith("-" + SERVED_SUFFIX):
        return model
    return f"{name}:{tag}-{SERVED_SUFFIX}"


def base_model(name: str) -> str:
    """The model a served model was created from (``served_model`` reversed); other names unchanged."""
    head, _, tag = name.rpartition(":")
    if not head:
        return name
    if tag == SERVED_SUFFIX:
        return head
    if tag.endswith("-" + SERVED_SUFFIX):
        return f"{head}:{tag[: -len(SERVED_SUFFIX) - 1]}"
    return name


def engine_kind(engine: DockerEngineInfo | None) -> EngineKind | None:
    """What kind of engine runs the container, which decides which knobs take effect (None: unknown)."""
    if engine is None or not engine.reachable:
        return None
    if engine.is_podman:
        return "podman"
    if engine.is_desktop:
        return "desktop"
    if engine.rootless:
        return "rootless"
    return "linux"


@dataclass(frozen=True)
class OllamaServiceSpec:
    """Everything the Ollama container is made of. Build it with ``build_spec``; it validates itself.

    Attributes:
        model: Ollama model tag to pull after start, e.g. "qwen2.5:1.5b-instruct-q4_K_M".
        image: container image.
        container_name: fixed name, so ``docker compose`` and ``gpuless up`` manage the same container.
        volume_name: named volume mounted at /root/.ollama (models survive ``down``).
        service_name: compose service key.
        network: "host" (Linux engines: no NAT, no docker-proxy) or "ports" (publish one port).
        port: host TCP port clients use; with host networking Ollama itself listens on it.
        expose: listen on / publish to all addresses instead of loopback only (Ollama has no auth); with
            ``listen_ip``, whether that address can be reached from other machines.
        listen_ip: one IPv4 address to bind instead (another loopback address, one network card's), as an
            edited file asks; None = 127.0.0.1, or 0.0.0.0 with ``expose``.
        mem_limit_bytes: container memory limit; None = unlimited.
        cpus: CPU quota in cores (``--cpus``); None = unlimited.
        num_thread: llama.cpp threads, set as ``PARAMETER num_thread`` of the served model (there is no
            environment variable for it); None = llama.cpp's default (the host's physical cores).
        memlock_unlimited: set ``ulimits: memlock: -1`` (what guides recommend; Ollama ≥0.7 never calls
            mlock, and rootless, Podman and some rootful engines refuse it). Off unless forced.
        mem_swappiness: 0 asks the kernel not to swap the container; it takes effect only on a cgroup v1
            engine (cgroup v2 engines and Compose v2 discard it). None = a commented line in the file.
        no_new_privileges: ``security_opt: no-new-privileges:true`` and ``cap_drop: [ALL]`` (Ollama runs as
            root in its own files and listens on an unprivileged port: it needs no capability).
        context_length: OLLAMA_CONTEXT_LENGTH, tokens per request slot.
        num_parallel: OLLAMA_NUM_PARALLEL, concurrent requests per model (KV memory × this).
        keep_alive: OLLAMA_KEEP_ALIVE, how long an idle model stays in memory (Go duration).
        max_loaded_models: OLLAMA_MAX_LOADED_MODELS (default 3 on CPU would triple the RAM needed).
        flash_attention: OLLAMA_FLASH_ATTENTION, written as 1 or 0 (unset would be llama.cpp's auto on
            Ollama >= 0.30); a quantized KV cache needs it on.
        kv_cache_type: OLLAMA_KV_CACHE_TYPE, "f16", "q8_0" (half the KV memory) or "q4_0".
        restart: restart policy name.
        health_interval_s / health_timeout_s / health_start_period_s: healthcheck timing, whole seconds.
        health_retries: consecutive failures before "unhealthy".
        cgroup_version: the engine's cgroup version ("1"/"2"), None if unknown; shapes comments and verify.
        swap_limit: the engine can limit swap (memswap_limit works), None if unknown.
        engine_label: short description of the engine the file was made for, for the header comment.
        engine_kind: the kind of engine ("linux", "rootless", "desktop", "podman"; None if unknown); shapes
            the comments that say why a knob is or is not active.
        adjustments: what ``build_spec`` changed from what was asked, said in the file header.
    """

    model: str
    image: str = DEFAULT_IMAGE
    container_name: str = DEFAULT_CONTAINER
    volume_name: str = DEFAULT_VOLUME
    service_name: str = "ollama"
    network: NetworkMode = "ports"
    port: int = DEFAULT_PORT
    expose: bool = False
    listen_ip: str | None = None
    mem_limit_bytes: int | None = None
    cpus: float | None = None
    num_thread: int | None = None
    memlock_unlimited: bool = False
    mem_swappiness: int | None = None
    no_new_privileges: bool = True
    context_length: int = DEFAULT_CONTEXT
    num_parallel: int = 1
    keep_alive: str = DEFAULT_KEEP_ALIVE
    max_loaded_models: int = 1
    flash_attention: bool = True
    kv_cache_type: KvCacheType = "f16"
    restart: str = "unless-stopped"
    health_interval_s: int = 5
    health_timeout_s: int = 5
    health_retries: int = 5
    health_start_period_s: int = 60
    cgroup_version: str | None = None
    swap_limit: bool | None = None
    engine_label: str = "unknown engine"
    engine_kind: EngineKind | None = None
    adjustments: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.model.strip():
            raise UsageError("the model tag is empty", "pass --model, e.g. --model qwen2.5:1.5b")
        tag = served_model(self.model).rsplit("/", 1)[-1].partition(":")[2]
        if len(tag) > MAX_TAG:
            raise UsageError(
                f"the tag of {self.model} is too long for its served model {served_model(self.model)}: "
                f"Ollama allows {MAX_TAG} characters and gpuless adds -{SERVED_SUFFIX}",
                "use a shorter tag (`ollama cp` the model to a shorter name first)",
            )
        if not 1 <= self.port <= 65535:
            raise UsageError(f"port {self.port} is out of range", "use a port between 1 and 65535")
        if self.listen_ip is not None:
            _check_listen_ip(self.listen_ip)
        if self.network not in get_args(NetworkMode):
            raise UsageError(f"unknown network mode {self.network!r}", "use 'host' or 'ports'")
        if self.kv_cache_type not in get_args(KvCacheType):
            raise UsageError(f"unknown KV cache type {self.kv_cache_type!r}", "use f16, q8_0 or q4_0")
        if self.kv_cache_type != "f16" and not self.flash_attention:
            raise UsageError(
                f"OLLAMA_KV_CACHE_TYPE={self.kv_cache_type} needs flash attention (with it off Ollama "
                "<= 0.24 ignores the cache type and >= 0.30 fails to load the model)",
                "enable flash attention or use the f16 KV cache",
            )
        if self.context_length < 256:
            raise UsageError(f"context length {self.context_length} is too small", "use at least 256 tokens")
        if self.num_parallel < 1 or self.max_loaded_models < 1:
            raise UsageError("num_parallel and max_loaded_models must be at least 1")
        if self.mem_limit_bytes is not None and self.mem_limit_bytes < 6 * 1024**2:
            raise UsageError(f"memory limit {self.mem_limit_bytes} B is below Docker's 6 MiB minimum")
        if self.cpus is not None and self.cpus < 0.01:
            raise UsageError(f"cpus={self.cpus} is below Docker's minimum of 0.01")
        if self.mem_swappiness is not None and not 0 <= self.mem_swappiness <= 100:
            raise UsageError(f"mem_swappiness={self.mem_swappiness} is outside 0..100")
        if self.num_thread is not None and self.num_thread < 1:
            raise UsageError(f"num_thread={self.num_thread} must be at least 1")

    # --- derived values ---------------------------------------------------------------------------

    @property
    def bind_address(self) -> str:
        """The host address Ollama is bound to: ``listen_ip``, else loopback unless ``expose``."""
        if self.listen_ip is not None:
            return self.listen_ip
        return "0.0.0.0" if self.expose else "127.0.0.1"

    @property
    def ollama_host(self) -> str:
        """OLLAMA_HOST inside the container.

        With host networking Ollama binds the host's address directly. With published ports it must
        listen on 0.0.0.0 inside the container (Docker forwards to the container's interface, not its
        loopback); exposure is restricted on the host side of the publish instead.
        """
        if self.network == "host":
            return f"{self.bind_address}:{self.port}"
        return f"0.0.0.0:{CONTAINER_PORT}"

    @property
    def url(self) -> str:
        """Where gpuless (and the user) talk to this Ollama: over loopback, or the one address bound."""
        return f"http://{self.listen_ip or '127.0.0.1'}:{self.port}"

    @property
    def memswap_limit_bytes(self) -> int | None:
        """Equal to the memory limit: the container gets no swap (works on cgroup v1 and v2)."""
        return self.mem_limit_bytes

    @property
    def served_model(self) -> str:
        """The derived model clients use; it carries ``model_parameters``."""
        return served_model(self.model)

    def model_parameters(self) -> dict[str, int]:
        """The load-time parameters of the served model (a Modelfile's ``PARAMETER`` lines)."""
        parameters = {"num_ctx": self.context_length}
        if self.num_thread is not None:
            parameters["num_thread"] = self.num_thread
        return parameters

    def environment(self) -> dict[str, str]:
        """The container's environment, in the order it is written to the file."""
        return {
            "OLLAMA_HOST": self.ollama_host,
            "OLLAMA_CONTEXT_LENGTH": str(self.context_length),
            "OLLAMA_NUM_PARALLEL": str(self.num_parallel),
            "OLLAMA_MAX_LOADED_MODELS": str(self.max_loaded_models),
            "OLLAMA_KEEP_ALIVE": self.keep_alive,
            "OLLAMA_FLASH_ATTENTION": "1" if self.flash_attention else "0",
            "OLLAMA_KV_CACHE_TYPE": self.kv_cache_type,
        }


# --- building a spec from plain inputs -----------------------------------------------------------------


def build_spec(
    *,
    model: str,
    context_length: int = DEFAULT_CONTEXT,
    num_parallel: int = 1,
    mem_limit_bytes: int | None = None,
    cpus: float | None = None,
    num_thread: int | None = None,
    kv_cache_type: KvCacheType = "f16",
    flash_attention: bool = True,
    keep_alive: str = DEFAULT_KEEP_ALIVE,
    max_loaded_models: int = 1,
    engine: DockerEngineInfo | None = None,
    expose: bool = False,
    port: int = DEFAULT_PORT,
    image: str = DEFAULT_IMAGE,
    container_name: str = DEFAULT_CONTAINER,
    volume_name: str = DEFAULT_VOLUME,
    network: NetworkMode | None = None,
    memlock: bool | None = None,
    swappiness: bool | None = None,
    notes: tuple[str, ...] = (),
) -> OllamaServiceSpec:
    """Turn what was asked for into a spec the engine will accept, recording every adjustment.

    - A quantized KV cache turns flash attention on (with it off Ollama ≤0.24 ignores the cache type and
      ≥0.30 fails to load the model; unset, ≥0.30 would use llama.cpp's auto, on for a CPU).
    - ``cpus`` is capped at the engine's NCPU (the engine rejects more) and rounded to 0.01.
    - ``mem_limit_bytes`` is capped at the engine's memory (on Docker Desktop: the VM's).
    - Networking, unless ``network`` is given: published 127.0.0.1 ports where the engine has a bridge
      network (or is unknown, Docker Desktop, rootless or Podman); host networking on a rootful Linux
      engine that has none (``dockerd --bridge=none``), where published ports cannot work.
    - ``memlock`` (None: off): Ollama ≥0.7 never calls mlock, so the ulimit changes nothing, and
      rootless, Podman and some rootful engines refuse it; it is set only when forced.
    - ``swappiness`` (None: by engine): ``mem_swappiness: 0`` only on a cgroup v1 engine, where it
      takes effect; cgroup v2 discards it (``memswap_limit = mem_limit`` is the rule that works there).
    - ``num_thread`` defaults to the whole cores in ``cpus`` (llama.cpp's own default ignores the quota).
    - ``notes`` are said in the file header, before the adjustments made here.
    """
    adjusted: list[str] = list(notes)
    kind = engine_kind(engine)
    if kv_cache_type != "f16" and not flash_attention:
        flash_attention = True
        adjusted.append(f"flash attention turned on: OLLAMA_KV_CACHE_TYPE={kv_cache_type} needs it")
    for label, value in (("cpus", cpus), ("mem_limit", mem_limit_bytes)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise UsageError(f"{label} must be a positive number, not {value}")
    if engine is not None and engine.ncpu and cpus is not None and cpus > engine.ncpu:
        adjusted.append(
            f"cpus lowered from {cpus:g} to {engine.ncpu}: the engine has only {engine.ncpu} CPUs"
        )
        cpus = float(engine.ncpu)
    if cpus is not None:
        cpus = round(float(cpus), 2)
    engine_mem = engine.mem_total_bytes if engine is not None else None
    if engine_mem and mem_limit_bytes is not None and mem_limit_bytes > engine_mem:
        adjusted.append(
            f"mem_limit lowered from {format_bytes(mem_limit_bytes)} "
            f"to the engine's {format_bytes(engine_mem)}"
        )
        mem_limit_bytes = engine_mem
    if network is None:
        no_bridge = kind == "linux" and engine is not None and engine.has_bridge is False
        network = "host" if no_bridge else "ports"
    if swappiness is None:
        swappiness = engine is not None and engine.cgroup_version == "1" and kind in ("linux", "desktop")
    if num_thread is None and cpus is not None:
        num_thread = max(1, math.floor(cpus))
    return OllamaServiceSpec(
        model=model,
        image=image,
        container_name=container_name,
        volume_name=volume_name,
        network=network,
        port=port,
        expose=expose,
        mem_limit_bytes=mem_limit_bytes,
        cpus=cpus,
        num_thread=num_thread,
        memlock_unlimited=bool(memlock),
        mem_swappiness=0 if swappiness else None,
        context_length=context_length,
        num_parallel=num_parallel,
        keep_alive=keep_alive,
        max_loaded_models=max_loaded_models,
        flash_attention=flash_attention,
        kv_cache_type=kv_cache_type,
        cgroup_version=engine.cgroup_version if engine else None,
        swap_limit=engine.swap_limit if engine else None,
        engine_label=_engine_label(engine),
        engine_kind=kind,
        adjustments=tuple(adjusted),
    )


def _engine_label(engine: DockerEngineInfo | None) -> str:
    if engine is None or not engine.reachable:
        return "unknown engine"
    kind = "Docker Desktop" if engine.is_desktop else (engine.operating_system or engine.os_type or "engine")
    if engine.is_podman:
        kind = f"Podman ({kind})"
    elif engine.rootless:
        kind = f"rootless Docker ({kind})"
    parts = [kind]
    if engine.cgroup_version:
        parts.append(f"cgroup v{engine.cgroup_version}")
    if engine.ncpu:
        parts.append(f"{engine.ncpu} CPUs")
    if engine.mem_total_bytes:
        parts.append(format_bytes(engine.mem_total_bytes))
    return ", ".join(parts)


def _check_listen_ip(address: str) -> None:
    """UsageError unless ``address`` is one IPv4 address gpuless can bind as it is (not "every address")."""
    import ipaddress

    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError:
        raise UsageError(
            f"cannot bind {address!r}: gpuless binds one IPv4 address, 127.0.0.1 or 0.0.0.0",
            "Write an IPv4 address of this machine (`ip -4 addr`) in compose.yaml.",
        ) from None
    if ip.is_unspecified or ip.is_multicast:
        raise UsageError(f"cannot bind {address}: not the address of one interface")
