"""Plan a server for a request: the machine (detected, a profile's, or given), the catalog, the one plan.

``gpuless compose``, ``gpuless up`` and the wizard's Compose and Launch steps all call ``plan``, so the
same choice gives the same spec (and the same compose.yaml, byte for byte) from every front end.
"""

from __future__ import annotations

import dataclasses

from toolkit.core.catalog.model import Catalog
from toolkit.core.estimate.params import DEFAULT_PARAMS
from toolkit.core.machine.hardware import DockerEngineInfo, Machine
from toolkit.core.machine.profile import machine_from_profile
from toolkit.core.recommend.plan import Plan, PlanRequest, plan_service
from toolkit.services.estimating import machine_params
from toolkit.settings import Settings


def plan(
    request: PlanRequest,
    *,
    machine: Machine | None = None,
    profile: str | None = None,
    engine: DockerEngineInfo | None = None,
    catalog: Catalog | None = None,
    settings: Settings | None = None,
) -> Plan:
    """The plan for ``request``.

    The machine is ``machine`` when given (the wizard's, as detected in its Machine step), else the
    hardware ``profile``'s (a what-if, with the profile's own engine), else this machine as detected,
    running on ``engine`` (None: an engine that could not be reached, so nothing engine-specific is
    assumed). With ``settings`` this machine's benchmark calibration is applied (never to a profile),
    as ``gpuless recommend`` applies it, and its bandwidth figure is the cached one.
    """
    from toolkit.adapters import resources

    if machine is None:
        if profile is not None:
            machine = machine_from_profile(resources.resolve_profile(profile))
        else:
            from toolkit.adapters.machine.probes import detect_machine

            cache_dir = settings.cache_dir if settings is not None else None
            detected = detect_machine(docker=False, cache_dir=cache_dir)
            machine = dataclasses.replace(detected, docker=engine or DockerEngineInfo())
    if not machine.docker.reachable:
        machine = dataclasses.replace(machine, docker=DockerEngineInfo())
    params = DEFAULT_PARAMS
    if settings is not None and profile is None:
        params = machine_params(settings.calibration_path, machine, this_machine=True).params
    return plan_service(machine, catalog or resources.load_catalog(), request, params)
