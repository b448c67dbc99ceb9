"""Users per speed grade of one laptop and of a pool of two, measured with `gpuless bench` in one run.

Starts two stand-in laptops (the test Ollama image, gpuless-test/ollama:local or $GPULESS_TEST_IMAGE, each
container limited to one CPU with four slots, on 127.0.0.1), each behind its own `gpuless share` gateway
(the nginx test image: A on 127.0.0.2, B on 127.0.0.3 with a key named "pool"), then pools B into A's
gateway (`gpuless pool add`). It runs the same `gpuless bench` concurrency sweep (chat shape, fixed levels)
against one member (B's share, with its pool key, which no per-key limit holds) and against the pool (A's
gateway, with A's admin key), alternating rounds so the drift of this shared machine falls on both, and
reports each run's users per grade and the ratio pooled ÷ one member (target ≥ 1.6).

A stand-in laptop on one shared CPU of this machine can be far below a real laptop's speed, so that no
level holds even grade C's 15 tok/s; the ratio is then also judged at a line scaled to this machine: half
of one member's single-stream speed in the first round (``--line`` sets it), with the rule
``gpuless bench`` uses for a grade (``toolkit.core.bench.concurrency.level_holds``: the slowest stream at or
above the line, no error, TTFT p95 within the limit). The two "laptops" share this machine's cores with
everything else running on it: the load average is printed at the start and the end, because two one-CPU
members on a busy two-core machine cannot both get their CPU, and the ratio then says so.

    python scripts/bench_pool.py [--rounds 2] [--levels 1,2,3,4,6,8] [--tokens 64] [--line TOK/S]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.ollama_server import IMAGE_TAG  # noqa: E402
from tests.pool.conftest import LAN_A, LAN_B, MODEL, start_laptop, stop_laptop  # noqa: E402
from toolkit.core.bench.concurrency import DEFAULT_TTFT_LIMIT_S  # noqa: E402
from toolkit.services import pool as pool_service  # noqa: E402

TARGET = 1.6
GATEWAY_IMAGE = os.environ.get("GPULESS_GATEWAY_IMAGE", "gpuless-test/gateway:local")
GRADES = (("C", "15"), ("B", "30"), ("A", "70"))


def bench(url: str, key: str, home: Path, levels: str, tokens: int) -> dict[str, Any]:
    """`gpuless join URL --key KEY` then `gpuless bench --json` in a data directory of its own."""
    env = {**os.environ, "GPULESS_DATA_DIR": str(home)}
    env.pop("GPULESS_OLLAMA_URL", None)
    command = [sys.executable, "-m", "toolkit"]
    subprocess.run([*command, "join", url, "--key", key], env=env, check=True, capture_output=True)
    args = ["--url", url, "--model", MODEL, "--shape", "chat", "--reps", "1", "--num-predict", str(tokens)]
    args += ["--concurrency", levels, "--no-history", "--max-seconds", "600", "--json"]
    done = subprocess.run([*command, "bench", *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench of {url} failed: {done.stderr.strip()[-500:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def level_lines(name: str, result: dict[str, Any]) -> list[str]:
    lines = []
    for row in result["concurrency"]:
        per = row.get("per_stream_tps") or {}
        lines.append(
            f"  {name:<6} {row['streams']:>2} streams: slowest {per.get('min', 0):5.1f} tok/s, "
            f"median {per.get('median', 0):5.1f}, total {row['aggregate_tps']:6.1f} tok/s, "
            f"TTFT p95 {row['ttft_p95_s'] or 0:5.2f} s, errors {row['errors']}"
        )
    return lines


def users_at(result: dict[str, Any], line: float) -> int:
    """The most streams a level held at ``line`` tok/s, by ``level_holds``'s rule."""
    held = 0
    for row in result["concurrency"]:
        per, ttft = row.get("per_stream_tps"), row.get("ttft_p95_s")
        if row["errors"] or per is None or ttft is None:
            continue
        if per["min"] >= line and ttft <= DEFAULT_TTFT_LIMIT_S:
            held = max(held, int(row["streams"]))
    return held


def single_speed(result: dict[str, Any]) -> float:
    rows = [row for row in result["concurrency"] if row["streams"] == 1 and row.get("per_stream_tps")]
    return float(rows[0]["per_stream_tps"]["median"]) if rows else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--levels", default="1,2,3,4,6,8")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--line", type=float, help="tok/s line for the scaled comparison")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench-pool.txt")
    args = parser.parse_args()
    image = os.environ.get("GPULESS_TEST_IMAGE", IMAGE_TAG)
    lines: list[str] = []

    def out(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    work = Path(tempfile.mkdtemp(prefix="gpuless-bench-pool-"))
    b = start_laptop(image, GATEWAY_IMAGE, work / "b", LAN_B, ["pool"])
    try:
        a = start_laptop(image, GATEWAY_IMAGE, work / "a", LAN_A, [])
        try:
            pool_service.add(a.settings, b.url, b.keys["pool"].secret)
            targets = {"one": (b.url, b.keys["pool"].secret), "pool": (a.url, a.keys["admin"].secret)}
            out("pooled capacity: `gpuless bench` of one stand-in laptop and of a pool of two, one run")
            out(f"model {MODEL}; each member a container of {image} limited to 1 CPU, OLLAMA_NUM_PARALLEL=4;")
            out(f"gateways {GATEWAY_IMAGE}; chat shape, {args.tokens} tokens, levels {args.levels}, "
                f"{args.rounds} rounds alternating")  # fmt: skip
            load = os.getloadavg()[0]
            out(f"load average at start {load:.2f} on {os.cpu_count()} CPUs (the machine is shared)")
            users: dict[str, list[dict[str, int]]] = {"one": [], "pool": []}
            results: dict[str, list[dict[str, Any]]] = {"one": [], "pool": []}
            for round_ in range(args.rounds):
                order = ["one", "pool"] if round_ % 2 == 0 else ["pool", "one"]
                for name in order:
                    url, key = targets[name]
                    result = bench(url, key, work / f"home-{name}-{round_}", args.levels, args.tokens)
                    held = {letter: int(result["users_per_grade"].get(line, 0)) for letter, line in GRADES}
                    users[name].append(held)
                    results[name].append(result)
                    out(f"round {round_ + 1} {name}: users per grade {held}")
                    for line in level_lines(name, result):
                        out(line)
            out(f"load average at end {os.getloadavg()[0]:.2f}")
            out()
            line = args.line or round(single_speed(results["one"][0]) / 2, 1)
            scaled = {name: [users_at(r, line) for r in results[name]] for name in results}
            one_s, pool_s = statistics.median(scaled["one"]), statistics.median(scaled["pool"])
            ratio_s = f"{pool_s / one_s:.2f}" if one_s else "n/a (one member holds none)"
            out(f"line {line:g} tok/s (this machine's stand-in for a grade), users per round: "
                f"one member {scaled['one']}, pool {scaled['pool']}")  # fmt: skip
            out(f"  ratio of the medians {ratio_s} (target ≥ {TARGET})")
            for letter, _ in GRADES:
                one = statistics.median(r[letter] for r in users["one"])
                pooled = statistics.median(r[letter] for r in users["pool"])
                ratio = f"{pooled / one:.2f}" if one else "n/a (one member holds none)"
                out(f"grade {letter}: one member {one:g} users, pool {pooled:g} users, ratio {ratio} "
                    f"(target ≥ {TARGET}; medians of the rounds)")  # fmt: skip
        finally:
            stop_laptop(a)
    finally:
        stop_laptop(b)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"(written to {args.out})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
