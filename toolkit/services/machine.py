"""This machine and the data gpuless ships, as the front ends ask for them.

The machine is probed (``adapters.machine.probes``: psutil, /proc, /sys, the Docker engine, the cached
bandwidth figure); the catalog and the hardware profiles are read from the package's files
(``adapters.resources``). Every command and step asks here, so each finds the same machine and data.
"""

from __future__ import annotations

from pathlib import Path

from toolkit.adapters import resources
from toolkit.adapters.machine.probes import detect_machine
from toolkit.core.catalog.model import Catalog
from toolkit.core.machine.hardware import Machine
from toolkit.core.machine.profile import HardwareProfile
from toolkit.errors import GpulessError


def this_machine(
    *,
    measure_bandwidth: bool = True,
    docker: bool = True,
    refresh_bandwidth: bool = False,
    cache_dir: Path | None = None,
) -> Machine:
    """This machine as probed (``detect_machine``: bandwidth from the cache in ``cache_dir``)."""
    return detect_machine(
        measure_bandwidth=measure_bandwidth,
        docker=docker,
        refresh_bandwidth=refresh_bandwidth,
        cache_dir=cache_dir,
    )


def catalog() -> Catalog:
    """The shipped model catalog."""
    return resources.load_catalog()


def catalog_or_none() -> Catalog | None:
    """The shipped catalog when it can be read; None (a benchmark then estimates from /api/show)."""
    try:
        return resources.load_catalog()
    except GpulessError:
        return None


def shipped_profiles() -> list[HardwareProfile]:
    """The hardware profiles gpuless ships (what-if machines)."""
    return list(resources.load_shipped_profiles())


def profile(name: str) -> HardwareProfile:
    """The profile ``name`` (a shipped one, or a TOML file)."""
    return resources.resolve_profile(name)
