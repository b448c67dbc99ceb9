"""Another laptop's share, seen from a pooling laptop: checked before it joins, probed for ``pool status``.

``check_member`` refuses, in one line each, what cannot join: nothing answering, a server that answers
without a key (Ollama itself, not a share), a key the share refuses, a key that is not the share's pool
key. ``probe`` never raises: it says whether a member answers now, what it serves and how many requests
its gateway has in flight (nginx's stub_status, which counts every client of that laptop, not only the
pool). Both go through the one HTTP seam (``OllamaClient``) with short bounds: a gone laptop must not
hold a command for minutes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from toolkit.adapters.ollama.client import OllamaClient
from toolkit.core.pool.members import Capacity, capacity_from_dict, parse_stub_status
from toolkit.core.safe_text import terminal_safe
from toolkit.core.share.nginx_conf import CAPACITY_PATH, STATUS_PATH
from toolkit.errors import GpulessError, KeyRefusedError, OllamaError, OllamaUnreachableError, UsageError

_TIMEOUT_S = 5.0
_CONNECT_S = 3.0


@dataclass(frozen=True)
class MemberCard:
    """What a share told a pooling laptop: its models and its published capacity (None: unmeasured)."""

    models: tuple[str, ...]
    capacity: Capacity | None


@dataclass(frozen=True)
class MemberHealth:
    """A member as a probe found it just now.

    Attributes:
        up: it answered ``/api/tags`` with the key.
        reason: why it is down (one line), "" when up.
        models: what it lists (empty when down).
        in_flight: requests its gateway is answering now (all its clients), None when not readable.
    """

    up: bool
    reason: str
    models: tuple[str, ...]
    in_flight: int | None


def _client(url: str, key: str) -> OllamaClient:
    return OllamaClient(
        url, timeout=_TIMEOUT_S, connect_timeout=_CONNECT_S, total_timeout=_TIMEOUT_S, api_key=key
    )


async def _card(url: str, key: str) -> MemberCard:
    async with _client(url, "") as bare:
        try:
            await bare.list_models()
        except KeyRefusedError:
            pass  # a share: it wants a key
        except OllamaUnreachableError as error:
            raise UsageError(f"{error.message}; nothing was changed", _NOT_A_SHARE) from None
        except OllamaError as error:
            raise UsageError(f"{url} is not a gpuless share ({error.message})", _NOT_A_SHARE) from None
        else:
            raise UsageError(f"{url} is not a gpuless share: it answers without a key", _NOT_A_SHARE)
    async with _client(url, key) as client:
        try:
            models = tuple(await client.list_models())
        except KeyRefusedError:
            raise KeyRefusedError(
                f"{url} refused the pool key (HTTP 401); nothing was changed", _POOL_KEY_HINT
            ) from None
        return MemberCard(models, await _capacity(client, url))


async def _capacity(client: OllamaClient, url: str) -> Capacity | None:
    try:
        body: Any = await client.request_json("GET", CAPACITY_PATH, total=_TIMEOUT_S)
    except OllamaError as error:
        if "HTTP 403" in error.message:
            raise UsageError(f"{url} accepts that key, but it is not its pool key", _POOL_KEY_HINT) from None
        return None  # no capacity.json (never measured) or an older share: the member joins unweighted
    return capacity_from_dict(body)


_NOT_A_SHARE = "Use the URL `gpuless share` printed on that laptop (its gateway's, not Ollama's own port)."
_POOL_KEY_HINT = (
    "On that laptop: `gpuless share --add-key pool`, then pass the key it prints: "
    "gpuless pool add URL --key KEY."
)


def check_member(url: str, key: str) -> MemberCard:
    """The share at ``url`` opened with the pool ``key``: its models and capacity; one clear error else."""
    return asyncio.run(_card(url, key))


async def _probe(url: str, key: str, status: bool) -> MemberHealth:
    async with _client(url, key) as client:
        try:
            models = tuple(await client.list_models())
        except GpulessError as error:
            return MemberHealth(False, terminal_safe(error.message, one_line=True)[:200], (), None)
        in_flight = None
        if status:
            try:
                in_flight = parse_stub_status(await client.request_text(STATUS_PATH))
            except GpulessError:
                in_flight = None
        return MemberHealth(True, "", models, in_flight)


async def _probe_all(targets: list[tuple[str, str, bool]]) -> list[MemberHealth]:
    return list(await asyncio.gather(*(_probe(url, key, status) for url, key, status in targets)))


def probe_all(targets: list[tuple[str, str, bool]]) -> list[MemberHealth]:
    """Probe each (url, key, read its stub_status) at once; a member that fails is reported down."""
    return asyncio.run(_probe_all(targets))


async def _in_flight(url: str, key: str) -> int | None:
    async with _client(url, key) as client:
        try:
            return parse_stub_status(await client.request_text(STATUS_PATH))
        except GpulessError:
            return None


def gateway_in_flight(url: str, key: str) -> int | None:
    """Requests a gateway (this laptop's) has in flight, or None when it cannot be read."""
    return asyncio.run(_in_flight(url, key))
