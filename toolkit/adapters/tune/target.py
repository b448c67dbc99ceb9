"""The server a tune restarts: the container of a compose file, or a server restarted by a function.

``toolkit.adapters.tune.tuner`` measures; a target only restarts the server with given knobs, reports its
memory and reads back what runs (so a tune never claims a configuration runs when it does not).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from toolkit.core.compose.spec import LABEL_FINGERPRINT, OllamaServiceSpec
from toolkit.core.recommend.plan import container_memory_limit
from toolkit.core.tune.knobs import Knobs, MemoryOf
from toolkit.errors import GpulessError


class Target(Protocol):
    """The server being tuned."""

    url: str
    model: str

    def apply(self, knobs: Knobs) -> None:
        """Restart the server with ``knobs``; raise ``GpulessError`` when it cannot start with them."""

    def memory_bytes(self) -> int | None:
        """The server's memory in use now, or None."""

    def check(self, knobs: Knobs) -> str | None:
        """None when the server runs with ``knobs``; else what runs instead, in a few words."""


#: How often, and how many times, ``check`` reads the state again when the server does not answer.
CHECK_POLL_S = 0.2
CHECK_POLLS = 25


class ComposeTarget:
    """The container of a compose file, recreated for each candidate by ``start`` (the launch service's
    ``up_and_pull``: the container, then its served model), read back through the Docker SDK."""

    def __init__(
        self,
        runner: Any,
        spec: OllamaServiceSpec,
        memory_of: MemoryOf,
        *,
        start: Callable[[OllamaServiceSpec], object],
        mem_cap_bytes: int | None = None,
    ) -> None:
        self.runner = runner
        self.start_spec = spec
        self.memory_of = memory_of
        self.mem_cap_bytes = mem_cap_bytes
        self.start = start
        self.url = spec.url
        self.model = spec.served_model
        self.current = spec

    def spec_for(self, knobs: Knobs) -> OllamaServiceSpec:
        """The start spec with ``knobs``; the memory limit grows with the KV cache the knobs need (never
        past the cap), so a candidate is not killed by a limit sized for fewer slots."""
        if knobs == Knobs.of(self.start_spec):
            return self.start_spec
        limit = self.start_spec.mem_limit_bytes
        need = self.memory_of(knobs)
        if limit is not None and need is not None:
            limit = max(limit, container_memory_limit(need))
            if self.mem_cap_bytes is not None:
                limit = min(limit, max(self.mem_cap_bytes, self.start_spec.mem_limit_bytes or 0))
        return knobs.apply_to(self.start_spec, limit)

    def apply(self, knobs: Knobs) -> None:
        spec = self.spec_for(knobs)
        self.current = spec
        self.start(spec)

    def memory_bytes(self) -> int | None:
        try:
            stats = self.runner.client.api.stats(self.current.container_name, stream=False)
            return int(stats["memory_stats"]["usage"])
        except Exception:  # no stats on this engine: memory is then simply not shown
            return None

    def check(self, knobs: Knobs) -> str | None:
        from toolkit.adapters.ollama import admin as ollama_admin
        from toolkit.core.compose.docker_args import spec_fingerprint

        name = self.start_spec.container_name
        attrs = self._attrs()
        if isinstance(attrs, str):
            return attrs
        labels = (attrs.get("Config") or {}).get("Labels") or {}
        if labels.get(LABEL_FINGERPRINT) != spec_fingerprint(self.spec_for(knobs)):
            return f"the container {name} runs another configuration"
        try:
            ollama_admin.api_version(self.url)
        except GpulessError as error:
            # A killed server drops its connections a moment before the engine marks it exited.
            for _ in range(CHECK_POLLS):
                time.sleep(CHECK_POLL_S)
                if isinstance(stopped := self._attrs(), str):
                    return stopped
            return f"the server in {name} does not answer ({error.message})"
        return None

    def _attrs(self) -> dict[str, Any] | str:
        """The running container's attributes, or why it is not running."""
        name = self.start_spec.container_name
        try:
            attrs = self.runner.find(name)
        except GpulessError as error:
            return f"the engine cannot say what runs ({error.message})"
        if attrs is None:
            return f"the container {name} is gone"
        state = attrs.get("State") or {}
        if not state.get("Running"):
            status, code = state.get("Status"), state.get("ExitCode")
            return f"the container {name} has stopped ({status}, exit code {code})"
        return dict(attrs)


@dataclass
class CallbackTarget:
    """A server restarted by a function (a native ``ollama serve``, a test server)."""

    url: str
    model: str
    restart: Callable[[Knobs], None]
    memory: Callable[[], int | None] | None = None
    running: Callable[[Knobs], str | None] | None = None

    def apply(self, knobs: Knobs) -> None:
        self.restart(knobs)

    def memory_bytes(self) -> int | None:
        return self.memory() if self.memory is not None else None

    def check(self, knobs: Knobs) -> str | None:
        return self.running(knobs) if self.running is not None else None
