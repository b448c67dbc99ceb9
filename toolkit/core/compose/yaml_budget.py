"""YAML parsed within a budget: a compose file is text anyone may hand gpuless, and YAML can make a
few hundred bytes stand for billions of nodes.

An alias bomb (``&a [x, x, …]`` then ``&b [*a, *a, …]`` nine levels deep) costs nothing to parse, as
aliases share one node, but everything that walks the result then visits every copy: gigabytes and
minutes, then MemoryError. An alias inside its own anchor (``&a [*a]``) makes a structure that contains
itself, and every walk of it ends in RecursionError. So the text is first composed into nodes (aliases
still shared, memory linear in the text), those nodes are counted as a walk would expand them (each
shared node counted once, its expanded size remembered), and only a document within the budget is
turned into Python objects. The whole document is checked, unused ``x-`` blocks included.
"""

from __future__ import annotations

from typing import Any

from toolkit.errors import UsageError

#: Largest compose file read (gpuless writes ~4 KiB; a hand-edited one with several services, ~20 KiB).
MAX_BYTES = 1 << 20
#: Most nodes the document may expand to (aliases counted as copies): ~100 times what a large file has.
MAX_NODES = 100_000
#: Deepest nesting accepted (a compose file nests about 6 deep).
MAX_DEPTH = 64

_HINT = "Remove the aliases (or the nesting) that repeat it, or regenerate the file with `gpuless compose`."


def load_yaml(text: str, what: str = "the compose file") -> Any:
    """The YAML document in ``text`` as Python data, or UsageError saying why it is refused."""
    import yaml  # PyYAML: parsing text, no I/O

    if len(text) > MAX_BYTES:
        raise UsageError(f"{what} is larger than {MAX_BYTES >> 20} MiB; not reading it", _HINT)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise UsageError(f"{what} nests deeper than gpuless reads", _HINT) from None
    except yaml.YAMLError as error:
        raise UsageError(f"{what} is not valid YAML: {error}") from None
    if root is None:
        return None
    _check(root, what)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise UsageError(f"{what} is not valid YAML: {error}") from None


def _check(root: Any, what: str) -> None:
    """UsageError when the node graph from ``root`` refers to itself, nests past MAX_DEPTH or expands
    past MAX_NODES. Iterative (no recursion to run out of) and linear in the distinct nodes."""
    import yaml

    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    # (node, depth, children visited?) — a node is sized once all its children are.
    stack: list[tuple[Any, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if depth > MAX_DEPTH:
            raise UsageError(f"{what} nests deeper than {MAX_DEPTH} levels", _HINT)
        children = _children(node, yaml)
        if done:
            open_nodes.discard(key)
            size = 1 + sum(sizes[id(child)] for child in children)
            if size > MAX_NODES:
                raise UsageError(
                    f"{what} expands to more than {MAX_NODES:,} values through its aliases"
                    " (a YAML alias bomb?); not reading it",
                    _HINT,
                )
            sizes[key] = size
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise UsageError(f"{what} has an alias inside its own anchor (it refers to itself)", _HINT)
        open_nodes.add(key)
        stack.append((node, depth, True))
        for child in children:
            if id(child) in open_nodes:
                raise UsageError(f"{what} has an alias inside its own anchor (it refers to itself)", _HINT)
            if id(child) not in sizes:
                stack.append((child, depth + 1, False))


def _children(node: Any, yaml: Any) -> list[Any]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []
