"""The container's identity and its docker-py arguments, derived from an ``OllamaServiceSpec``.

``gpuless up`` creates the container from ``to_docker_kwargs(spec)``; its labels carry ownership, the
spec itself (``spec_to_json``; read back, type-checked, by ``spec_from_json``) and a fingerprint of
everything the container is made of (``spec_fingerprint``), so a second ``up`` knows whether it may
reuse the container. The compose file writes the same labels (``container_labels``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, fields, replace
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from toolkit.core.compose.spec import (
    COMMENT_ONLY_FIELDS,
    CONTAINER_PORT,
    HEALTHCHECK_TEST,
    LABEL_FINGERPRINT,
    LABEL_MANAGED,
    LABEL_MODEL,
    LABEL_NUM_THREAD,
    LABEL_REFUSED,
    LABEL_SPEC,
    MODELS_PATH,
    OllamaServiceSpec,
)
from toolkit.errors import UsageError

_NS = 1_000_000_000


def container_labels(spec: OllamaServiceSpec, *, refused: tuple[str, ...] = ()) -> dict[str, str]:
    """Container labels: ownership, fingerprint, the model, and the spec itself for ``verify``."""
    labels = {
        LABEL_MANAGED: "true",
        LABEL_FINGERPRINT: spec_fingerprint(spec),
        LABEL_MODEL: spec.model,
    }
    if spec.num_thread is not None:
        labels[LABEL_NUM_THREAD] = str(spec.num_thread)
    labels[LABEL_SPEC] = spec_to_json(spec)
    if refused:
        labels[LABEL_REFUSED] = ",".join(refused)
    return labels


def spec_to_json(spec: OllamaServiceSpec) -> str:
    """Compact, key-sorted JSON of the spec (stored as a label; read back by ``spec_from_json``).

    The comment-only fields (``engine_label``, ``adjustments``) are left out to keep the label short.
    """
    data = {key: value for key, value in asdict(spec).items() if key not in COMMENT_ONLY_FIELDS}
    if data.get("listen_ip") is None:  # the usual case: labels stay as older versions wrote them
        data.pop("listen_ip", None)
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
    hints = get_type_hints(OllamaServiceSpec)
    for key, value in values.items():
        if not _matches(value, hints[key]):
            raise UsageError(
                f"the spec label has {key}={value!r}, which is not of type {_type_name(hints[key])}",
                "The container or file was changed by hand; recreate it with `gpuless up`.",
            )
    try:
        return OllamaServiceSpec(**values)
    except TypeError as error:
        raise UsageError(f"the spec label is incomplete: {error}") from error


def _type_name(hint: Any) -> str:
    return str(getattr(hint, "__name__", hint)) if get_origin(hint) is None else str(hint)


def _matches(value: Any, hint: Any) -> bool:
    """Whether a JSON value has the type a spec field declares (bool is not an int here)."""
    origin = get_origin(hint)
    if origin is Literal:
        return value in get_args(hint)
    if origin in (Union, UnionType):
        return any(_matches(value, arm) for arm in get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin is tuple:
        return isinstance(value, list | tuple) and all(isinstance(item, str) for item in value)
    return get_origin(hint) is not None or isinstance(value, hint)


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
        labels = container_labels(spec, refused=("memlock",))
        return _docker_kwargs(reduced, labels=labels)
    return _docker_kwargs(spec, labels=container_labels(spec))


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
    if spec.no_new_privileges:
        host_config["security_opt"] = ["no-new-privileges:true"]
        host_config["cap_drop"] = ["ALL"]
    kwargs["host_config"] = host_config
    return kwargs
