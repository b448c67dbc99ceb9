"""`gpuless --help` and the README list every environment variable gpuless reads; `logs -f` follows."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.cli_run import run
from toolkit.settings import Settings

ROOT = Path(__file__).resolve().parent.parent

#: Read outside Settings: by the Docker SDK / engine connection, by Rich and Textual, by the lock files.
OTHER_VARIABLES = ("DOCKER_HOST", "NO_COLOR", "XDG_RUNTIME_DIR")


def settings_variables() -> list[str]:
    prefix = str(Settings.model_config.get("env_prefix", ""))
    return [f"{prefix}{name}".upper() for name in Settings.model_fields]


def test_every_variable_is_listed_in_help_and_readme(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--help"], capsys)
    assert code == 0
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    variables = [*settings_variables(), *OTHER_VARIABLES]
    assert "GPULESS_IMAGE" in variables and "GPULESS_OLLAMA_URL" in variables
    for name in variables:
        assert re.search(rf"^\s+{name}\s", out, re.M), f"{name} missing from gpuless --help"
        assert f"`{name}`" in readme, f"{name} missing from README.md"


def _is_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def environment_reads(source: str) -> set[str]:
    """The variables code reads: ``os.environ["X"]``, ``os.environ.get("X")``, ``"X" in os.environ``
    (parsed, so a snippet that gpuless prints for an app, holding such text in a string, is not one)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        key: ast.AST | None = None
        if isinstance(node, ast.Subscript) and _is_environ(node.value):
            key = node.slice
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            if node.func.attr == "get" and _is_environ(node.func.value):
                key = node.args[0]
        elif isinstance(node, ast.Compare) and any(_is_environ(c) for c in node.comparators):
            key = node.left
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            found.add(key.value)
    return found


def test_environment_reads_are_found_in_code_not_in_strings() -> None:
    code = 'import os\nos.environ["A"]\nos.environ.get("B", "x")\nif "C" in os.environ: pass\n'
    snippet = "TEXT = 'key = os.environ.get(\"OPENAI_API_KEY\")'\n"
    assert environment_reads(code) == {"A", "B", "C"}
    assert environment_reads(snippet) == set()


def test_every_environment_read_in_the_source_is_listed(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["--help"], capsys)
    read: set[str] = set()
    for path in (ROOT / "toolkit").rglob("*.py"):
        read |= environment_reads(path.read_text(encoding="utf-8"))
    assert read, "the pattern no longer finds os.environ reads"
    for name in read:
        assert name in out, f"{name} is read by toolkit/ but not listed in gpuless --help"


def test_logs_dash_f_follows_like_docker_and_file_is_long_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no compose.yaml here
    monkeypatch.setenv("GPULESS_CONTAINER_NAME", "gpuless-t-no-such-container")
    code, out, err = run(["logs", "--help"], capsys)
    assert code == 0 and "-f, --follow" in out and re.search(r"^\s+--file PATH", out, re.M)
    # -f takes no value now: the command runs (and finds no container or no engine), not a usage error.
    code, _, err = run(["logs", "-f", "-n", "5", "--max-seconds", "1"], capsys)
    assert code == 1 and "requires an argument" not in err and "Traceback" not in err
    code, _, err = run(["logs", "--file", "missing.yaml"], capsys)
    assert code == 2 and "cannot read missing.yaml" in err
