"""Tests of ``toolkit/core``: laid out like it, ``tests/core/<domain>/test_<module>.py`` for
``toolkit/core/<domain>/<module>.py`` (tests/test_architecture.py fails when a core module has none).

Where one test module covers several core modules, because the behaviour it pins spans them, the grouping
is written in ``GROUPED`` below with its reason; the architecture test checks that the named test module
imports the core module it stands for.
"""

from __future__ import annotations

#: Core module (path under toolkit/core) → the test module (path under tests/) that covers it.
GROUPED: dict[str, str] = {}
