"""``gpuless pool``: join other laptops' shares to this laptop's gateway, show them, and plan with them.

The pool is this laptop's running share gateway with more members: ``add`` checks the other share first
(it answers, wants a key, takes the pool key, serves the pool's model), then writes the pool file and
nginx.conf and reloads nginx gracefully (streams in flight finish on the old workers). If nginx refuses
the new configuration, the old pool file and nginx.conf are put back: nothing is left half-configured.
"""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.adapters.gateway.container import GatewayRunner
from toolkit.adapters.gateway.keystore import KeyStore, now_text, write_private
from toolkit.adapters.gateway.members import MemberHealth, check_member, gateway_in_flight, probe_all
from toolkit.adapters.gateway.poolstore import GatewaySettings, PoolStore
from toolkit.core.compose.spec import base_model
from toolkit.core.pool.members import Capacity, Pool, PoolMember, member_address, weights
from toolkit.core.pool.plan import LaptopOption, ModelOption, PoolPlan, estimated_users, plan_pool
from toolkit.core.share.nginx_conf import render_nginx_conf
from toolkit.errors import UsageError
from toolkit.services.pool_config import gateway_config, local_capacity
from toolkit.services.share import NGINX_CONF, upstream_member
from toolkit.settings import Settings

HERE = "this laptop"
_NOT_SHARING = "Start it first: `gpuless share --listen ADDR:PORT` (the pool is this laptop's gateway)."


@dataclass(frozen=True)
class MemberStatus:
    """One row of ``pool status``.

    Attributes:
        name: the member's URL, or "this laptop" for the local Ollama.
        address: what nginx connects to.
        health: what a probe found just now.
        serves: the member lists the pool's model.
        capacity: its measured users per grade (None: never measured).
        weight: its nginx weight.
    """

    name: str
    address: str
    health: MemberHealth
    serves: bool
    capacity: Capacity | None
    weight: int


@dataclass(frozen=True)
class PoolStatus:
    """``pool status``: the gateway's URL, the pool's model, requests in flight there, and each member."""

    url: str
    model: str | None
    in_flight: int | None
    members: tuple[MemberStatus, ...]


def _running(settings: Settings, runner: GatewayRunner) -> GatewaySettings:
    state = runner.state()
    gateway = PoolStore(settings.share_dir).load_gateway()
    if state is None or not state.running:
        raise UsageError("this laptop's gateway is not running", _NOT_SHARING)
    if gateway is None or f"{gateway.listen_host}:{gateway.listen_port}" != state.listen:
        raise UsageError(
            "the running gateway was started by an older gpuless (its settings are not recorded)",
            "Restart it: `gpuless share --stop`, then `gpuless share --listen ADDR:PORT`.",
        )
    return gateway


def _apply(settings: Settings, old: Pool, new: Pool, gateway: GatewaySettings, runner: GatewayRunner) -> None:
    """Save ``new``, render nginx.conf from it and reload; put ``old`` and its nginx.conf back on failure."""
    store = PoolStore(settings.share_dir)
    conf_path = KeyStore(settings.share_dir).gateway_dir / NGINX_CONF
    before = conf_path.read_text(encoding="utf-8")
    store.save(new)
    try:
        local = upstream_member(settings)
        host, port = gateway.listen_host, gateway.listen_port
        config = gateway_config(settings, local, host, port, gateway.max_streams)
        write_private(conf_path, render_nginx_conf(config))
        runner.reload()
    except BaseException:
        store.save(old)
        write_private(conf_path, before)
        raise


def _local_models(settings: Settings) -> tuple[str, ...]:
    health = probe_all([(settings.ollama_url, "", False)])[0]
    if not health.up:
        raise UsageError(f"this laptop's Ollama does not answer: {health.reason}", "Start it: `gpuless up`.")
    return health.models


