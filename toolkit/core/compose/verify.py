"""Which settings of the Ollama container really took effect, read from what the engine reports.

Much of the tuning advice users copy is silently dropped: the engine discards ``mem_swappiness`` on
cgroup v2, some engines refuse a memlock ulimit, Ollama has no ``OLLAMA_NUM_THREADS``, forces one slot
for some models, treats a quantized KV cache by version and flash-attention setting
(``toolkit.core.compose.verify_runner``), and a model runs with its own context when it is smaller than asked
for. ``verify`` compares the spec (what was asked) with the container's inspect data, the engine's
create warnings, ``ulimit -l`` inside the container, the runner's command line and ``/api/ps``, and
says for each knob whether it was applied, ignored or refused — never assuming.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from toolkit.core.compose.spec import (
    CONTAINER_PORT,
    HEALTHCHECK_TEST,
    LABEL_REFUSED,
    MODELS_PATH,
    OllamaServiceSpec,
)
from toolkit.core.compose.verify_runner import RunnerArgs, kv_cache_row, slots_row, threads_row
from toolkit.core.units import format_bytes

Status = Literal["applied", "ignored", "refused", "unknown"]

#: Environment variables people set that no Ollama reads (or that are obsolete), with the reason.
BOGUS_ENV = {
    "OLLAMA_NUM_THREADS": "no such variable: threads are a model parameter (num_thread)",
    "OLLAMA_NUM_THREAD": "no such variable: threads are a model parameter (num_thread)",
    "OLLAMA_USE_MLOCK": "no such variable; use_mlock was removed in Ollama 0.7",
}


@dataclass(frozen=True)
class VerifyRow:
    """One knob: what was asked, what the engine/server shows, and the verdict.

    Attributes:
        knob: the setting's name as written in compose.yaml (e.g. "mem_swappiness", "OLLAMA_KV_CACHE_TYPE").
        wanted: the value asked for, as text.
        actual: the value read back, as text ("-" when there is nothing to read).
        status: "applied" (in place and effective), "ignored" (accepted or in place but without effect),
            "refused" (the engine rejected it; the container runs without it), "unknown" (could not read).
        why: one line explaining the verdict and where it was read.
    """

    knob: str
    wanted: str
    actual: str
    status: Status
    why: str


@dataclass(frozen=True)
class VerifyReport:
    """All rows plus engine warnings that no row explained.

    Attributes:
        container: container name (for a native server: what runs, and its process id).
        rows: one per knob, in compose-file order.
        warnings: engine warnings from container creation, verbatim.
        notes: what could not be checked, and why (a native server: the container-only knobs).
        runtime: "docker" (a container) or "native" (an ``ollama serve`` on this machine).
    """

    container: str
    rows: tuple[VerifyRow, ...]
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    runtime: Literal["docker", "native"] = "docker"

    def row(self, knob: str) -> VerifyRow:
        for row in self.rows:
            if row.knob == knob:
                return row
        raise KeyError(knob)

    def counts(self) -> dict[str, int]:
        counts = {"applied": 0, "ignored": 0, "refused": 0, "unknown": 0}
        for row in self.rows:
            counts[row.status] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "container": self.container,
            "counts": self.counts(),
            "rows": [asdict(row) for row in self.rows],
            "warnings": list(self.warnings),
            "notes": list(self.notes),
            "runtime": self.runtime,
        }


def parse_env(env: Sequence[str] | None) -> dict[str, str]:
    """Docker's ``Config.Env`` list ("K=V") as a dict."""
    result: dict[str, str] = {}
    for entry in env or ():
        key, _, value = entry.partition("=")
        result[key] = value
    return result


def parse_ulimit_l(output: str | None) -> int | None:
    """``ulimit -l`` output → kB, -1 for "unlimited", None when unreadable."""
    if output is None:
        return None
    text = output.strip().splitlines()[0].strip() if output.strip() else ""
    if text == "unlimited":
        return -1
    return int(text) if text.isdigit() else None


