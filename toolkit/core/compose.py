"""One description of the Ollama service, rendered two ways: compose.yaml text and docker-py arguments.

``gpuless compose`` writes ``render_compose_yaml(spec)`` and ``gpuless up`` starts
``to_docker_kwargs(spec)``; both are pure functions of the same ``OllamaServiceSpec``, so the file a
user reads and the container gpuless starts cannot drift apart. ``spec_fingerprint`` hashes what the
container is made of; it is stored as a label so a second ``up`` knows whether it may reuse the
container. Every knob is written with a comment saying why it is there and whether today's engines
honour it (facts from shared/reference/ollama-docker-facts.md §3, §5, §6, §9).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, Literal, get_args

from toolkit.core.hardware import DockerEngineInfo, Machine
from toolkit.errors import UsageError

if TYPE_CHECKING:
    from toolkit.core.recommend import Recommendation

NetworkMode = Literal["host", "ports"]
KvCacheType = Literal["f16", "q8_0", "q4_0"]

#: Port Ollama listens on inside the container when ports are published.
CONTAINER_PORT = 11434
#: Where the image keeps its models (and keys); a named volume is mounted here.
MODELS_PATH = "/root/.ollama"
#: The healthcheck that fails when the server is down (``ollama --version`` exits 0 even then).
HEALTHCHECK_TEST = ("CMD", "ollama", "list")

LABEL_PREFIX = "io.gpuless."
LABEL_MANAGED = LABEL_PREFIX + "managed"
LABEL_FINGERPRINT = LABEL_PREFIX + "fingerprint"
LABEL_MODEL = LABEL_PREFIX + "model"
LABEL_NUM_THREAD = LABEL_PREFIX + "num_thread"
LABEL_SPEC = LABEL_PREFIX + "spec"
#: Set by ``up`` when the engine refused a setting and the container was started without it.
LABEL_REFUSED = LABEL_PREFIX + "refused"

_NS = 1_000_000_000
COMMENT_ONLY_FIELDS = frozenset({"engine_label", "adjustments"})


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
        expose: listen on / publish to all addresses instead of loopback only (Ollama has no auth).
        mem_limit_bytes: container memory limit; None = unlimited.
        cpus: CPU quota in cores (``--cpus``); None = unlimited.
        num_thread: threads clients should send as ``options.num_thread`` (there is no env var for it).
        memlock_unlimited: write ``ulimits: memlock: -1`` (what guides recommend; Ollama ≥0.7 never mlocks).
        mem_swappiness: 0 asks the kernel not to swap the container (cgroup v1 only); None = leave out.
        context_length: OLLAMA_CONTEXT_LENGTH, tokens per request slot.
        num_parallel: OLLAMA_NUM_PARALLEL, concurrent requests per model (KV memory × this).
        keep_alive: OLLAMA_KEEP_ALIVE, how long an idle model stays in memory (Go duration).
        max_loaded_models: OLLAMA_MAX_LOADED_MODELS (default 3 on CPU would triple the RAM needed).
        flash_attention: OLLAMA_FLASH_ATTENTION; required for a quantized KV cache to take effect.
        kv_cache_type: OLLAMA_KV_CACHE_TYPE, "f16", "q8_0" (half the KV memory) or "q4_0".
        restart: restart policy name.
        health_interval_s / health_timeout_s / health_start_period_s: healthcheck timing, whole seconds.
        health_retries: consecutive failures before "unhealthy".
        cgroup_version: the engine's cgroup version ("1"/"2"), None if unknown; shapes comments and verify.
        swap_limit: the engine can limit swap (memswap_limit works), None if unknown.
        engine_label: short description of the engine the file was made for, for the header comment.
        adjustments: what ``build_spec`` changed from what was asked, said in the file header.
    """

    model: str
    image: str = "ollama/ollama:latest"
    container_name: str = "gpuless-ollama"
    volume_name: str = "gpuless-ollama-models"
    service_name: str = "ollama"
    network: NetworkMode = "ports"
    port: int = 11434
    expose: bool = False
    mem_limit_bytes: int | None = None
    cpus: float | None = None
    num_thread: int | None = None
    memlock_unlimited: bool = True
    mem_swappiness: int | None = 0
    context_length: int = 4096
    num_parallel: int = 1
    keep_alive: str = "30m"
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
    adjustments: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.model.strip():
            raise UsageError("the model tag is empty", "pass --model, e.g. --model qwen2.5:1.5b")
        if not 1 <= self.port <= 65535:
            raise UsageError(f"port {self.port} is out of range", "use a port between 1 and 65535")
        if self.network not in get_args(NetworkMode):
            raise UsageError(f"unknown network mode {self.network!r}", "use 'host' or 'ports'")
        if self.kv_cache_type not in get_args(KvCacheType):
            raise UsageError(f"unknown KV cache type {self.kv_cache_type!r}", "use f16, q8_0 or q4_0")
        if self.kv_cache_type != "f16" and not self.flash_attention:
            raise UsageError(
                f"OLLAMA_KV_CACHE_TYPE={self.kv_cache_type} has no effect without flash attention",
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

    # --- derived values ---------------------------------------------------------------------------

    @property
    def bind_address(self) -> str:
        """The host address clients reach Ollama on: loopback unless ``expose``."""
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
        """Where gpuless (and the user) talk to this Ollama, always over loopback."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def memswap_limit_bytes(self) -> int | None:
        """Equal to the memory limit: the container gets no swap (works on cgroup v1 and v2)."""
        return self.mem_limit_bytes

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

    def labels(self, *, refused: tuple[str, ...] = ()) -> dict[str, str]:
        """Container labels: ownership, fingerprint, the model, and the spec itself for ``verify``."""
        labels = {
            LABEL_MANAGED: "true",
            LABEL_FINGERPRINT: spec_fingerprint(self),
            LABEL_MODEL: self.model,
        }
        if self.num_thread is not None:
            labels[LABEL_NUM_THREAD] = str(self.num_thread)
        labels[LABEL_SPEC] = spec_to_json(self)
        if refused:
            labels[LABEL_REFUSED] = ",".join(refused)
        return labels

    def why(self, knob: str) -> str:
        """The one-line reason a knob is set the way it is (the comment written above it)."""
        return _why(self, knob)


# --- building a spec from plain inputs -----------------------------------------------------------------


def build_spec(
    *,
    model: str,
    context_length: int = 4096,
    num_parallel: int = 1,
    mem_limit_bytes: int | None = None,
    cpus: float | None = None,
    num_thread: int | None = None,
    kv_cache_type: KvCacheType = "f16",
    flash_attention: bool = True,
    keep_alive: str = "30m",
    max_loaded_models: int = 1,
    engine: DockerEngineInfo | None = None,
    expose: bool = False,
    port: int = 11434,
    image: str = "ollama/ollama:latest",
    container_name: str = "gpuless-ollama",
    volume_name: str = "gpuless-ollama-models",
    network: NetworkMode | None = None,
    memlock_unlimited: bool = True,
) -> OllamaServiceSpec:
    """Turn what was asked for into a spec the engine will accept, recording every adjustment.

    - A quantized KV cache turns flash attention on (without it Ollama ≤0.24 ignores the cache type).
    - ``cpus`` is capped at the engine's NCPU (the engine rejects more) and rounded to 0.01.
    - ``mem_limit_bytes`` is capped at the engine's memory (on Docker Desktop: the VM's).
    - Host networking on a Linux engine that is not Docker Desktop; published ports otherwise
      (Desktop's host networking is opt-in), unless ``network`` is given.
    - ``num_thread`` defaults to the whole cores in ``cpus`` (llama.cpp's own default ignores the quota).
    """
    notes: list[str] = []
    if kv_cache_type != "f16" and not flash_attention:
        flash_attention = True
        notes.append(f"flash attention turned on: OLLAMA_KV_CACHE_TYPE={kv_cache_type} needs it")
    if engine is not None and engine.ncpu and cpus is not None and cpus > engine.ncpu:
        notes.append(f"cpus lowered from {cpus:g} to {engine.ncpu}: the engine has only {engine.ncpu} CPUs")
        cpus = float(engine.ncpu)
    if cpus is not None:
        cpus = round(float(cpus), 2)
    engine_mem = engine.mem_total_bytes if engine is not None else None
    if engine_mem and mem_limit_bytes is not None and mem_limit_bytes > engine_mem:
        notes.append(
            f"mem_limit lowered from {format_bytes(mem_limit_bytes)} "
            f"to the engine's {format_bytes(engine_mem)}"
        )
        mem_limit_bytes = engine_mem
    if network is None:
        linux_engine = engine is not None and engine.os_type == "linux" and not engine.is_desktop
        network = "host" if linux_engine else "ports"
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
        memlock_unlimited=memlock_unlimited,
        context_length=context_length,
        num_parallel=num_parallel,
        keep_alive=keep_alive,
        max_loaded_models=max_loaded_models,
        flash_attention=flash_attention,
        kv_cache_type=kv_cache_type,
        cgroup_version=engine.cgroup_version if engine else None,
        swap_limit=engine.swap_limit if engine else None,
        engine_label=_engine_label(engine),
        adjustments=tuple(notes),
    )


#: Container memory on top of the estimate: the Ollama server process, load-time buffers, estimate error.
MEM_HEADROOM_SHARE = 0.25
MEM_HEADROOM_BYTES = 512 * 1024**2
_MEM_STEP = 256 * 1024**2


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


def spec_from_recommendation(
    recommendation: Recommendation, machine: Machine, **overrides: Any
) -> OllamaServiceSpec:
    """The spec for a recommendation's pick on ``machine``; ``overrides`` go to ``build_spec``.

    Memory limit from the pick's estimate (``container_memory_limit``), threads = performance cores
    (else physical cores: llama.cpp's own choice, which ignores the CPU quota), ``cpus`` = those threads,
    context, users and KV cache type as recommended; the engine is the machine's Docker engine.
    """
    pick = recommendation.pick
    if pick is None:
        raise UsageError(
            f"nothing in the catalog fits {recommendation.machine}",
            "Free memory, or pass --model with a small model (e.g. qwen2.5:0.5b).",
        )
    threads = machine.cpu.performance_cores or machine.cpu.physical_cores
    kv = recommendation.kv_cache_type if recommendation.kv_cache_type in get_args(KvCacheType) else "f16"
    values: dict[str, Any] = {
        "model": pick.tag,
        "context_length": recommendation.context,
        "num_parallel": recommendation.users,
        "mem_limit_bytes": container_memory_limit(pick.total_bytes, recommendation.budget.usable_bytes),
        "cpus": float(threads),
        "num_thread": threads,
        "kv_cache_type": kv,
        "engine": machine.docker if machine.docker.reachable else None,
    }
    values.update(overrides)
    return build_spec(**values)


def _engine_label(engine: DockerEngineInfo | None) -> str:
    if engine is None:
        return "unknown engine"
    kind = "Docker Desktop" if engine.is_desktop else (engine.operating_system or engine.os_type or "engine")
    parts = [kind]
    if engine.cgroup_version:
        parts.append(f"cgroup v{engine.cgroup_version}")
    if engine.ncpu:
        parts.append(f"{engine.ncpu} CPUs")
    if engine.mem_total_bytes:
        parts.append(format_bytes(engine.mem_total_bytes))
    return ", ".join(parts)


# --- serialisation and fingerprint ---------------------------------------------------------------


def spec_to_json(spec: OllamaServiceSpec) -> str:
    """Compact, key-sorted JSON of the spec (stored as a label; read back by ``spec_from_json``).

    The comment-only fields (``engine_label``, ``adjustments``) are left out to keep the label short.
    """
    data = {key: value for key, value in asdict(spec).items() if key not in COMMENT_ONLY_FIELDS}
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def spec_from_json(text: str) -> OllamaServiceSpec:
    """Rebuild a spec from ``spec_to_json`` output; unknown keys (from newer versions) are dropped."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"the spec label is not JSON: {error.msg}") from error
    if not isinstance(raw, dict):
        raise UsageError("the spec label is not a JSON object")
    known = {f.name for f in fields(OllamaServiceSpec)} - COMMENT_ONLY_FIELDS
    values = {key: value for key, value in raw.items() if key in known}
    try:
        return OllamaServiceSpec(**values)
    except TypeError as error:
        raise UsageError(f"the spec label is incomplete: {error}") from error


def spec_fingerprint(spec: OllamaServiceSpec) -> str:
    """A stable 16-hex-digit hash of everything that shapes the container (not comments or notes).

    The model and thread count are included: they are labels ``verify`` and clients read.
    """
    identity = {LABEL_MODEL: spec.model, LABEL_NUM_THREAD: str(spec.num_thread)}
    kwargs = _docker_kwargs(spec, labels=identity)
    blob = json.dumps(kwargs, sort_keys=True, separators=(",", ":"), default=list)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


# --- rendering: docker-py ------------------------------------------------------------------------


def to_docker_kwargs(spec: OllamaServiceSpec, *, drop_memlock: bool = False) -> dict[str, Any]:
    """Arguments for ``client.api.create_container(**kw, host_config=client.api.create_host_config(**hc))``.

    Returns a dict with the create arguments plus ``"host_config"`` (kwargs for ``create_host_config``).
    Healthcheck durations are nanoseconds, the CPU quota is ``nano_cpus``. ``drop_memlock`` gives the
    same container without the memlock ulimit, for engines that refuse it; the labels keep the original
    fingerprint (so a second ``up`` still matches) and record the refusal for ``verify``.
    """
    if drop_memlock:
        reduced = replace(spec, memlock_unlimited=False)
        labels = spec.labels(refused=("memlock",))
        return _docker_kwargs(reduced, labels=labels)
    return _docker_kwargs(spec, labels=spec.labels())


def _docker_kwargs(spec: OllamaServiceSpec, *, labels: dict[str, str]) -> dict[str, Any]:
    host_config: dict[str, Any] = {
        "binds": {spec.volume_name: {"bind": MODELS_PATH, "mode": "rw"}},
        "restart_policy": {"Name": spec.restart},
    }
    kwargs: dict[str, Any] = {
        "image": spec.image,
        "name": spec.container_name,
        "environment": spec.environment(),
        "labels": labels,
        "volumes": [MODELS_PATH],
        "healthcheck": {
            "test": list(HEALTHCHECK_TEST),
            "interval": spec.health_interval_s * _NS,
            "timeout": spec.health_timeout_s * _NS,
            "retries": spec.health_retries,
            "start_period": spec.health_start_period_s * _NS,
        },
    }
    if spec.network == "host":
        host_config["network_mode"] = "host"
    else:
        kwargs["ports"] = [CONTAINER_PORT]
        host_config["port_bindings"] = {CONTAINER_PORT: (spec.bind_address, spec.port)}
    if spec.mem_limit_bytes is not None:
        host_config["mem_limit"] = spec.mem_limit_bytes
        host_config["memswap_limit"] = spec.memswap_limit_bytes
    if spec.mem_swappiness is not None:
        host_config["mem_swappiness"] = spec.mem_swappiness
    if spec.cpus is not None:
        host_config["nano_cpus"] = round(spec.cpus * _NS)
    if spec.memlock_unlimited:
        host_config["ulimits"] = [{"name": "memlock", "soft": -1, "hard": -1}]
    kwargs["host_config"] = host_config
    return kwargs


# --- rendering: compose.yaml ---------------------------------------------------------------------


def render_compose_yaml(spec: OllamaServiceSpec) -> str:
    """The compose file, with a comment above each knob saying why it is set and whether it works."""
    out = _Emitter()
    out.comment(f"Generated by gpuless for {spec.model} on: {spec.engine_label}.")
    out.comment("`gpuless up` starts exactly this configuration; `docker compose up -d` does too.")
    out.comment("`gpuless verify` shows which of these settings really took effect.")
    for note in spec.adjustments:
        out.comment(f"Adjusted: {note}.")
    out.line("services:")
    out.push()
    out.line(f"{spec.service_name}:")
    out.push()
    out.kv("image", spec.image)
    out.kv("container_name", spec.container_name)
    out.kv("restart", spec.restart, why=spec.why("restart"))

    if spec.network == "host":
        out.kv("network_mode", "host", why=spec.why("network_mode"))
    else:
        out.comment(spec.why("ports"))
        out.line("ports:")
        out.push()
        out.item(f"{spec.bind_address}:{spec.port}:{CONTAINER_PORT}")
        out.pop()

    out.comment(spec.why("volumes"))
    out.line("volumes:")
    out.push()
    out.item(f"{spec.volume_name}:{MODELS_PATH}")
    out.pop()

    out.line("environment:")
    out.push()
    for key, value in spec.environment().items():
        out.kv(key, value, why=spec.why(key))
    out.comment(spec.why("num_thread"))
    out.pop()

    if spec.mem_limit_bytes is not None:
        out.kv("mem_limit", _compose_bytes(spec.mem_limit_bytes), why=spec.why("mem_limit"))
        out.kv("memswap_limit", _compose_bytes(spec.mem_limit_bytes), why=spec.why("memswap_limit"))
    if spec.mem_swappiness is not None:
        out.kv("mem_swappiness", spec.mem_swappiness, why=spec.why("mem_swappiness"))
    if spec.cpus is not None:
        out.kv("cpus", spec.cpus, why=spec.why("cpus"))
    if spec.memlock_unlimited:
        out.comment(spec.why("memlock"))
        out.line("ulimits:")
        out.push()
        out.line("memlock:")
        out.push()
        out.kv("soft", -1)
        out.kv("hard", -1)
        out.pop()
        out.pop()

    out.comment(spec.why("healthcheck"))
    out.line("healthcheck:")
    out.push()
    out.line("test: [" + ", ".join(_scalar(part) for part in HEALTHCHECK_TEST) + "]")
    out.kv("interval", f"{spec.health_interval_s}s")
    out.kv("timeout", f"{spec.health_timeout_s}s")
    out.kv("retries", spec.health_retries)
    out.kv("start_period", f"{spec.health_start_period_s}s")
    out.pop()

    out.comment(spec.why("labels"))
    out.line("labels:")
    out.push()
    for key, value in spec.labels().items():
        out.kv(key, value)
    out.pop()
    out.pop()
    out.pop()

    out.line("volumes:")
    out.push()
    out.line(f"{spec.volume_name}:")
    out.push()
    out.kv("name", spec.volume_name, why="A fixed name (no project prefix), shared with `gpuless up`.")
    out.line("labels:")
    out.push()
    out.kv(LABEL_MANAGED, "true")
    out.pop()
    out.pop()
    out.pop()
    return out.text()


class _Emitter:
    """A tiny block-style YAML writer: two-space indent, every string double-quoted (JSON escaping)."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._depth = 0

    def push(self) -> None:
        self._depth += 1

    def pop(self) -> None:
        self._depth -= 1

    def line(self, text: str) -> None:
        self._lines.append("  " * self._depth + text)

    def comment(self, text: str) -> None:
        for part in text.splitlines():
            self.line(f"# {part}".rstrip())

    def kv(self, key: str, value: str | int | float, *, why: str | None = None) -> None:
        if why:
            self.comment(why)
        self.line(f"{_key(key)}: {_scalar(value)}")

    def item(self, value: str) -> None:
        self.line(f"- {_scalar(value)}")

    def text(self) -> str:
        return "\n".join(self._lines) + "\n"


def _key(key: str) -> str:
    safe = all(ch.isalnum() or ch in "._-" for ch in key) and key[:1].isalpha()
    return key if safe else json.dumps(key)


def _scalar(value: str | int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def _compose_bytes(value: int) -> str:
    """Bytes as compose writes them: "8g", "512m", or plain bytes ("b") when not a round size."""
    for unit, size in (("g", 1024**3), ("m", 1024**2), ("k", 1024)):
        if value % size == 0:
            return f"{value // size}{unit}"
    return f"{value}b"


def format_bytes(value: int) -> str:
    """Bytes for people: "7.5 GiB", "512 MiB"."""
    if value >= 1024**3:
        return f"{value / 1024**3:.1f} GiB".replace(".0 GiB", " GiB")
    return f"{value / 1024**2:.0f} MiB"


# --- the why of each knob -----------------------------------------------------------------------------


def _why(spec: OllamaServiceSpec, knob: str) -> str:
    v2 = spec.cgroup_version == "2"
    texts: dict[str, str] = {
        "restart": "Come back after a crash or reboot, but stay down after `gpuless down`.",
        "network_mode": (
            f"Host networking (Linux engine): no NAT or docker-proxy hop; Ollama binds "
            f"{spec.bind_address}:{spec.port} itself"
            + (
                " — EXPOSED to the network: Ollama has no authentication."
                if spec.expose
                else ", loopback only."
            )
        ),
        "ports": (
            f"Publish on {spec.bind_address} only"
            + (
                " — EXPOSED to every network this machine is on; Ollama has no authentication."
                if spec.expose
                else " (a bare 11434:11434 would publish on all addresses and bypass ufw)."
            )
        ),
        "volumes": "Models live in a named volume, so `gpuless down` and image updates keep them.",
        "OLLAMA_HOST": (
            "Listen address. Host network: bind the host port directly."
            if spec.network == "host"
            else "Must stay 0.0.0.0 inside the container for the published port to reach it."
        ),
        "OLLAMA_CONTEXT_LENGTH": (
            "Tokens per request slot; the CPU default is 4096. KV memory grows with it."
        ),
        "OLLAMA_NUM_PARALLEL": (
            "Concurrent requests per model; each slot gets its own KV cache (memory × this)."
        ),
        "OLLAMA_MAX_LOADED_MODELS": "One model in RAM at a time (the CPU default of 3 can triple memory).",
        "OLLAMA_KEEP_ALIVE": "Keep the model loaded between chats; reloading costs seconds on a CPU.",
        "OLLAMA_FLASH_ATTENTION": (
            "Flash attention on: less memory, and required for a quantized KV cache to take effect."
            if spec.flash_attention
            else "Flash attention off (auto on newer engines for some models)."
        ),
        "OLLAMA_KV_CACHE_TYPE": (
            f"{spec.kv_cache_type}: about half (q8_0) or a quarter (q4_0) of f16 KV memory; "
            "paired with OLLAMA_FLASH_ATTENTION=1, without it older Ollama ignores this."
            if spec.kv_cache_type != "f16"
            else "f16: full-precision KV cache (paired with the flash attention setting above)."
        ),
        "num_thread": (
            f"There is no OLLAMA_NUM_THREADS variable. gpuless sends options.num_thread={spec.num_thread} "
            "per request (llama.cpp's default thread count ignores the cpus quota)."
            if spec.num_thread is not None
            else "There is no OLLAMA_NUM_THREADS variable; set options.num_thread per request if needed."
        ),
        "mem_limit": "Hard memory cap: weights + KV cache + overhead, from the recommendation.",
        "memswap_limit": (
            "Equal to mem_limit: no swap for the container. This is the no-swap rule that works on cgroup v2"
            + (" (needs swap limit support; this engine reports none)." if spec.swap_limit is False else ".")
        ),
        "mem_swappiness": (
            "Asked for by common guides; this cgroup v2 engine DISCARDS it (memswap_limit does the job)."
            if v2
            else "Swap avoidance on cgroup v1; cgroup v2 engines discard it (memswap_limit does the job)."
        ),
        "cpus": (
            "CPU quota (capped at the engine's CPUs). llama.cpp does not read it: see num_thread above."
        ),
        "memlock": (
            "Asked for by common guides, but Ollama >= 0.7 never calls mlock, so this changes nothing; "
            "some engines refuse it (gpuless up then retries without it and says so)."
        ),
        "healthcheck": (
            "`ollama list` fails when the server is down (`ollama --version` does not). "
            "The first start may take a while."
        ),
        "labels": "gpuless finds its container by these; the fingerprint tells `up` when to recreate it.",
    }
    try:
        return texts[knob]
    except KeyError:
        raise KeyError(f"no explanation for knob {knob!r}") from None


#: The knobs ``why`` explains; every one appears as a comment in a generated file when it is set.
KNOBS = (
    "restart",
    "network_mode",
    "ports",
    "volumes",
    "OLLAMA_HOST",
    "OLLAMA_CONTEXT_LENGTH",
    "OLLAMA_NUM_PARALLEL",
    "OLLAMA_MAX_LOADED_MODELS",
    "OLLAMA_KEEP_ALIVE",
    "OLLAMA_FLASH_ATTENTION",
    "OLLAMA_KV_CACHE_TYPE",
    "num_thread",
    "mem_limit",
    "memswap_limit",
    "mem_swappiness",
    "cpus",
    "memlock",
    "healthcheck",
    "labels",
)


# --- reading back -------------------------------------------------------------------------------


def parse_size(text: str) -> int:
    """A memory size as Docker and compose write it ("4g", "512m", "1.5g", "2GiB", "123") → bytes."""
    cleaned = text.strip().lower().removesuffix("ib").removesuffix("b")
    units = {"k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
    factor = units.get(cleaned[-1:], 1) if cleaned else 1
    number = cleaned[:-1] if cleaned[-1:] in units else cleaned
    try:
        value = float(number)
    except ValueError:
        raise UsageError(f"cannot read the size {text!r}", "write it like 4g, 512m or 6442450944") from None
    if value <= 0:
        raise UsageError(f"the size {text!r} must be positive")
    return int(value * factor)
