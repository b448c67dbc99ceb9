"""Tests of ``toolkit/core``: laid out like it, ``tests/core/<domain>/test_<module>.py`` for
``toolkit/core/<domain>/<module>.py`` (tests/test_architecture.py fails when a core module has none).

Where one test module covers several core modules, because the behaviour it pins spans them, the grouping
is written in ``GROUPED`` below with its reason; the architecture test checks that the named test module
imports the core module it stands for. A test module named for no core module is listed in ``EXTRA`` with
what it checks. Helpers shared by one domain's tests sit beside them without a ``test_`` prefix
(``models/store.py``: a model store in bytes; ``tune/trials.py``: short tuning trials).
"""

from __future__ import annotations

#: Core module (path under toolkit/core) → the test module (path under tests/) that covers it.
GROUPED: dict[str, str] = {
    # A compose file and the Docker SDK's arguments must describe the same container: one module pins the
    # spec, its YAML rendering and its docker-py form together (and the golden files per profile).
    "compose/render.py": "core/compose/test_spec.py",
    "compose/docker_args.py": "core/compose/test_spec.py",
    # The estimator is the sum of its memory and speed terms over its parameters; its tests pin the totals
    # against measurements and published figures, term by term.
    "estimate/memory.py": "core/estimate/test_estimator.py",
    "estimate/speed.py": "core/estimate/test_estimator.py",
    "estimate/params.py": "core/estimate/test_estimator.py",
    # A candidate is judged and ranked only inside recommend(): the pick's tests are its tests.
    "recommend/candidate.py": "core/recommend/test_pick.py",
    # The share feature's tests live in its own folder (tests/share/), pure ones beside the gateway's.
    "share/keys.py": "share/test_keys.py",
    "share/help_page.py": "share/test_keys.py",
    "share/invite.py": "share/test_keys.py",
    "share/nginx_conf.py": "share/test_keys.py",
    "share/compose_gateway.py": "share/test_compose_gateway.py",
    # The gateway's model-file location is checked in the compose/gateway tests that render it.
    "share/model_files.py": "share/test_compose_gateway.py",
    # TLS: the fingerprint rules are tested beside the real HTTPS gateway that prints them.
    "share/tls.py": "share/test_tls.py",
    # The pool's members and plan are pure rules over measured capacities, tested together.
    "pool/members.py": "pool/test_pool_logic.py",
    "pool/plan.py": "pool/test_pool_logic.py",
}

#: Test modules under tests/core/ named for no core module → what they check.
EXTRA: dict[str, str] = {
    "bench/test_verdict_slots.py": "the verdict when the server has fewer slots than the streams swept",
    "estimate/test_published_cpu_speeds.py": "the estimator against published CPU benchmarks (tests/data)",
    "estimate/test_published_metal_speeds.py": "the Metal estimate against published Apple figures",
    "test_bench_words.py": "the words the bench, history and chat use for TTFT, decode speed and errors",
}