def verify(
    spec: OllamaServiceSpec,
    inspect: Mapping[str, Any],
    *,
    warnings: Sequence[str] = (),
    ulimit_l: str | None = None,
    ps: Mapping[str, Any] | None = None,
    cgroup_version: str | None = None,
    runner: RunnerArgs | None = None,
    served_parameters: Mapping[str, str] | None = None,
    version: str | None = None,
) -> VerifyReport:
    """Compare ``spec`` with a container's inspect attrs (``container.attrs``) and related readings.

    Args:
        spec: what was asked for (``spec_from_json`` of the container's spec label, or the current spec).
        inspect: the container's inspect dict.
        warnings: the engine's ``Warnings`` from ``create_container`` (empty when not known).
        ulimit_l: stdout of ``sh -c 'ulimit -l'`` inside the container, None if it could not be run.
        ps: the ``/api/ps`` JSON, None if the server did not answer.
        cgroup_version: the engine's cgroup version ("1"/"2"); falls back to the spec's.
        runner: the running model's runner arguments (``verify_runner.parse_runner_args``), None if none
            runs.
        served_parameters: ``/api/show`` parameters of the served model, None if it is not there.
        version: the server's ``/api/version`` (what it can show, and the KV-cache rule, depend on it).
    """
    host = inspect.get("HostConfig") or {}
    config = inspect.get("Config") or {}
    env = parse_env(config.get("Env"))
    labels = config.get("Labels") or {}
    refused = set(filter(None, str(labels.get(LABEL_REFUSED, "")).split(",")))
    cgroup = cgroup_version or spec.cgroup_version
    rows: list[VerifyRow] = [_restart(spec, host)]
    rows.append(_network(spec, host))
    rows.append(_volume(spec, inspect.get("Mounts") or []))
    for key, value in spec.environment().items():
        rows.append(env_row(key, value, env, spec, ps, runner, version))
    for key, reason in BOGUS_ENV.items():
        if key in env:
            rows.append(VerifyRow(key, "-", env[key], "ignored", reason))
    if spec.mem_limit_bytes is not None:
        rows.append(_mem_limit(spec, host))
        rows.append(_memswap(spec, host, warnings))
    if spec.mem_swappiness is not None:
        rows.append(_swappiness(spec, host, warnings, cgroup))
    if spec.cpus is not None:
        rows.append(_cpus(spec, host))
    if spec.memlock_unlimited:
        rows.append(_memlock(host, refused, ulimit_l))
    rows.append(served_model_row(spec, served_parameters))
    set_on = served_parameters.get("num_thread") if served_parameters else None
    rows.append(
        VerifyRow("threads", threads_wanted(spec), *threads_row(spec.num_thread, runner, set_on, version))
    )
    rows.append(_healthcheck(config, inspect.get("State") or {}))
    return VerifyReport(
        container=str(inspect.get("Name", spec.container_name)).lstrip("/"),
        rows=tuple(rows),
        warnings=tuple(warnings),
    )


# --- one function per knob ------------------------------------------------------------------------


def _restart(spec: OllamaServiceSpec, host: Mapping[str, Any]) -> VerifyRow:
    actual = str((host.get("RestartPolicy") or {}).get("Name") or "no")
    status: Status = "applied" if actual == spec.restart else "ignored"
    return VerifyRow("restart", spec.restart, actual, status, "HostConfig.RestartPolicy")


def _network(spec: OllamaServiceSpec, host: Mapping[str, Any]) -> VerifyRow:
    if spec.network == "host":
        actual = str(host.get("NetworkMode") or "-")
        status: Status = "applied" if actual == "host" else "ignored"
        return VerifyRow("network_mode", "host", actual, status, "HostConfig.NetworkMode")
    wanted = f"{spec.bind_address}:{spec.port}:{CONTAINER_PORT}"
    bindings = (host.get("PortBindings") or {}).get(f"{CONTAINER_PORT}/tcp") or []
    actual_list = [f"{b.get('HostIp') or '0.0.0.0'}:{b.get('HostPort')}:{CONTAINER_PORT}" for b in bindings]
    actual = ", ".join(actual_list) or "-"
    status = "applied" if actual_list == [wanted] else "ignored"
    why = "HostConfig.PortBindings"
    if any(item.startswith("0.0.0.0:") for item in actual_list) and not spec.expose:
        why += ": published on ALL addresses, not loopback"
    return VerifyRow("ports", wanted, actual, status, why)


def _volume(spec: OllamaServiceSpec, mounts: Sequence[Mapping[str, Any]]) -> VerifyRow:
    wanted = f"{spec.volume_name}:{MODELS_PATH}"
    for mount in mounts:
        if mount.get("Destination") == MODELS_PATH:
            actual = f"{mount.get('Name') or mount.get('Source')}:{MODELS_PATH}"
            ok = mount.get("Type") == "volume" and mount.get("Name") == spec.volume_name
            status: Status = "applied" if ok else "ignored"
            return VerifyRow("volumes", wanted, actual, status, "Mounts")
    return VerifyRow(
        "volumes", wanted, "-", "ignored", f"nothing is mounted at {MODELS_PATH}: models are lost"
    )


