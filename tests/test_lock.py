"""The lock files the tests install from (requirements/*.lock) agree with what they lock.

scripts/install-test-deps.sh installs only from them, with --require-hashes, so a new release of a
dependency cannot change a test run; these checks fail when pyproject.toml or a ``.in`` file was changed
and ``bash scripts/lock.sh`` was not run.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements"


def _pins(lock: str) -> dict[str, list[tuple[str, str]]]:
    """name → [(version, marker)] of every pinned line of a lock file (a name may be pinned per marker)."""
    pins: dict[str, list[tuple[str, str]]] = {}
    for line in (REQUIREMENTS / lock).read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^ ;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$", line)
        if match:
            name, version, marker = match.groups()
            pins.setdefault(canonicalize_name(name), []).append((version, marker or ""))
    return pins


def _requirements(*names: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = list(project["dependencies"])
    for extra in names:
        lines += project["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


def _in_file(name: str) -> list[Requirement]:
    text = (REQUIREMENTS / name).read_text(encoding="utf-8")
    return [Requirement(line) for line in text.splitlines() if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize(
    ("lock", "wanted"),
    [
        ("test.lock", lambda: _requirements("test", "engine") + _in_file("build.in")),
        ("models.lock", lambda: _in_file("models.in")),
        ("installer.lock", lambda: _in_file("installer.in")),
    ],
)
def test_every_requirement_is_pinned_within_its_range(lock: str, wanted: object) -> None:
    pins = _pins(lock)
    assert callable(wanted)
    for requirement in wanted():
        versions = pins.get(canonicalize_name(requirement.name))
        assert versions, f"{requirement.name} is not in requirements/{lock}: run bash scripts/lock.sh"
        for version, _marker in versions:
            assert requirement.specifier.contains(version, prereleases=True), (
                f"requirements/{lock} pins {requirement.name}=={version}, outside {requirement}:"
                " run bash scripts/lock.sh"
            )


@pytest.mark.parametrize("lock", ["test.lock", "models.lock", "installer.lock"])
def test_every_pin_carries_hashes(lock: str) -> None:
    text = (REQUIREMENTS / lock).read_text(encoding="utf-8")
    blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", text)
    pinned = [block for block in blocks if re.match(r"[A-Za-z0-9_.-]+==", block)]
    assert pinned
    for block in pinned:
        assert "--hash=sha256:" in block, block.splitlines()[0]


def test_the_install_script_installs_only_from_the_locks() -> None:
    script = (ROOT / "scripts/install-test-deps.sh").read_text(encoding="utf-8")
    commands = [line for line in script.splitlines() if line.startswith('"${install[@]}"')]
    assert commands, "scripts/install-test-deps.sh installs nothing"
    editable = '"${install[@]}" --no-deps --no-build-isolation -e .'
    from_lock = r'"\$\{install\[@\]\}" --require-hashes (--no-deps )?-r requirements/\w+\.lock'
    for command in commands:
        locked = re.fullmatch(from_lock, command)
        assert locked or command == editable, command


def test_every_package_of_the_source_tree_is_installed() -> None:
    # `pip install .` (not editable) ships only the packages pyproject.toml lists: a new folder left out
    # imports in the tests and fails for a user.
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "toolkit").rglob("__init__.py")
    }
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
