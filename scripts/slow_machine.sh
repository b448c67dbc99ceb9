#!/usr/bin/env bash
# Runs the test suite as on a slow machine, to find tests that depend on this machine's speed (issue 19):
# the pytest process tree (and so the native llama.cpp servers it starts) in a cgroup-v1 cpu cgroup capped
# at half a core, and every Docker container capped at half a core too.
# Arguments go to pytest: `bash scripts/slow_machine.sh -q tests/engine`. Needs root and cgroup v1 with
# Docker's cgroupfs driver (/sys/fs/cgroup/cpu/docker).
#
# Docker's containers are capped one by one, not through their parent cgroup: cgroup v1 refuses to start
# a child whose quota is above its parent's, so a parent capped at half a core makes every container of
# `--cpus 1` fail to start ("failed to write 100000 ... cpu.cfs_quota_us: invalid argument"). A watcher
# lowers each container's own quota to half a core within 0.2 s of its start (its configured quota as
# the container sees it at start is unchanged). On exit, however the run ends, each container still
# there gets its quota back, Docker's parent cgroup is left uncapped (-1) and the run's cgroup removed.
# While it runs, every container on the engine is capped, other projects' too.
set -euo pipefail
cd "$(dirname "$0")/.."

CPU_ROOT=/sys/fs/cgroup/cpu
SLOW="$CPU_ROOT/gpuless-slow"
DOCKER_CG="$CPU_ROOT/docker"
PERIOD_US=100000
QUOTA_US="${GPULESS_SLOW_QUOTA_US:-50000}" # 50 ms of CPU time per 100 ms: half a core

if [ ! -w "$CPU_ROOT" ] || [ ! -d "$DOCKER_CG" ]; then
    echo "slow_machine: needs root and cgroup v1 with Docker's cgroupfs driver ($DOCKER_CG)" >&2
    exit 2
fi
SAVED=$(mktemp -d) # one file per capped container: its quota before
watcher=

cap_containers() {
    local dir id quota period cap
    while :; do
        for dir in "$DOCKER_CG"/*/; do
            [ -f "$dir/cpu.cfs_quota_us" ] || continue
            id=$(basename "$dir")
            { read -r quota <"$dir/cpu.cfs_quota_us"; } 2>/dev/null || continue
            { read -r period <"$dir/cpu.cfs_period_us"; } 2>/dev/null || continue
            cap=$((QUOTA_US * period / PERIOD_US))
            if [ "$quota" = -1 ] || [ "$quota" -gt "$cap" ]; then
                [ -f "$SAVED/$id" ] || echo "$quota" >"$SAVED/$id"
                echo "$cap" >"$dir/cpu.cfs_quota_us" 2>/dev/null || true
            fi
        done
        sleep 0.2
    done
}

restore() {
    [ -z "$watcher" ] || { kill "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null || true; }
    local saved
    for saved in "$SAVED"/*; do
        [ -f "$saved" ] || continue
        if [ -d "$DOCKER_CG/$(basename "$saved")" ]; then
            cat "$saved" >"$DOCKER_CG/$(basename "$saved")/cpu.cfs_quota_us" 2>/dev/null || true
        fi
    done
    rm -rf "$SAVED"
    echo -1 >"$DOCKER_CG/cpu.cfs_quota_us" || true
    if [ -d "$SLOW" ]; then
        # A cgroup can only be removed once empty: move what is left of this run back to the root.
        while read -r pid; do echo "$pid" >"$CPU_ROOT/cgroup.procs" 2>/dev/null || true; done <"$SLOW/cgroup.procs"
        rmdir "$SLOW" || echo "slow_machine: could not remove $SLOW" >&2
    fi
}
child=
# A signal to this script goes on to the whole run (pytest, its workers, the servers they start), which
# then ends as it does on Ctrl-C; the EXIT trap restores the caps after it.
forward() {
    [ -n "$child" ] && kill "-$1" -- "-$child" 2>/dev/null && wait "$child" 2>/dev/null
    exit "$2"
}
trap restore EXIT
trap 'forward INT 130' INT
trap 'forward TERM 143' TERM
trap 'forward HUP 129' HUP

mkdir -p "$SLOW"
echo "$PERIOD_US" >"$SLOW/cpu.cfs_period_us"
echo "$QUOTA_US" >"$SLOW/cpu.cfs_quota_us"
cap_containers &
watcher=$!
echo "slow_machine: pytest and Docker containers capped at ${QUOTA_US}/${PERIOD_US} µs of CPU ($(date -u +%FT%TZ))"

start=$SECONDS
# The subshell moves itself into the capped cgroup before it starts pytest, so every process pytest
# starts is capped too; this shell stays outside to restore the caps. Job control (set -m) gives the run
# its own process group, with SIGINT not ignored as it would be for a background job without it.
status=0
set -m
(
    echo "$BASHPID" >"$SLOW/cgroup.procs"
    exec python3 -m pytest -n 2 --dist loadgroup "$@"
) &
child=$!
wait "$child" || status=$?
echo "slow_machine: pytest exited $status after $((SECONDS - start)) s ($(date -u +%FT%TZ))"
exit "$status"
