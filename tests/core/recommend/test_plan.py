"""The one plan behind compose, up and the wizard: the pick served by its full tag, sized from its
estimate; an unknown or unfitting model said so; explicit values win."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests import builders
from toolkit.core.catalog.model import Catalog
from toolkit.core.machine.hardware import CpuInfo
from toolkit.core.recommend.budget import memory_budget
from toolkit.core.recommend.pick import recommend
from toolkit.core.recommend.plan import (
    MEM_HEADROOM_BYTES,
    PlanRequest,
    container_memory_limit,
    plan_service,
)
from toolkit.core.units import GIB, MIB
from toolkit.errors import UsageError


def test_memory_limit_is_the_estimate_with_headroom_capped_by_what_is_usable() -> None:
    model = 1000 * MIB
    assert container_memory_limit(model) == 1792 * MIB  # 1250 + 512 MiB, up to a 256 MiB step
    assert container_memory_limit(model) >= model * 1.25 + MEM_HEADROOM_BYTES
    assert container_memory_limit(model, usable_bytes=1500 * MIB) == 1280 * MIB
    # Never below the estimate plus a step: a model that barely fits still loads.
    assert container_memory_limit(model, usable_bytes=500 * MIB) == 1280 * MIB


def test_the_pick_is_served_by_its_full_tag_with_threads_from_the_cores(catalog: Catalog) -> None:
    machine = builders.machine(ram_gb=16, cores=6)
    plan = plan_service(machine, catalog, PlanRequest())
    pick = recommend(machine, catalog).pick
    assert pick is not None and plan.candidate == pick
    assert plan.spec.model == pick.tag and ":" in pick.tag
    assert plan.spec.num_thread == 6 and plan.spec.cpus == 6.0
    assert plan.spec.mem_limit_bytes == container_memory_limit(
        pick.total_bytes, memory_budget(machine).usable_bytes
    )
    assert plan.notes == () and plan.advice is None


def test_performance_cores_set_the_threads_and_explicit_values_win(catalog: Catalog) -> None:
    hybrid = builders.machine(performance_cores=4, cores=10)
    assert plan_service(hybrid, catalog, PlanRequest()).spec.num_thread == 4
    given = plan_service(
        hybrid, catalog, PlanRequest(model="qwen2.5:0.5b", cpus=2.5, mem_limit_bytes=3 * GIB)
    )
    # A CPU quota given: threads follow it (its whole cores), the limit is the one asked for.
    assert (given.spec.cpus, given.spec.num_thread, given.spec.mem_limit_bytes) == (2.5, 2, 3 * GIB)
    assert given.spec.model == "qwen2.5:0.5b-instruct-q4_K_M"


def test_an_unknown_model_gets_no_limit_and_a_note(catalog: Catalog) -> None:
    plan = plan_service(builders.machine(), catalog, PlanRequest(model="mystery-model:3b"))
    assert plan.candidate is None and plan.spec.mem_limit_bytes is None
    assert plan.notes[0].endswith("no memory limit was set for it (pass --mem-limit to set one)")
    given = plan_service(
        builders.machine(), catalog, PlanRequest(model="mystery-model:3b", mem_limit_bytes=GIB)
    )
    assert given.notes[0].endswith("the memory limit is the one given, not an estimate")


def test_a_model_that_does_not_fit_is_still_planned_and_said_so(catalog: Catalog) -> None:
    small = builders.machine(ram_gb=4)
    plan = plan_service(small, catalog, PlanRequest(model="qwen3:8b"))
    assert plan.candidate is not None and not plan.candidate.fits
    assert plan.notes == ("qwen3:8b does not fit this machine's memory budget",)
    with pytest.raises(UsageError, match="nothing in the catalog fits"):
        plan_service(builders.machine(ram_gb=0.5), catalog, PlanRequest())


def test_without_an_engine_the_quota_is_capped_by_this_machines_cpus(catalog: Catalog) -> None:
    machine = replace(builders.machine(), cpu=CpuInfo("cpu", "x86_64", 4, 4, ("avx2",)))
    plan = plan_service(machine, catalog, PlanRequest(model="qwen2.5:0.5b", cpus=8))
    assert plan.spec.cpus == 4.0
    assert "cpus lowered from 8 to 4: the machine has only 4 CPUs" in plan.spec.adjustments


def test_a_native_plan_on_a_mac_serves_native_ollamas_own_pick(catalog: Catalog) -> None:
    from toolkit.adapters.resources import load_shipped_profile
    from toolkit.core.machine.profile import machine_from_profile

    mac = machine_from_profile(load_shipped_profile("apple-m2-16gb"))
    result = recommend(mac, catalog)
    assert result.pick is not None and result.native_pick is not None
    docker = plan_service(mac, catalog, PlanRequest())
    native = plan_service(mac, catalog, PlanRequest(native=True))
    assert docker.spec.model == result.pick.tag and docker.advice is not None  # the Metal sentence
    assert native.spec.model == result.native_pick.tag and native.advice is None
    named = plan_service(mac, catalog, PlanRequest(model="qwen3:4b", native=True))
    assert named.spec.model.startswith("qwen3:4b")  # a named model is served as named
    laptop = builders.machine()
    assert (
        plan_service(laptop, catalog, PlanRequest(native=True)).spec
        == plan_service(laptop, catalog, PlanRequest()).spec
    )  # off a Mac, native changes nothing in the plan
