#!/usr/bin/env bash
# The project's test command (README.md, line 2 of the quick start; .ci/run calls it too).
# Installs the package with its test and engine extras and the models (scripts/install-test-deps.sh),
# then runs lint, types and the test suite in three lanes (pytest-xdist; a Docker test module stays in one
# lane, tests/conftest.py says why), then the few tests marked quiet on their own. GPULESS_TEST_LANES=0 runs the lanes' part in one process instead.
# Docker/engine tests skip with a reason when those are missing; set GPULESS_REQUIRE_ENGINES=1
# (as .ci/run does) to make such a skip a failure. GPULESS_DEPS_INSTALLED=1 skips the install when the
# caller has just run scripts/install-test-deps.sh itself (.ci/run, through the prepare script).
set -euo pipefail
cd "$(dirname "$0")/.."
# Bytecode is cached (in the repo's ignored __pycache__ folders) even where the machine sets
# PYTHONDONTWRITEBYTECODE: without it every lane compiled and assertion-rewrote all 300 test modules
# again (8 s of CPU per process, 3.5 s with the cache), and every gpuless process a test starts compiled
# what it imports.
unset PYTHONDONTWRITEBYTECODE
[ "${GPULESS_DEPS_INSTALLED:-}" = 1 ] || bash scripts/install-test-deps.sh
# While lint and types hold one core, one collection on the other fills that cache for the lanes (its
# errors, if any, are the lanes' to report).
python3 -m pytest --collect-only -q "$@" >/dev/null 2>&1 &
warm=$!
python3 -m ruff check toolkit tests scripts
python3 -m ruff format --check toolkit tests scripts
python3 -m mypy
wait "$warm" || true
# The tests marked quiet compare two configurations' measurements: they run after the lanes, alone, so no
# lane has to stand idle while one of them holds the machine (tests/conftest.py, _lanes_lock).
# Exit code 5 is pytest's "no test selected" (arguments that pick no quiet test, or only quiet ones).
python3 -m pytest -n "${GPULESS_TEST_LANES:-3}" --dist loadgroup --durations=25 -m "not quiet" "$@" || [ $? -eq 5 ]
python3 -m pytest -m quiet --durations=5 "$@" || [ $? -eq 5 ]
