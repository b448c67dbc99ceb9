"""The layering rules, checked over the source with ``ast`` so a violation fails CI, not a review.

- ``toolkit/core`` is pure: it imports no UI, no I/O library and no clock, and calls no clock.
- ``toolkit/tui`` does no work at import: no module-level calls other than definitions and constants
  (so start-up stays fast and importing a screen never touches the machine).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "toolkit"

#: Top-level modules core may not import: UI, containers, network, processes, storage, system probes.
FORBIDDEN_IN_CORE = {
    "textual",
    "rich",
    "docker",
    "httpx",
    "ollama",
    "psutil",
    "subprocess",
    "socket",
    "sqlite3",
    "requests",
    "urllib.request",
    "http.client",
    "asyncio",
    "threading",
    "multiprocessing",
    "shutil",
    "tempfile",
    "platform",
    "toolkit.adapters",
    "toolkit.tui",
    "toolkit.cli",
    "toolkit.settings",
}
#: Clock and randomness calls that make a pure function impure (module.attr as written in source).
FORBIDDEN_CALLS = {
    ("time", "time"),
    ("time", "monotonic"),
    ("time", "perf_counter"),
    ("time", "perf_counter_ns"),
    ("time", "time_ns"),
    ("time", "sleep"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("os", "system"),
    ("os", "popen"),
    ("os", "environ"),
    ("os", "getenv"),
    ("random", "random"),
}
#: Builtins that do I/O.
FORBIDDEN_NAMES = {"open", "input", "print"}


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def is_forbidden_module(name: str) -> bool:
    return any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN_IN_CORE)


def core_violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = [
        f"{path.name}:{line} imports {name}"
        for line, name in imported_modules(tree)
        if is_forbidden_module(name)
    ]
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if (node.value.id, node.attr) in FORBIDDEN_CALLS:
                found.append(f"{path.name}:{node.lineno} uses {node.value.id}.{node.attr}")
        elif (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_NAMES
        ):
            found.append(f"{path.name}:{node.lineno} calls {node.func.id}()")
        elif isinstance(node, ast.ImportFrom) and node.module in {"time", "datetime", "os", "random"}:
            for alias in node.names:
                if (node.module, alias.name) in FORBIDDEN_CALLS or alias.name in {"datetime", "date"}:
                    if node.module == "datetime" and alias.name in {"datetime", "date"}:
                        # Importing the types is fine; calling now()/today() on them is caught above.
                        continue
                    found.append(f"{path.name}:{node.lineno} imports {node.module}.{alias.name}")
    return found


@pytest.mark.parametrize("path", python_files("core"), ids=lambda p: p.name)
def test_core_is_pure(path: Path) -> None:
    assert core_violations(path) == []


def test_the_checker_catches_violations(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import textual.app\nfrom docker import from_env\nimport time\nfrom time import monotonic\n"
        "x = time.time()\ny = open('f')\nimport subprocess as sp\n"
    )
    found = core_violations(bad)
    assert any("textual.app" in f for f in found)
    assert any("docker" in f for f in found)
    assert any("time.time" in f for f in found)
    assert any("time.monotonic" in f for f in found)
    assert any("open()" in f for f in found)
    assert any("subprocess" in f for f in found)
    good = tmp_path / "good.py"
    good.write_text("from dataclasses import dataclass\nimport math\nfrom datetime import datetime\n")
    assert core_violations(good) == []


#: Statements allowed at module level in toolkit/tui: definitions, imports, docstrings, constants.
ALLOWED_TOP = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If)


def tui_import_side_effects(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in tree.body:
        if isinstance(node, ALLOWED_TOP):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # docstring
        if isinstance(node, ast.Assign | ast.AnnAssign):
            value = node.value
            calls = [n for n in ast.walk(value) if isinstance(n, ast.Call)] if value is not None else []
            # Constructing frozen data (Step(...), tuple(...)) is a constant; anything named like I/O is not.
            bad = [
                c
                for c in calls
                if isinstance(c.func, ast.Name) and c.func.id in {"open", "create_app", "Settings"}
            ]
            bad += [
                c
                for c in calls
                if isinstance(c.func, ast.Attribute)
                and c.func.attr in {"run", "write_text", "mkdir", "connect", "from_env"}
            ]
            if bad:
                found.append(f"{path.name}:{node.lineno} calls at import time")
            continue
        found.append(f"{path.name}:{node.lineno} {type(node).__name__} at module level")
    return found


@pytest.mark.parametrize("path", python_files("tui"), ids=lambda p: str(p.relative_to(ROOT)))
def test_tui_does_nothing_at_import(path: Path) -> None:
    assert tui_import_side_effects(path) == []


def test_tui_checker_catches_side_effects(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("APP = create_app()\nopen('x').write('y')\nfor i in range(3):\n    pass\n")
    assert len(tui_import_side_effects(bad)) == 3


# --- Tests mirror the source -------------------------------------------------------------------------------

TESTS = Path(__file__).resolve().parent


def _imports_module(test_file: Path, dotted: str) -> bool:
    """Whether ``test_file`` imports ``toolkit.<dotted>`` (``import a.b.c``, ``from a.b.c import x`` or
    ``from a.b import c``)."""
    full = f"toolkit.{dotted}"
    for node in ast.walk(ast.parse(test_file.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import) and any(alias.name == full for alias in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.module:
            names = {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
            if full in names:
                return True
    return False


def untested_core_modules(core: Path, tests_core: Path, grouped: dict[str, str]) -> list[str]:
    """Core modules (``bench/schedule.py``) with neither ``tests/core/<same path>/test_<module>.py`` nor a
    grouped test module (``grouped``: module path → test path under tests/) that imports them."""
    missing = []
    for path in sorted(core.rglob("*.py")):
        if path.name == "__init__.py":
            continue
        rel = path.relative_to(core)
        dotted = "core." + ".".join(rel.with_suffix("").parts)
        mirror = tests_core / rel.parent / f"test_{rel.name}"
        owner = TESTS / grouped[rel.as_posix()] if rel.as_posix() in grouped else mirror
        if not (owner.is_file() and _imports_module(owner, dotted)):
            missing.append(rel.as_posix())
    return missing


def test_every_core_module_has_a_test_module() -> None:
    from tests.core.conftest import GROUPED

    missing = untested_core_modules(ROOT / "core", TESTS / "core", GROUPED)
    assert not missing, f"core modules with no tests/core/<domain>/test_<module>.py nor grouping: {missing}"


def test_every_grouping_names_a_module_and_a_test_that_exist() -> None:
    from tests.core.conftest import GROUPED

    for module, test in GROUPED.items():
        assert (ROOT / "core" / module).is_file(), module
        assert (TESTS / test).is_file(), test
        assert not (TESTS / "core" / Path(module).parent / f"test_{Path(module).name}").is_file(), (
            f"{module} has a test module of its own: drop its GROUPED entry"
        )


def test_every_core_test_module_is_named_for_a_core_module_or_listed() -> None:
    from tests.core.conftest import EXTRA

    core = ROOT / "core"
    strays = [
        rel.as_posix()
        for rel in (path.relative_to(TESTS / "core") for path in sorted((TESTS / "core").rglob("test_*.py")))
        if not (core / rel.parent / rel.name.removeprefix("test_")).is_file() and rel.as_posix() not in EXTRA
    ]
    assert not strays, f"tests/core modules named for no core module (rename, or list in EXTRA): {strays}"
    assert all((TESTS / "core" / name).is_file() for name in EXTRA)


def test_the_mirror_check_catches_an_untested_module(tmp_path: Path) -> None:
    core, tests_core = tmp_path / "core", tmp_path / "tests"
    (core / "bench").mkdir(parents=True)
    (tests_core / "bench").mkdir(parents=True)
    for name in ("schedule.py", "verdict.py", "run.py"):
        (core / "bench" / name).write_text("")
    (tests_core / "bench" / "test_schedule.py").write_text("from toolkit.core.bench.schedule import eta_s\n")
    (tests_core / "bench" / "test_verdict.py").write_text("import json\n")  # named right, tests nothing
    assert untested_core_modules(core, tests_core, {}) == ["bench/run.py", "bench/verdict.py"]
