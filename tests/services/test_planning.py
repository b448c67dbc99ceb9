"""The plan every front end asks for: the machine given, a profile's, or this one on an engine; this
machine's calibration applied, a profile's never."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import builders
from tests.services.bench_results import GOOD
from toolkit.adapters.resources import resolve_profile
from toolkit.core.catalog.model import Catalog
from toolkit.core.machine.hardware import DockerEngineInfo
from toolkit.core.machine.profile import machine_from_profile
from toolkit.core.recommend.plan import PlanRequest, plan_service
from toolkit.services.estimating import record_benchmark
from toolkit.services.planning import plan
from toolkit.settings import Settings

REQUEST = PlanRequest(model="qwen2.5:0.5b")


def test_a_given_machine_is_planned_as_the_core_plans_it(catalog: Catalog) -> None:
    machine = builders.machine(ram_gb=8)
    assert plan(REQUEST, machine=machine, catalog=catalog) == plan_service(machine, catalog, REQUEST)


def test_an_unreachable_engine_is_not_planned_for(catalog: Catalog) -> None:
    dead = DockerEngineInfo(reachable=False, is_desktop=True, mem_total_bytes=1024**3)
    planned = plan(REQUEST, machine=builders.machine(docker=dead), catalog=catalog)
    # Nothing of an engine that did not answer shapes the file (no Desktop VM, no 1 GiB cap).
    assert planned == plan_service(builders.machine(), catalog, REQUEST)


def test_a_profile_is_planned_on_its_own_engine(catalog: Catalog) -> None:
    profile = machine_from_profile(resolve_profile("apple-m1-8gb"))
    planned = plan(PlanRequest(), profile="apple-m1-8gb", catalog=catalog)
    assert planned == plan_service(profile, catalog, PlanRequest())
    assert planned.spec.engine_kind == "desktop"


def test_this_machines_calibration_moves_the_plan_and_never_a_profiles(
    tmp_path: Path, catalog: Catalog
) -> None:
    settings = Settings(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache")
    machine = builders.machine(ram_gb=16)
    before = plan(REQUEST, machine=machine, catalog=catalog, settings=settings)
    profile_before = plan(REQUEST, profile="laptop-16gb-ddr5", catalog=catalog, settings=settings)
    # A benchmark that measured 0.8 of the predicted decode speed is this machine's calibration now.
    told = record_benchmark(settings.calibration_path, machine, GOOD, busy=0.05)
    assert told is not None and told.usable
    after = plan(REQUEST, machine=machine, catalog=catalog, settings=settings)
    assert before.candidate is not None and after.candidate is not None
    assert after.candidate.tag == before.candidate.tag
    assert after.candidate.decode_tps == pytest.approx(before.candidate.decode_tps * 0.8, rel=0.05)
    assert plan(REQUEST, profile="laptop-16gb-ddr5", catalog=catalog, settings=settings) == profile_before
