"""The layer map, checked over the source with ``ast``, and what importing costs.

From the top: the front ends (``toolkit.cli*`` and ``toolkit.tui``), the service layer
(``toolkit.services``), the adapters (``toolkit.adapters``), the pure core (``toolkit.core``), and the
base (``toolkit.errors``, ``toolkit.settings``). A module imports only its own layer or lower ones (and
inside the core, only its own domain folder or lower ones: ``CORE_DOMAINS``); the front ends import the
services and the core, never an adapter (but for ``FRONT_END_ADAPTERS``, each with its reason); the
two front ends do not import each other (the CLI opens the wizard through ``toolkit.tui.app`` only);
the adapters import no UI library, and their folders import each other in one direction only.
``gpuless --help`` and importing the core load no Textual, Docker SDK or httpx (checked in a fresh
interpreter, as harlequin checks its import cost).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "toolkit"

#: Layer of each toolkit module prefix, higher numbers above lower ones.
LAYERS = (
    ("toolkit.cli", 4),
    ("toolkit.tui", 4),
    ("toolkit.__main__", 4),
    ("toolkit.services", 3),
    ("toolkit.adapters", 2),
    ("toolkit.core", 1),
    ("toolkit.errors", 0),
    ("toolkit.settings", 0),
    ("toolkit", 0),  # the package itself: its version
)
UI_LIBRARIES = ("rich", "textual", "click")

#: The adapters a front end may import itself (module, adapter), and why: everything else goes through
#: ``toolkit.services``. Imports for the type checker only are not counted.
FRONT_END_ADAPTERS = {
    # The entry point installs the process's signal handlers and turns a stop into its exit code: what
    # the process does with a signal is the front end's business, not a service's.
    ("toolkit.cli.main", "toolkit.adapters"): "interrupts: signal handlers and exit codes",
    ("toolkit.cli.main", "toolkit.adapters.interrupts"): "interrupts: signal handlers and exit codes",
    ("toolkit.cli.tune", "toolkit.adapters"): "interrupts: a stopped tune's line and exit code",
    ("toolkit.cli.bench", "toolkit.adapters"): "interrupts: a stopped bench's line and exit code",
    # A chat holds one streaming connection for a conversation and draws each chunk as it is timed; the
    # turn itself (what is sent and kept) is ``services.chat_turn.take_turn``.
    ("toolkit.cli.chat_repl", "toolkit.adapters.ollama.client"): "the REPL's streaming client",
    ("toolkit.tui.screens.chat", "toolkit.adapters.ollama.client"): "the Chat step's streaming client",
}

#: The domains of ``toolkit.core``, read from the ground up: a domain imports its own modules and those of
#: lower tiers only, never a peer of its tier or a higher one (imports for the type checker aside).
CORE_DOMAINS = (
    ("fields", "stats", "safe_text", "units", "conversation"),
    ("catalog", "machine", "wire"),
    ("target", "compose", "estimate"),
    ("recommend", "tune", "models"),
    ("share", "bench"),
    ("pool",),
)


def layer_of(module: str) -> int:
    for prefix, layer in LAYERS:
        if module == prefix or module.startswith(prefix + ".") or module.startswith(prefix + "_"):
            return layer
    raise AssertionError(f"{module} is in no layer")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_blocks(tree: ast.AST) -> set[int]:
    """Ids of nodes under ``if TYPE_CHECKING:``: imports for the type checker only, never run."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for child in node.body:
                inside.update(id(n) for n in ast.walk(child))
    return inside


def imports(path: Path) -> list[tuple[int, str]]:
    """The toolkit and library modules a file imports when it runs (``TYPE_CHECKING`` blocks left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skipped = _type_checking_blocks(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def violations(path: Path) -> list[str]:
    me = module_name(path)
    mine = layer_of(me)
    front = "cli" if me.startswith("toolkit.cli") or me == "toolkit.__main__" else "tui"
    found = []
    for line, name in imports(path):
        where = f"{me}:{line} imports {name}"
        if name.split(".")[0] in UI_LIBRARIES and mine < 4:
            found.append(f"{where} (a UI library below the front ends)")
        if not (name == "toolkit" or name.startswith("toolkit.")):
            continue
        if layer_of(name) > mine:
            found.append(f"{where} (a higher layer)")
        elif mine == 4 and layer_of(name) == 2 and (me, name) not in FRONT_END_ADAPTERS:
            found.append(f"{where} (an adapter: front ends go through toolkit.services)")
        elif mine == 4 and layer_of(name) == 4:
            other = "cli" if name.startswith("toolkit.cli") or name == "toolkit.__main__" else "tui"
            if other != front and not (front == "cli" and name == "toolkit.tui.app"):
                found.append(f"{where} (the other front end)")
    return found


@pytest.mark.parametrize("path", sorted(ROOT.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_each_module_imports_only_its_layer_or_lower(path: Path) -> None:
    assert violations(path) == []


def test_the_layer_checker_catches_a_front_end_importing_an_adapter() -> None:
    probe = ROOT / "cli" / "_probe_for_adapter_test.py"
    try:
        probe.write_text(
            "from toolkit.adapters.docker.runner import DockerRunner\nimport toolkit.services.launch\n"
        )
        found = violations(probe)
    finally:
        probe.unlink()
    where = "toolkit.cli._probe_for_adapter_test:1 imports toolkit.adapters.docker.runner"
    assert found == [f"{where} (an adapter: front ends go through toolkit.services)"]


def test_every_front_end_exception_is_still_used() -> None:
    used = {(module_name(p), name) for p in ROOT.rglob("*.py") for _, name in imports(p)}
    assert set(FRONT_END_ADAPTERS) - used == set()


def adapter_folder(module: str) -> str | None:
    """``toolkit.adapters.docker.runner`` → ``docker``; a flat adapter module is its own folder."""
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == ["toolkit", "adapters"] else None


def test_no_circle_among_adapter_folders() -> None:
    graph: dict[str, set[str]] = {}
    for path in (ROOT / "adapters").rglob("*.py"):
        mine = adapter_folder(module_name(path))
        if mine is None:
            continue
        theirs = {adapter_folder(name) for _, name in imports(path)}
        graph.setdefault(mine, set()).update(t for t in theirs if t is not None and t != mine)
    assert _circle(graph) is None


def test_the_folder_circle_check_finds_one() -> None:
    assert _circle({"docker": {"ollama"}, "ollama": {"ports", "docker"}}) == "docker → ollama → docker"


def _circle(graph: dict[str, set[str]]) -> str | None:
    """A circle in ``graph`` as "a → b → a", or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> str | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return " → ".join([*stack[stack.index(nxt) :], nxt])
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_the_layer_checker_catches_violations(tmp_path: Path) -> None:
    core = ROOT / "core" / "_probe_for_test.py"
    try:
        core.write_text("from toolkit.adapters import docker_runner\nimport rich\n")
        found = violations(core)
    finally:
        core.unlink()
    assert any("a higher layer" in f for f in found) and any("UI library" in f for f in found)


