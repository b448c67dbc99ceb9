"""What the gateway's configuration owes the pool: its members and weights, and this laptop's capacity.

Both ``gpuless share`` (which starts the gateway and reloads it for new keys) and ``gpuless pool`` (which
reloads it for new members) render nginx.conf from ``gateway_config``, so a restart of the share keeps
the pool and a change of the pool keeps the share's limits. It also carries what this laptop's own
``gpuless bench`` measured, which the gateway serves to a pooling laptop (``/gpuless/capacity.json``).
"""

from __future__ import annotations

import json
import re

from toolkit.adapters.bench.history import History
from toolkit.adapters.gateway.poolstore import PoolStore
from toolkit.core.compose.spec import base_model
from toolkit.core.pool.members import Capacity, capacity_from_run, weights
from toolkit.core.share.nginx_conf import GatewayConfig, Member
from toolkit.core.wire import normalize_url
from toolkit.errors import GpulessError
from toolkit.settings import Settings

#: Runs looked at, newest first, for this laptop's latest sweep.
_RUNS = 200
_SAFE_MODEL = re.compile(r"^[A-Za-z0-9._:/-]{1,200}$")


def local_capacity(settings: Settings, model: str | None = None) -> Capacity | None:
    """This laptop's latest bench sweep of its own Ollama (of ``model`` when given, a served model and its
    base counting as one), or None when the history holds none (or cannot be read)."""
    here = normalize_url(settings.ollama_url)
    try:
        runs = History(settings.history_path).list_runs(_RUNS)
    except GpulessError:
        return None
    for run in runs:
        if normalize_url(run.url) != here:
            continue
        if model is not None and base_model(run.name) != base_model(model):
            continue
        capacity = capacity_from_run(run)
        if capacity is not None:
            return capacity
    return None


def capacity_text(settings: Settings) -> str | None:
    """This laptop's latest measured capacity as the JSON the gateway publishes, None when there is none
    (or its model's name holds characters nginx.conf cannot carry in a quoted string)."""
    capacity = local_capacity(settings)
    if capacity is None or not _SAFE_MODEL.match(capacity.model):
        return None
    return json.dumps(capacity.to_dict(), separators=(",", ":"))


def gateway_config(
    settings: Settings,
    local: Member,
    host: str,
    port: int,
    max_streams: int,
    models: tuple[str, ...] = (),
    tls_fingerprint: str | None = None,
) -> GatewayConfig:
    """The gateway's configuration: ``local`` (this laptop's Ollama) first, then the pool's members,
    weighted by their measured users at grade C when every one has measured; ``models`` for the connect
    page, ``tls_fingerprint`` when it speaks HTTPS."""
    pool = PoolStore(settings.share_dir).load()
    published = capacity_text(settings)
    if not pool.members:
        return GatewayConfig(
            host, port, (local,), max_streams_per_key=max_streams, capacity=published, models=models,
            tls_fingerprint=tls_fingerprint,
        )  # fmt: skip
    mine = local_capacity(settings, pool.model)
    given = weights(mine, pool.members)
    others = (Member(m.address, w) for m, w in zip(pool.members, given[1:], strict=True))
    members = (Member(local.address, given[0]), *others)
    return GatewayConfig(
        host, port, members, max_streams_per_key=max_streams, pool_key=pool.key, capacity=published,
        models=models, tls_fingerprint=tls_fingerprint,
    )  # fmt: skip