def add(
    settings: Settings,
    url: str,
    key: str | None,
    model: str | None = None,
    runner: GatewayRunner | None = None,
) -> tuple[Pool, PoolMember]:
    """Check the share at ``url`` with the pool ``key`` (the stored one when None) and add it."""
    runner = runner or GatewayRunner(settings.gateway_container_name)
    gateway = _running(settings, runner)
    member_url, address = member_address(url)
    local = upstream_member(settings)
    if address in (f"{gateway.listen_host}:{gateway.listen_port}", local.address):
        hint = "Add another laptop's share."
        raise UsageError(f"{member_url} is this laptop; it is in the pool already", hint)
    old = PoolStore(settings.share_dir).load()
    key = (key or "").strip() or old.key
    if not key:
        raise UsageError("the pool key is missing", "Pass it: gpuless pool add URL --key KEY.")
    old.check_key(key)
    card = check_member(member_url, key)
    mine = _local_models(settings)
    wanted = model or old.model
    if wanted is None:
        common = [name for name in mine if name in card.models]
        wanted = common[0] if common else (mine[0] if mine else "")
    if wanted not in mine:
        raise UsageError(f"this laptop does not serve {wanted!r} (it serves {', '.join(mine) or 'nothing'})")
    if wanted not in card.models:
        raise UsageError(
            f"{member_url} serves {', '.join(card.models) or 'no model'}, not this pool's model {wanted}",
            f"A pool sends every request to any member: pull {wanted} on that laptop, then add it again.",
        )
    measured = card.capacity
    capacity = measured if measured and base_model(measured.model) == base_model(wanted) else None
    member = PoolMember(member_url, address, card.models, capacity, now_text())
    new = old.add(key, wanted, member)
    _apply(settings, old, new, gateway, runner)
    return new, member


def remove(settings: Settings, url: str, runner: GatewayRunner | None = None) -> Pool:
    """Take the member at ``url`` out of the pool and reload the gateway."""
    runner = runner or GatewayRunner(settings.gateway_container_name)
    old = PoolStore(settings.share_dir).load()
    new = old.remove(url)
    _apply(settings, old, new, _running(settings, runner), runner)
    return new


def status(settings: Settings, runner: GatewayRunner | None = None) -> PoolStatus:
    """Probe every member now (this laptop's Ollama first) and read this gateway's requests in flight."""
    runner = runner or GatewayRunner(settings.gateway_container_name)
    gateway = _running(settings, runner)
    pool = PoolStore(settings.share_dir).load()
    local = upstream_member(settings)
    key = pool.key or ""
    healths = probe_all([(settings.ollama_url, "", False)] + [(m.url, key, True) for m in pool.members])
    mine = local_capacity(settings, pool.model)
    given = weights(mine, pool.members) if pool.members else (1,)
    url = f"http://{gateway.listen_host}:{gateway.listen_port}"
    admin = KeyStore(settings.share_dir).load().admin
    in_flight = gateway_in_flight(url, admin.secret) if admin else None
    rows = [MemberStatus(HERE, local.address, healths[0], _serves(healths[0], pool.model), mine, given[0])]
    for member, health, weight in zip(pool.members, healths[1:], given[1:], strict=True):
        serves = _serves(health, pool.model)
        rows.append(MemberStatus(member.url, member.address, health, serves, member.capacity, weight))
    return PoolStatus(url, pool.model, in_flight, tuple(rows))


def _serves(health: MemberHealth, model: str | None) -> bool:
    return health.up and (model is None or model in health.models)


def plan(settings: Settings, users: int, letter: str) -> PoolPlan:
    """Whether the pool's measured capacities hold ``users`` at grade ``letter``, and if not, what would:
    the shipped laptop classes and the catalog's smaller models, sized by the estimator."""
    from toolkit.adapters.machine.probes import detect_machine
    from toolkit.adapters.resources import load_catalog, load_shipped_profiles
    from toolkit.core.estimate.estimator import estimate
    from toolkit.core.machine.profile import machine_from_profile
    from toolkit.errors import UnknownModelError

    if users < 1:
        raise UsageError("--users must be at least 1")
    pool = PoolStore(settings.share_dir).load()
    model = pool.model
    mine = local_capacity(settings, model)
    if model is None and mine is not None:
        model = mine.model
    members = [(HERE, mine)] + [(m.url, m.capacity) for m in pool.members]
    laptops: list[LaptopOption] = []
    smaller: list[ModelOption] = []
    catalog = load_catalog()
    try:
        spec, variant = catalog.find(base_model(model)) if model else (None, None)
    except UnknownModelError:
        spec, variant = None, None
    if spec is not None and variant is not None:
        for profile in load_shipped_profiles():
            machine = machine_from_profile(profile)
            held = estimated_users(spec, variant, machine, letter)
            laptops.append(LaptopOption(profile.name, profile.label, held))
        here = detect_machine(docker=False, cache_dir=settings.cache_dir)
        base = estimate(spec, variant, here).single_stream_tps
        for other in catalog.models:
            if other.params < spec.params:
                speed = estimate(other, other.default_variant, here).single_stream_tps
                smaller.append(ModelOption(other.name, speed / base))
    return plan_pool(members, users, letter, laptops, smaller)
