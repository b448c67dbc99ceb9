"""Hardware profiles (shipped and the user's files) build a Machine; a bad one fails with one line."""

from __future__ import annotations

import pytest

from tests import paths
from toolkit.adapters import resources
from toolkit.core.machine.profile import machine_from_profile, parse_hardware_profile
from toolkit.core.units import GIB
from toolkit.errors import ProfileError

FIXTURES = paths.FIXTURES / "profiles"


def test_every_shipped_profile_builds_a_machine() -> None:
    profiles = resources.load_shipped_profiles()
    assert len(profiles) >= 10
    for profile in profiles:
        machine = machine_from_profile(profile)
        assert machine.memory.total_bytes == profile.ram_bytes
        assert machine.bandwidth is not None and machine.bandwidth.source == "profile"
        assert profile.bandwidth_note, profile.name


def test_docker_desktop_profiles_get_half_the_ram_in_the_vm() -> None:
    machine = machine_from_profile(resources.load_shipped_profile("apple-m1-8gb"))
    assert machine.docker.is_desktop
    assert machine.docker.mem_total_bytes == 4 * GIB
    assert machine.cpu.performance_cores == 4
    # CPU-only inside the VM reaches only part of the SoC bandwidth
    assert machine.bandwidth is not None and machine.bandwidth.gbps == pytest.approx(51.0)


def test_user_profile_files_toml_and_json() -> None:
    toml_profile = resources.load_profile_file(FIXTURES / "my-laptop.toml")
    assert (toml_profile.name, toml_profile.ram_bytes, toml_profile.simd) == (
        "my-laptop",
        12 * GIB,
        ("avx2", "fma"),
    )
    json_profile = resources.load_profile_file(FIXTURES / "my-laptop.json")
    assert (json_profile.name, json_profile.physical_cores, json_profile.logical_cores) == (
        "json-laptop",
        8,
        8,
    )
    assert resources.resolve_profile("laptop-16gb-ddr5").ram_bytes == 16 * GIB


@pytest.mark.parametrize(
    ("file", "message"),
    [
        ("negative-ram.toml", "ram_gb must be positive"),
        ("malformed.toml", "not valid TOML"),
        ("malformed.json", "not valid JSON"),
        ("missing.toml", "cannot read profile file"),
    ],
)
def test_bad_profile_files_fail_with_one_line(file: str, message: str) -> None:
    with pytest.raises(ProfileError) as error:
        resources.load_profile_file(FIXTURES / file)
    assert message in error.value.message
    assert "\n" not in error.value.message
    assert error.value.exit_code == 2


def test_profile_validation() -> None:
    base = {"ram_gb": 8, "bandwidth_gbps": 51.2, "physical_cores": 4}
    assert parse_hardware_profile(base).ram_bytes == 8 * GIB
    for bad, message in (
        ({"bandwidth_gbps": 0}, "bandwidth_gbps must be positive"),
        ({"logical_cores": 2}, "cannot be below"),
        ({"simd": ["avx9000"]}, "unknown SIMD feature"),
        ({"os": "beos"}, "os must be one of"),
        ({"ram_gb": True}, "must be a number"),
        ({"docker_vm_share": 1.5}, "docker_vm_share"),
    ):
        with pytest.raises(ProfileError, match=message.replace("(", "\\(")):
            parse_hardware_profile({**base, **bad})
    with pytest.raises(ProfileError, match="no shipped hardware profile"):
        resources.resolve_profile("laptop-64gb")
