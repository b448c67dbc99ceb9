"""Recommendations over the shipped hardware profiles, the memory budget, and the pick's reasons.

The rule of thumb (0.5–1.5B for 8 GB, 3–4B for 16 GB, 7–9B for 32 GB at the default target) is not
written in the recommender; these tests check that it follows from the budget policy and the estimator.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from toolkit.core.catalog import Catalog, machine_from_profile
from toolkit.core.hardware import GIB, CgroupLimits, CpuInfo, DockerEngineInfo, Machine, MemoryInfo
from toolkit.core.recommend import (
    COMFORT_SHARE,
    DEFAULT_TARGET_TPS,
    VM_RESERVE_BYTES,
    memory_budget,
    recommend,
    what_if,
)
from toolkit.engine.resources import load_catalog, load_shipped_profile, shipped_profile_names
from toolkit.errors import UsageError

RULE_OF_THUMB = {  # profile → (min, max) parameters in billions of the pick at defaults
    "laptop-8gb-ddr4": (0.5, 1.8),
    "windows-8gb-wsl2": (0.5, 1.8),
    "apple-m1-8gb": (0.5, 1.8),
    "laptop-16gb-ddr4": (2.9, 4.5),
    "laptop-16gb-ddr5": (2.9, 4.5),
    "core-ultra-16gb-lpddr5x": (2.9, 4.5),
    "apple-m2-16gb": (2.9, 4.5),
    "laptop-32gb-ddr5": (6.5, 9.5),
    "ryzen-7840u-32gb": (6.5, 9.5),
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def profile_machine(name: str) -> Machine:
    return machine_from_profile(load_shipped_profile(name))


def test_every_rule_of_thumb_profile_is_shipped() -> None:
    assert set(RULE_OF_THUMB) <= set(shipped_profile_names())


@pytest.mark.parametrize("profile", sorted(RULE_OF_THUMB))
def test_rule_of_thumb_emerges_at_defaults(catalog: Catalog, profile: str) -> None:
    result = recommend(profile_machine(profile), catalog)
    low, high = RULE_OF_THUMB[profile]
    assert result.pick is not None
    assert low <= result.pick.params_b <= high, (profile, result.pick.tag, result.pick.params_b)
    assert result.pick.tier == 1
    assert result.pick.decode_tps >= DEFAULT_TARGET_TPS
    assert not result.pick.test_model


@pytest.mark.parametrize("profile", sorted(shipped_profile_names()))
def test_every_profile_gets_a_sensible_pick_for_every_use_case(catalog: Catalog, profile: str) -> None:
    machine = profile_machine(profile)
    for use_case in ("chat", "translation", "summarise", "rag", "writing", "code", "reasoning"):
        result = recommend(machine, catalog, use_case=use_case)
        assert result.pick is not None and not result.pick.test_model, (profile, use_case)
        assert result.pick.total_bytes <= result.budget.comfortable_bytes
        tier_one = [c for c in result.candidates if c.tier == 1]
        assert result.pick.quality == max(c.quality for c in tier_one)


def test_ranking_is_by_tier_then_quality(catalog: Catalog) -> None:
    result = recommend(profile_machine("laptop-16gb-ddr5"), catalog)
    tiers = [c.tier for c in result.candidates]
    assert tiers == sorted(tiers)
    assert result.candidates[0] == result.pick
    assert all(c.why_not for c in result.candidates if c.tier > 1)


def test_higher_target_picks_a_smaller_faster_model(catalog: Catalog) -> None:
    machine = profile_machine("laptop-32gb-ddr5")
    default = recommend(machine, catalog)
    fast = recommend(machine, catalog, target_tps=30)
    assert fast.pick is not None and default.pick is not None
    assert fast.pick.params_b < default.pick.params_b
    assert fast.pick.decode_tps >= 30


def test_users_multiply_kv_and_split_speed(catalog: Catalog) -> None:
    machine = profile_machine("laptop-16gb-ddr5")
    one = recommend(machine, catalog, only=(catalog.find("qwen3:4b"),))
    four = recommend(machine, catalog, users=4, only=(catalog.find("qwen3:4b"),))
    c1, c4 = one.candidates[0], four.candidates[0]
    assert c4.estimate.kv_bytes == 4 * c1.estimate.kv_bytes
    assert c4.decode_tps < c1.decode_tps and c4.aggregate_tps > c1.aggregate_tps
    # with many users the default pick shrinks (memory and per-user speed both tighten)
    many = recommend(machine, catalog, users=8)
    assert many.pick is not None and one.pick is not None and many.pick.params_b < 4.0


def test_long_context_excludes_models_trained_for_less(catalog: Catalog) -> None:
    result = recommend(profile_machine("laptop-32gb-ddr5"), catalog, context=16384)
    smol = next(c for c in result.candidates if c.tag.startswith("smollm2:1.7b"))
    assert not smol.context_ok and smol.tier == 5 and "8192" in (smol.why_not or "")


def test_nothing_fits_gives_no_pick_and_says_why(catalog: Catalog) -> None:
    tiny = what_if(profile_machine("laptop-8gb-ddr4"), ram_gb=1.5)
    result = recommend(tiny, catalog)
    assert result.pick is None
    assert any("Nothing fits" in reason for reason in result.reasons)


def test_test_models_win_only_when_nothing_real_fits(catalog: Catalog) -> None:
    cramped = replace(
        profile_machine("laptop-16gb-ddr5"), cgroup=CgroupLimits(version=2, memory_limit_bytes=700 * 1024**2)
    )
    result = recommend(cramped, catalog)
    assert result.pick is not None and result.pick.test_model
    assert any("tiny test model" in reason for reason in result.reasons)


def test_unknown_use_case_and_bad_numbers(catalog: Catalog) -> None:
    machine = profile_machine("laptop-8gb-ddr4")
    with pytest.raises(UsageError, match="unknown use case"):
        recommend(machine, catalog, use_case="poetry")
    for kwargs in ({"target_tps": 0}, {"context": 100}, {"users": 0}):
        with pytest.raises(UsageError):
            recommend(machine, catalog, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="--ram must be positive"):
        what_if(machine, ram_gb=-8)


# --- budget ---------------------------------------------------------------------------------------


def bare(ram_gib: float, **over: object) -> Machine:
    base = Machine(
        os="linux",
        os_release="test",
        cpu=CpuInfo(model="x", arch="x86_64", physical_cores=4, logical_cores=8, simd=("avx2",)),
        memory=MemoryInfo(total_bytes=int(ram_gib * GIB), available_bytes=int(ram_gib * GIB)),
    )
    return replace(base, **over)  # type: ignore[arg-type]


def test_budget_host_reserve_scales_with_ram() -> None:
    small, big = memory_budget(bare(8)), memory_budget(bare(32))
    assert small.limited_by == big.limited_by == "host RAM"
    assert small.reserve_bytes == int(1.5 * GIB + 0.8 * GIB)
    assert big.reserve_bytes > small.reserve_bytes
    assert small.usable_bytes == 8 * GIB - small.reserve_bytes
    assert small.comfortable_bytes == int(small.usable_bytes * COMFORT_SHARE)


def test_budget_docker_desktop_vm_limits() -> None:
    vm = DockerEngineInfo(reachable=True, is_desktop=True, mem_total_bytes=4 * GIB, ncpu=8)
    budget = memory_budget(bare(16, docker=vm))
    assert budget.limited_by == "Docker Desktop VM"
    assert budget.usable_bytes == 4 * GIB - VM_RESERVE_BYTES
    # a native Linux engine reports host memory: not a separate limit
    native = DockerEngineInfo(reachable=True, is_desktop=False, mem_total_bytes=16 * GIB)
    assert memory_budget(bare(16, docker=native)).limited_by == "host RAM"


def test_budget_cgroup_limit_is_dedicated() -> None:
    budget = memory_budget(bare(32, cgroup=CgroupLimits(version=2, memory_limit_bytes=6 * GIB)))
    assert budget.limited_by == "cgroup limit"
    assert budget.usable_bytes == budget.comfortable_bytes == 6 * GIB - int(6 * GIB * 0.05)


def test_docker_desktop_pick_mentions_the_vm(catalog: Catalog) -> None:
    result = recommend(profile_machine("apple-m2-16gb"), catalog)
    assert any("Docker Desktop" in reason for reason in result.reasons)
    assert any("Settings → Resources" in reason for reason in result.reasons)


def test_what_if_ram_cores_bandwidth(catalog: Catalog) -> None:
    base = profile_machine("laptop-8gb-ddr4")
    bigger = what_if(base, ram_gb=32, cores=8, bandwidth_gbps=102.4)
    assert bigger.memory.total_bytes == 32 * GIB
    assert bigger.cpu.physical_cores == 8
    assert bigger.bandwidth is not None and bigger.bandwidth.gbps == 102.4
    assert "32 GiB RAM" in bigger.name
    small_pick, big_pick = recommend(base, catalog).pick, recommend(bigger, catalog).pick
    assert small_pick is not None and big_pick is not None
    assert big_pick.params_b > small_pick.params_b
    desktop = what_if(profile_machine("apple-m1-8gb"), ram_gb=16)
    assert desktop.docker.mem_total_bytes == 8 * GIB  # the VM keeps its 50% share


def test_reasons_are_plain_sentences(catalog: Catalog) -> None:
    result = recommend(profile_machine("laptop-16gb-ddr4"), catalog)
    assert result.pick is not None
    text = " ".join(result.reasons)
    assert result.pick.tag in text and "tokens/s" in text and "GiB" in text
    assert all(reason.endswith((".", "?")) for reason in result.reasons)
    data = result.to_dict()
    assert data["pick"]["tag"] == result.pick.tag
    assert len(data["candidates"]) == len(result.candidates)
