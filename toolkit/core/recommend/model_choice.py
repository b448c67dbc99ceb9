"""Which model to use on a server when the user did not name one: one rule for every command and step.

``bench``, ``chat``, ``connect`` and the wizard's Benchmark, Chat and Connect steps all choose with
``default_model``: the model asked for (its served model first, when gpuless made one), else a served
model gpuless made (``TAG-gpuless``: it carries the tuned threads and context), else the server's first.
"""

from __future__ import annotations

from collections.abc import Sequence

from toolkit.core.compose.spec import SERVED_SUFFIX, served_model


def _listed(name: str, names: Sequence[str]) -> str | None:
    for candidate in (name, f"{name}:latest"):
        if candidate in names:
            return candidate
    return None


def default_model(names: Sequence[str], prefer: str | None = None) -> str | None:
    """The model to talk to among ``names`` (``/api/tags`` order); None when the server has none."""
    if prefer:
        for candidate in (served_model(prefer), prefer):
            found = _listed(candidate, names)
            if found is not None:
                return found
    for name in names:
        if name.endswith(f":{SERVED_SUFFIX}") or name.endswith(f"-{SERVED_SUFFIX}"):
            return name
    return names[0] if names else None
