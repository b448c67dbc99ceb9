"""A compose file the user already has, and the settings they change over it: what the next plan keeps.

The wizard plans over the user's file (``toolkit.tui.plan``): its port, users, exposure, names, image and
keep-alive are kept, and for its own model its context, KV cache and memory cap too, unless a setting
changes them (``ServerSettings``, the Settings area's values). Pure logic over data, so the rules are
tested without a front end; ``spec_changes`` says what a new spec changes in the file, in those words.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from toolkit.core.compose.spec import OllamaServiceSpec
from toolkit.core.recommend.plan import PlanRequest
from toolkit.core.units import GIB, format_bytes


@dataclass(frozen=True)
class ServerSettings:
    """The settings the user changes; None keeps the file's value (or, with no file, the plan's).

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


#: No setting changed: the file's values (or the plan's) stand.
UNCHANGED = ServerSettings()


def file_kept(file: OllamaServiceSpec | None, model: str, server: ServerSettings) -> bool:
    """Whether the file is used as it is: it is for ``model`` and no setting changes it."""
    return file is not None and file.model == model and not server.changes(file)


def request_over(request: PlanRequest, file: OllamaServiceSpec | None, server: ServerSettings) -> PlanRequest:
    """``request`` (for its model) with the file's values kept, then the settings' over them."""
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
        if file.model == request.model:  # sized for this model: its context, cache and cap stay
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
    return request


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
