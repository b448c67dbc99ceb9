"""YAML read within a budget: an alias bomb, a self-referring anchor, deep nesting and a huge file are
refused with one line, before anything walks the expanded document."""

from __future__ import annotations

import pytest

from toolkit.core.compose.yaml_budget import MAX_BYTES, MAX_DEPTH, MAX_NODES, load_yaml
from toolkit.errors import UsageError

COMPOSE = """\
x-env: &env
  OLLAMA_NUM_PARALLEL: "2"
services:
  ollama:
    image: ollama/ollama:0.12.3
    environment: *env
  other:
    environment: *env
"""


def alias_bomb(levels: int) -> str:
    """Nine references per level: 9**levels nodes once expanded, a few hundred bytes of text."""
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, levels + 1):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_an_ordinary_file_with_shared_aliases_reads_as_data() -> None:
    data = load_yaml(COMPOSE)
    assert data["services"]["other"]["environment"] == {"OLLAMA_NUM_PARALLEL": "2"}
    assert load_yaml("") is None
    assert load_yaml("# only a comment\n") is None


def test_an_alias_bomb_is_refused_by_its_expanded_size() -> None:
    small = alias_bomb(3)  # 9**3 = 729 leaves: within the budget
    assert len(load_yaml(small)["a3"]) == 9
    bomb = alias_bomb(9)  # 9**9 ≈ 387 million leaves from ~600 bytes
    assert len(bomb) < 1000
    with pytest.raises(UsageError, match=f"more than {MAX_NODES:,} values") as error:
        load_yaml(bomb)
    assert "\n" not in error.value.message and error.value.hint


def test_an_unused_x_block_counts_too() -> None:
    with pytest.raises(UsageError, match="alias bomb"):
        load_yaml("x-unused:\n" + "".join("  " + line + "\n" for line in alias_bomb(7).splitlines()))


def test_an_anchor_that_contains_itself_is_refused() -> None:
    with pytest.raises(UsageError, match="refers to itself"):
        load_yaml("a: &a [1, *a]\n")
    with pytest.raises(UsageError, match="refers to itself"):
        load_yaml("a: &a {b: {c: *a}}\n")


def test_nesting_past_the_limit_is_refused_and_within_it_read() -> None:
    def nested(depth: int) -> str:
        return "[" * depth + "1" + "]" * depth

    assert load_yaml(nested(MAX_DEPTH - 2)) is not None
    with pytest.raises(UsageError, match=f"nests deeper than {MAX_DEPTH} levels"):
        load_yaml(nested(MAX_DEPTH + 5))


def test_size_and_syntax_errors_name_the_file() -> None:
    with pytest.raises(UsageError, match="larger than 1 MiB"):
        load_yaml("a: " + "x" * MAX_BYTES)
    with pytest.raises(UsageError, match="the template is not valid YAML"):
        load_yaml("a: [1, 2\n", what="the template")