def env_row(
    key: str,
    value: str,
    env: Mapping[str, str],
    spec: OllamaServiceSpec,
    ps: Mapping[str, Any] | None,
    runner: RunnerArgs | None,
    version: str | None,
    *,
    source: str = "Config.Env",
    holder: str = "the container's environment",
) -> VerifyRow:
    """The row of environment variable ``key`` (asked: ``value``) read from ``env``: ``source`` names
    where (the why's first words), ``holder`` whose environment it is."""
    actual = env.get(key)
    if actual is None:
        return VerifyRow(key, value, "-", "ignored", f"not in {holder}")
    if actual != value:
        return VerifyRow(key, value, actual, "ignored", f"{holder} has another value")
    if key == "OLLAMA_KV_CACHE_TYPE" and actual != "f16":
        fa_env = env.get("OLLAMA_FLASH_ATTENTION")
        return VerifyRow(key, value, *kv_cache_row(actual, fa_env, runner, version, source))
    if key == "OLLAMA_NUM_PARALLEL" and actual.isdigit():
        return VerifyRow(key, value, *slots_row(int(actual), runner, version, source))
    if key == "OLLAMA_CONTEXT_LENGTH":
        return _context_row(value, spec, ps, source)
    return VerifyRow(key, value, actual, "applied", source)


def _context_row(value: str, spec: OllamaServiceSpec, ps: Mapping[str, Any] | None, source: str) -> VerifyRow:
    key = "OLLAMA_CONTEXT_LENGTH"
    loaded = _loaded_context(ps, spec.served_model) or _loaded_context(ps, spec.model)
    if loaded is None:
        if _listed(ps, spec.served_model) or _listed(ps, spec.model):
            why = f"{source}; {spec.model} is loaded, but this Ollama's /api/ps has no context_length"
            why += " (added in 0.10.0)"
            return VerifyRow(key, value, value, "applied", why)
        return VerifyRow(
            key, value, value, "applied", f"{source}; {spec.model} not loaded, /api/ps can't confirm"
        )
    if loaded == int(value):
        return VerifyRow(
            key, value, str(loaded), "applied", f"/api/ps: {spec.model} runs with {loaded} tokens"
        )
    return VerifyRow(
        key,
        value,
        str(loaded),
        "ignored",
        f"/api/ps: {spec.model} runs with {loaded} tokens (capped at what the model was trained for?)",
    )


def served_model_row(spec: OllamaServiceSpec, params: Mapping[str, str] | None) -> VerifyRow:
    wanted = ", ".join(f"{key} {value}" for key, value in spec.model_parameters().items())
    if params is None:
        return VerifyRow(
            "served model", spec.served_model, "missing", "unknown", "/api/show: not on the server"
        )
    actual = ", ".join(f"{key} {params.get(key, '-')}" for key in spec.model_parameters())
    status: Status = "applied" if actual == wanted else "ignored"
    return VerifyRow("served model", f"{spec.served_model}: {wanted}", actual, status, "/api/show parameters")


def threads_wanted(spec: OllamaServiceSpec) -> str:
    return str(spec.num_thread) if spec.num_thread is not None else "llama.cpp default"


def _loaded_context(ps: Mapping[str, Any] | None, model: str) -> int | None:
    if not ps:
        return None
    wanted = _normalise_tag(model)
    for entry in ps.get("models") or []:
        names = {_normalise_tag(str(entry.get(k, ""))) for k in ("name", "model")}
        length = entry.get("context_length")
        if wanted in names and isinstance(length, int) and length > 0:
            return length
    return None


def _listed(ps: Mapping[str, Any] | None, model: str) -> bool:
    wanted = _normalise_tag(model)
    entries = (ps or {}).get("models") or []
    return any(wanted in {_normalise_tag(str(e.get(k, ""))) for k in ("name", "model")} for e in entries)


def _normalise_tag(name: str) -> str:
    """``name`` with ``:latest`` when it has no tag, lower case: Ollama keeps the case a name was stored in
    and matches names without regard to it."""
    return (name if ":" in name else f"{name}:latest").lower()


def _mem_limit(spec: OllamaServiceSpec, host: Mapping[str, Any]) -> VerifyRow:
    wanted = spec.mem_limit_bytes or 0
    actual = int(host.get("Memory") or 0)
    status: Status = "applied" if actual == wanted else "ignored"
    shown = format_bytes(actual) if actual else "unlimited"
    return VerifyRow("mem_limit", format_bytes(wanted), shown, status, "HostConfig.Memory")


