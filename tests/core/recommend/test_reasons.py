"""The pick's reasons, built from the ranking's candidates and budget: each branch says the right thing."""

from __future__ import annotations

from dataclasses import replace

from tests import builders
from toolkit.core.catalog.model import Catalog
from toolkit.core.machine.hardware import DockerEngineInfo, Machine
from toolkit.core.recommend.budget import memory_budget
from toolkit.core.recommend.pick import Recommendation, recommend
from toolkit.core.recommend.reasons import pick_reasons
from toolkit.core.units import GIB


def reasons_for(result: Recommendation, machine: Machine, **over: object) -> list[str]:
    args: dict[str, object] = {
        "pick": result.pick,
        "ranked": result.candidates,
        "budget": result.budget,
        "machine": machine,
        "use_case": result.use_case,
        "target_tps": result.target_tps,
        "context": result.context,
        "users": result.users,
    }
    args.update(over)
    return pick_reasons(**args)  # type: ignore[arg-type]


def test_the_first_sentence_is_the_budget_and_the_last_the_download(catalog: Catalog) -> None:
    machine = builders.machine(ram_gb=16)
    result = recommend(machine, catalog)
    assert result.pick is not None
    reasons = reasons_for(result, machine)
    assert reasons[0].startswith("Memory: of 16.0 GiB RAM,") and "browser" in reasons[0]
    assert reasons[-1].startswith("Download: ")
    assert f"ollama pull {result.pick.tag}" in reasons[-1]
    assert reasons == list(result.reasons)  # recommend says nothing else on a plain Linux machine


def test_nothing_fits_says_what_to_change(catalog: Catalog) -> None:
    machine = builders.machine(ram_gb=16)
    result = recommend(machine, catalog)
    unfit = tuple(replace(c, fits=False, why_not="needs 9 GiB, 4 GiB usable") for c in result.candidates)
    smallest = min(unfit, key=lambda c: c.total_bytes)
    ranked_only = reasons_for(result, machine, pick=None, ranked=unfit)
    assert len(ranked_only) == 2 and ranked_only[1].startswith(f"Nothing fits: even {smallest.tag} needs")
    asked = reasons_for(result, machine, pick=None, ranked=unfit, asked=True)
    assert asked[1] == (
        f"{smallest.tag} does not fit: needs 9 GiB, 4 GiB usable. Try a shorter --ctx, fewer --users, "
        "a smaller quantisation, or more memory."
    )
    assert reasons_for(result, machine, pick=None, ranked=()) == [ranked_only[0]]


def test_an_asked_model_is_judged_against_the_target_by_its_tier(catalog: Catalog) -> None:
    machine = builders.machine(ram_gb=16)
    result = recommend(machine, catalog)
    pick = result.pick
    assert pick is not None
    said = {
        tier: reasons_for(
            result, machine, pick=replace(result.pick, tier=tier), asked=True, notes={"n": "NOTE"}
        )
        for tier in (1, 2, 3)
    }
    assert any(r.startswith(f"You asked for {result.pick.tag}: it fits comfortably") for r in said[1])
    assert any("close other apps" in r for r in said[2])
    assert any("below your target" in r and "`gpuless recommend`" in r for r in said[3])
    assert all("NOTE" in reasons for reasons in said.values())
    # Asked: no ranking talk (why it won, the step up).
    assert not any("is the best model for" in r or "next step up" in r for r in said[1])


def test_desktop_vm_and_unmeasured_bandwidth_are_said(catalog: Catalog) -> None:
    vm = DockerEngineInfo(reachable=True, is_desktop=True, mem_total_bytes=8 * GIB, ncpu=8)
    machine = builders.machine(ram_gb=16, docker=vm, source="assumed")
    result = recommend(machine, catalog)
    reasons = reasons_for(result, machine, budget=memory_budget(machine))
    assert reasons[0].startswith("Memory: Docker Desktop's VM has 8.0 GiB")
    assert any(r.startswith("Docker Desktop runs Ollama in a VM on the CPU only") for r in reasons)
    assert reasons[-1] == "Memory bandwidth was not measured; speeds assume a slow DDR4 laptop."
