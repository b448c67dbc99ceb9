"""The pool's pure parts: capacities from bench runs, weights, the pool file, member URLs, the plan, and
the nginx configuration a pool renders."""

from __future__ import annotations

import pytest

from toolkit.adapters.resources import load_catalog, load_shipped_profile
from toolkit.core.bench.run import RunRow
from toolkit.core.machine.profile import machine_from_profile
from toolkit.core.pool.members import (
    Capacity,
    Pool,
    PoolMember,
    capacity_from_run,
    from_json,
    member_address,
    parse_stub_status,
    to_json,
    weights,
)
from toolkit.core.pool.plan import LaptopOption, ModelOption, estimated_users, plan_pool
from toolkit.core.share.keys import KeyRing
from toolkit.core.share.nginx_conf import GatewayConfig, Member, render_keys_map, render_nginx_conf
from toolkit.errors import UsageError

KEY = "gpl_" + "p" * 32


def run_row(status: str = "complete", summary: dict[str, object] | None = None) -> RunRow:
    return RunRow(1, "t0", "t1", status, "smollm2", "135m", None, None, "ollama", "http://127.0.0.1:1",  # type: ignore[arg-type]
                  None, {}, None, None, summary, None, 0)  # fmt: skip


def cap(c: int, most: int = 8) -> Capacity:
    return Capacity("smollm2:135m", {"A": 0, "B": 1, "C": c}, most, "t1")


def test_a_capacity_is_read_from_a_finished_sweep_only() -> None:
    levels = [{"streams": 1}, {"streams": 4}]
    summary = {"users_per_grade": {"15": 4, "30": 2, "70": 0}, "concurrency": levels}
    got = capacity_from_run(run_row(summary=summary))
    assert got is not None and dict(got.users) == {"A": 0, "B": 2, "C": 4} and got.most_streams == 4
    assert got.is_floor("C") and not got.is_floor("B")  # 4 of 4 held at C: maybe more
    assert capacity_from_run(run_row("incomplete", summary)) is None
    assert capacity_from_run(run_row(summary={"users_per_grade": {"15": 1}, "concurrency": []})) is None


def test_weights_follow_grade_c_users_only_when_every_member_measured() -> None:
    member = PoolMember("http://10.0.0.2:80", "10.0.0.2:80", (), cap(5), "t")
    assert weights(cap(2), [member]) == (2, 5)
    assert weights(cap(0), [member]) == (1, 5)  # at least 1: nginx needs a positive weight
    assert weights(None, [member]) == (1, 1)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://192.168.1.7:8080/", ("http://192.168.1.7:8080", "192.168.1.7:8080")),
        ("192.168.1.7:8080", ("http://192.168.1.7:8080", "192.168.1.7:8080")),
        ("http://laptop.local", ("http://laptop.local:80", "laptop.local:80")),
    ],
)
def test_member_urls_become_nginx_addresses(url: str, expected: tuple[str, str]) -> None:
    assert member_address(url) == expected


@pytest.mark.parametrize(
    "url", ["https://10.0.0.2:8443", "http://10.0.0.2:80/v1", "http://10.0.0.2:99999", "http://"]
)
def test_member_urls_nginx_cannot_proxy_alike_are_refused(url: str) -> None:
    with pytest.raises(UsageError, match="not a share URL"):
        member_address(url)


def test_the_pool_file_round_trips_and_holds_one_key_and_one_model() -> None:
    member = PoolMember("http://10.0.0.2:80", "10.0.0.2:80", ("smollm2:135m",), cap(3), "t")
    pool = Pool().add(KEY, "smollm2:135m", member)
    assert from_json(to_json(pool)) == pool
    with pytest.raises(UsageError, match="not this pool's key"):
        pool.add("gpl_" + "q" * 32, "smollm2:135m", member)
    with pytest.raises(UsageError, match="serves smollm2:135m"):
        pool.add(KEY, "gemma3:270m", member)
    assert pool.add(KEY, "smollm2:135m", member).members == (member,)  # added again: replaced
    assert pool.remove("10.0.0.2:80") == Pool()  # the last member out: key and model forgotten
    with pytest.raises(UsageError, match="not in the pool"):
        pool.remove("http://10.0.0.9:80")
    with pytest.raises(UsageError, match="not a gpuless pool file"):
        from_json('{"version": 9}')