def _memswap(spec: OllamaServiceSpec, host: Mapping[str, Any], warnings: Sequence[str]) -> VerifyRow:
    wanted = spec.memswap_limit_bytes or 0
    actual = int(host.get("MemorySwap") or 0)
    shown = "unlimited" if actual == -1 else (format_bytes(actual) if actual else "-")
    swap_warning = next((w for w in warnings if "without swap" in w.lower()), None)
    if swap_warning:
        return VerifyRow("memswap_limit", format_bytes(wanted), shown, "ignored", f"engine: {swap_warning}")
    if actual == wanted:
        return VerifyRow(
            "memswap_limit", format_bytes(wanted), shown, "applied", "HostConfig.MemorySwap = Memory: no swap"
        )
    return VerifyRow("memswap_limit", format_bytes(wanted), shown, "ignored", "HostConfig.MemorySwap differs")


def _swappiness(
    spec: OllamaServiceSpec, host: Mapping[str, Any], warnings: Sequence[str], cgroup: str | None
) -> VerifyRow:
    wanted = str(spec.mem_swappiness)
    raw = host.get("MemorySwappiness")
    actual = "-" if raw is None or raw == -1 else str(raw)
    discarded = next((w for w in warnings if "swappiness" in w.lower()), None)
    if discarded:
        return VerifyRow("mem_swappiness", wanted, actual, "ignored", f"engine: {discarded}")
    if actual == wanted:
        if cgroup == "2":
            why = "HostConfig keeps it, but cgroup v2 has no swappiness; memswap_limit is what works"
            return VerifyRow("mem_swappiness", wanted, actual, "ignored", why)
        return VerifyRow(
            "mem_swappiness",
            wanted,
            actual,
            "applied",
            f"HostConfig.MemorySwappiness (cgroup v{cgroup or '?'})",
        )
    if raw is None and cgroup == "2":
        return VerifyRow("mem_swappiness", wanted, actual, "ignored", "discarded by the engine: cgroup v2")
    status: Status = "ignored" if raw is not None else "unknown"
    return VerifyRow("mem_swappiness", wanted, actual, status, "HostConfig.MemorySwappiness")


def _cpus(spec: OllamaServiceSpec, host: Mapping[str, Any]) -> VerifyRow:
    wanted = spec.cpus or 0.0
    nano = int(host.get("NanoCpus") or 0)
    actual = nano / 1e9
    threads = f"; num_thread {spec.num_thread} on the served model" if spec.num_thread else ""
    if nano and abs(actual - wanted) < 0.005:
        return VerifyRow("cpus", f"{wanted:g}", f"{actual:g}", "applied", f"HostConfig.NanoCpus{threads}")
    return VerifyRow(
        "cpus", f"{wanted:g}", f"{actual:g}" if nano else "-", "ignored", "HostConfig.NanoCpus differs"
    )


def _memlock(host: Mapping[str, Any], refused: set[str], ulimit_l: str | None) -> VerifyRow:
    wanted = "unlimited"
    if "memlock" in refused:
        limit = parse_ulimit_l(ulimit_l)
        shown = _kb(limit) if limit is not None else "engine default"
        return VerifyRow(
            "memlock",
            wanted,
            shown,
            "refused",
            "the engine refused it at start; gpuless started the container without it",
        )
    limit = parse_ulimit_l(ulimit_l)
    if limit is None:
        configured = any(u.get("Name") == "memlock" for u in host.get("Ulimits") or [])
        why = "in HostConfig.Ulimits" if configured else "not in HostConfig.Ulimits"
        return VerifyRow(
            "memlock", wanted, "-", "unknown", f"could not run `ulimit -l` in the container ({why})"
        )
    if limit == -1:
        return VerifyRow(
            "memlock",
            wanted,
            "unlimited",
            "ignored",
            "ulimit -l is unlimited, but Ollama >= 0.7 never calls mlock: no effect",
        )
    return VerifyRow(
        "memlock", wanted, _kb(limit), "ignored", "ulimit -l inside the container is not unlimited"
    )


def _kb(limit: int) -> str:
    return "unlimited" if limit == -1 else f"{limit} kB"


def _healthcheck(config: Mapping[str, Any], state: Mapping[str, Any]) -> VerifyRow:
    wanted = " ".join(HEALTHCHECK_TEST[1:])
    test = list((config.get("Healthcheck") or {}).get("Test") or [])
    health = str((state.get("Health") or {}).get("Status") or "none")
    if test == list(HEALTHCHECK_TEST):
        return VerifyRow(
            "healthcheck", wanted, f"{' '.join(test[1:])} ({health})", "applied", "Config.Healthcheck"
        )
    return VerifyRow("healthcheck", wanted, " ".join(test) or "-", "ignored", "Config.Healthcheck differs")
