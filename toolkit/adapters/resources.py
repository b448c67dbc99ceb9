"""Read the data shipped in the wheel (``toolkit.profiles``) and a user's own hardware-profile file.

The catalog (``profiles/models/*.toml``) and the hardware profiles (``profiles/hardware/*.toml``) are
package data, read with ``importlib.resources`` so they work from a wheel, a zip or a checkout alike.
Parsing and validation are the job of ``toolkit.core.catalog.parse`` and ``toolkit.core.machine.profile``;
this module only finds and decodes files and turns read/decode failures into ``ProfileError`` (exit 2,
one line).
"""

from __future__ import annotations

import json
import tomllib
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from toolkit.core.catalog.model import Catalog
from toolkit.core.catalog.parse import parse_catalog
from toolkit.core.machine.profile import HardwareProfile, parse_hardware_profile
from toolkit.errors import ProfileError

PACKAGE = "toolkit.profiles"


def _root() -> Traversable:
    return resources.files(PACKAGE)


def _toml(entry: Traversable, label: str) -> dict[str, Any]:
    try:
        return tomllib.loads(entry.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ProfileError(f"cannot read {label}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"{label} is not valid TOML: {error}") from None


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """The shipped model catalog: every ``[[model]]`` of every ``profiles/models/*.toml``, by file name."""
    directory = _root().joinpath("models")
    entries = sorted((e for e in directory.iterdir() if e.name.endswith(".toml")), key=lambda e: e.name)
    models: list[Any] = []
    for entry in entries:
        models.extend(_toml(entry, f"catalog file {entry.name}").get("model", []))
    return parse_catalog({"model": models})


def shipped_profile_names() -> list[str]:
    """Names of the shipped hardware profiles (file names without ``.toml``), sorted."""
    directory = _root().joinpath("hardware")
    return sorted(e.name[: -len(".toml")] for e in directory.iterdir() if e.name.endswith(".toml"))


def load_shipped_profile(name: str) -> HardwareProfile:
    """One shipped hardware profile by name; unknown → ``ProfileError`` listing the names."""
    names = shipped_profile_names()
    if name not in names:
        raise ProfileError(
            f"no shipped hardware profile named {name!r}", hint=f"choose one of: {', '.join(names)}"
        )
    entry = _root().joinpath("hardware").joinpath(f"{name}.toml")
    return parse_hardware_profile(_toml(entry, f"profile {name}"), default_name=name)


def load_shipped_profiles() -> list[HardwareProfile]:
    return [load_shipped_profile(name) for name in shipped_profile_names()]


def load_profile_file(path: str | Path) -> HardwareProfile:
    """A user's hardware profile: TOML (``.toml``) or JSON (anything else that parses as JSON)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise ProfileError(f"cannot read profile file {file}: {reason}") from None
    data: Any
    if file.suffix.lower() == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise ProfileError(f"profile file {file} is not valid TOML: {error}") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ProfileError(
                f"profile file {file} is not valid JSON: {error.msg} at line {error.lineno}",
                hint="profiles are TOML (.toml) or JSON files; see `gpuless recommend --list-profiles`",
            ) from None
    if not isinstance(data, dict):
        raise ProfileError(f"profile file {file} must contain a table/object, not {type(data).__name__}")
    return parse_hardware_profile(data, default_name=file.stem)


def resolve_profile(name_or_path: str) -> HardwareProfile:
    """``--profile`` accepts a shipped profile name or a path to a file."""
    if name_or_path in shipped_profile_names():
        return load_shipped_profile(name_or_path)
    path = Path(name_or_path)
    if path.suffix or path.exists() or "/" in name_or_path:
        return load_profile_file(path)
    raise ProfileError(
        f"no shipped hardware profile named {name_or_path!r} and no such file",
        hint=f"choose one of: {', '.join(shipped_profile_names())}, or give a .toml/.json file",
    )


__all__ = [
    "load_catalog",
    "load_profile_file",
    "load_shipped_profile",
    "load_shipped_profiles",
    "resolve_profile",
    "shipped_profile_names",
]