def core_domain(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == ["toolkit", "core"] else None


def tier_of(domain: str) -> int:
    for tier, domains in enumerate(CORE_DOMAINS):
        if domain in domains:
            return tier
    raise AssertionError(f"toolkit.core.{domain} is in no tier of CORE_DOMAINS")


def domain_violations(path: Path) -> list[str]:
    mine = core_domain(module_name(path))
    if mine is None:
        return []
    found = []
    for line, name in imports(path):
        theirs = core_domain(name)
        if theirs is not None and theirs != mine and tier_of(theirs) >= tier_of(mine):
            found.append(f"{module_name(path)}:{line} imports {name} (a peer or higher domain)")
    return found


@pytest.mark.parametrize(
    "path", sorted((ROOT / "core").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_each_core_domain_imports_only_lower_ones(path: Path) -> None:
    assert domain_violations(path) == []


def test_every_core_folder_and_flat_module_has_a_tier() -> None:
    domains = {p.name for p in (ROOT / "core").iterdir() if (p / "__init__.py").exists()}
    domains |= {p.stem for p in (ROOT / "core").glob("*.py") if p.stem != "__init__"}
    assert {d for d in domains if not any(d in tier for tier in CORE_DOMAINS)} == set()


def test_the_domain_checker_catches_a_lower_domain_importing_a_higher_one() -> None:
    probe = ROOT / "core" / "machine" / "_probe_for_domain_test.py"
    try:
        probe.write_text("from toolkit.core.recommend.pick import recommend\n")
        found = domain_violations(probe)
    finally:
        probe.unlink()
    where = "toolkit.core.machine._probe_for_domain_test:1"
    assert found == [f"{where} imports toolkit.core.recommend.pick (a peer or higher domain)"]


def _loaded_after(code: str) -> set[str]:
    probe = (
        f"import sys\n{code}\n"
        "sys.stderr.write('MODULES ' + ' '.join(sorted({m.split('.')[0] for m in sys.modules})) + '\\n')"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stderr.splitlines() if line.startswith("MODULES "))
    return set(line.split()[1:])


HEAVY = {"textual", "docker", "httpx"}


def test_gpuless_help_loads_no_textual_docker_or_httpx() -> None:
    loaded = _loaded_after(
        "from toolkit.cli.main import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    )
    assert not loaded & HEAVY, loaded & HEAVY


def test_importing_the_core_loads_no_textual_docker_or_httpx() -> None:
    loaded = _loaded_after(
        "import importlib, pkgutil, toolkit.core\n"
        "for m in pkgutil.walk_packages(toolkit.core.__path__, 'toolkit.core.'):\n"
        "    importlib.import_module(m.name)"
    )
    assert not loaded & (HEAVY | {"rich", "click", "psutil"}), loaded


def test_no_import_circle_among_toolkit_modules() -> None:
    graph: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        me = module_name(path)
        graph[me] = {name for _, name in imports(path) if name.startswith("toolkit.") and name != me}
    names = set(graph)
    for me in graph:  # a target named by attribute (toolkit.adapters.x.y) counts as its module
        graph[me] = {next((n for n in (t, t.rsplit(".", 1)[0]) if n in names), t) for t in graph[me]}
    seen: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        seen[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if seen.get(nxt) == 1:
                raise AssertionError(" → ".join([*stack[stack.index(nxt) :], nxt]))
            if nxt not in seen:
                visit(nxt)
        stack.pop()
        seen[node] = 2

    for node in sorted(graph):
        if node not in seen:
            visit(node)


def test_no_module_is_over_450_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in ROOT.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 450
    }
    assert not long, long