def test_stub_status_gives_requests_in_flight_besides_its_own() -> None:
    text = (
        "Active connections: 3 \nserver accepts handled requests\n 10 10 12 \n"
        "Reading: 0 Writing: 3 Waiting: 0 \n"
    )
    assert parse_stub_status(text) == 2
    assert parse_stub_status("Ollama is running") is None


def test_the_plan_adds_members_up_and_prices_what_would_carry_the_rest() -> None:
    members = [("this laptop", cap(3)), ("http://b:80", cap(2)), ("http://c:80", None)]
    assert plan_pool(members, 5, "C").holds
    laptops = [LaptopOption("small", "an 8 GB laptop", 1), LaptopOption("big", "a 32 GB laptop", 2)]
    smaller = [ModelOption("tiny:1m", 3.0), ModelOption("small:2m", 1.5)]
    result = plan_pool(members, 8, "C", laptops, smaller)
    assert not result.holds and result.held == 5
    assert result.members == (("this laptop", 3), ("http://b:80", 2), ("http://c:80", None))
    tips = result.suggestions
    assert tips[0] == "fewer users: the pool holds 5 at grade C as measured"
    assert tips[1].startswith("2 more laptops like a 32 GB laptop (big): predicted 2 users each")
    assert tips[2].startswith("3 more laptops like an 8 GB laptop (small)")
    assert "a smaller model: tiny:1m" in tips[3] and "about 15 users" in tips[3]  # 5 × 3.0
    assert tips[4].startswith("measure http://c:80")


def test_the_estimator_sizes_a_laptop_class_fewer_users_at_a_faster_grade() -> None:
    spec, variant = load_catalog().find("qwen2.5:3b")
    slow = machine_from_profile(load_shipped_profile("laptop-8gb-ddr4"))
    fast = machine_from_profile(load_shipped_profile("apple-m4-24gb"))
    assert estimated_users(spec, variant, fast, "C") >= estimated_users(spec, variant, slow, "C")
    assert estimated_users(spec, variant, fast, "A") <= estimated_users(spec, variant, fast, "C")
    assert estimated_users(spec, variant, fast, "C") >= 1


def test_a_pool_gateway_spreads_by_least_connections_and_retries_only_in_the_pool() -> None:
    members = (Member("127.0.0.1:11434", 2), Member("192.168.1.8:8080", 3))
    config = GatewayConfig("192.168.1.20", 8080, members, pool_key=KEY, capacity='{"format":1}')
    text = render_nginx_conf(config)
    assert "least_conn;" in text
    assert "server 192.168.1.8:8080 weight=3 max_fails=2 fail_timeout=10s;" in text
    assert text.count(f'proxy_set_header Authorization "Bearer {KEY}";') == 2  # / and the rest, not admin
    admin = text.split("location ~* ^/api/(pull")[1].split("location /")[0]
    assert "proxy_pass http://gpuless_local;" in admin
    assert text.count("proxy_next_upstream error timeout http_502 http_503 http_404 non_idempotent;") == 2
    assert "proxy_next_upstream_tries 2;" in text and "stub_status;" in text
    assert "return 200 '{\"format\":1}\\n';" in text
    single = render_nginx_conf(GatewayConfig("192.168.1.20", 8080, members[:1]))
    assert "proxy_next_upstream" not in single and 'proxy_set_header Authorization "";' in single
    with pytest.raises(UsageError, match="capacity text"):
        GatewayConfig("192.168.1.20", 8080, members, capacity="{'$host'}")


def test_the_pool_key_is_not_counted_by_the_per_key_stream_limit() -> None:
    ring = KeyRing().add("admin", "gpl_" + "a" * 32, "t").add("pool", KEY, "t")
    ring = ring.add("alice", "gpl_" + "b" * 32, "t")
    assert ring.get("pool") is not None and ring.get("pool").role == "pool"  # type: ignore[union-attr]
    limited = render_keys_map(ring).split("map $gpuless_key $gpuless_limited {")[1]
    assert "default $gpuless_key;" in limited and '"pool" "";' in limited and "alice" not in limited
