"""``toolkit.errors``' docstring draws the exception tree: it must be the tree the classes make."""

from __future__ import annotations

import inspect
import re

import toolkit.errors


def test_the_drawn_exception_tree_is_the_class_tree() -> None:
    drawn: dict[str, str] = {}
    stack: list[str] = []
    for line in (toolkit.errors.__doc__ or "").splitlines():
        found = re.search(r"\b(\w+Error)\b", line)
        if found is None or not re.match(r"^[\s│├└─]*\w+Error\s", line):
            continue
        depth = found.start() // 4 - 1  # "    GpulessError" is depth 0; each level indents 4 more
        stack[depth:] = [found.group(1)]
        if depth:
            drawn[found.group(1)] = stack[depth - 1]
    classes = {
        name: cls.__bases__[0].__name__
        for name, cls in inspect.getmembers(toolkit.errors, inspect.isclass)
        if issubclass(cls, toolkit.errors.GpulessError) and cls is not toolkit.errors.GpulessError
    }
    assert drawn == classes
