"""Thin adapter: from what the wizard knows (machine, chosen model) to the ``OllamaServiceSpec``.

The numbers come from the recommendation when the Model step produced one (memory limit, CPUs,
context); otherwise ``build_spec``'s defaults apply. The port comes from the wizard's Ollama URL, so a
test server on another loopback port gets a container on that port.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from toolkit.core.compose import OllamaServiceSpec, build_spec

if TYPE_CHECKING:
    from toolkit.core.hardware import Machine
    from toolkit.core.recommend import Candidate
    from toolkit.tui.services import Services


@dataclass(frozen=True)
class Pick:
    """The Model step's choice: a ranked candidate plus the request it was judged for.

    Attributes:
        candidate: ``toolkit.core.recommend.Candidate`` (tag, estimate, fit, grade).
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
    return parts.port or 11434


def spec_for(
    services: Services, machine: Machine | None, model: str, choice: Any = None
) -> OllamaServiceSpec:
    """The service spec for ``model`` on ``machine`` (``choice``: the Model step's pick, if any)."""
    settings = services.settings
    tuning: dict[str, Any] = {}
    service = getattr(choice, "service", None)  # a recommendation may carry its own tuned settings
    for key in ("context_length", "num_parallel", "mem_limit_bytes", "cpus", "kv_cache_type", "num_thread"):
        value = getattr(service, key, None) if service is not None else getattr(choice, key, None)
        if value is not None:
            tuning[key] = value
    return build_spec(
        model=model,
        engine=machine.docker if machine is not None and machine.docker.reachable else None,
        image=services.ollama_image,
        container_name=settings.container_name,
        volume_name=settings.volume_name,
        port=port_of(services.url),
        **tuning,
    )
