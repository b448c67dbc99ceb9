"""`gpuless tune` on this machine: four users, then one, on the stand-in container (issue 10).

Writes compose.yaml with `gpuless compose --model smollm2:135m` (NUM_PARALLEL=1, gpuless's defaults) in
a temporary directory, starts it with `gpuless up`, runs `gpuless tune --users 4 --json` as a user
would (a subprocess; its progress lines are printed as they come), and prints before → after with the
targets of the issue: TTFT p95 at 4 streams ≤ 1/4 of the start's, aggregate tok/s no lower, inside
the budget. Then `gpuless tune --users 1` from there, and the single-user decode rate measured again
after it (3 requests) next to the tune's figure for the start. The container and its volume are
removed at the end (docker-py, by name), whatever happens.

The machine is shared: the script waits (at most --wait seconds) for a 1-minute load average under
--max-load before each tune and prints `uptime` with every result.

    python scripts/tune_demo.py [--cpus N] [--budget 180] [--out docs/tune-report.txt]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.ollama_server import IMAGE_TAG  # noqa: E402
from tests.ollama_server.fixtures import free_port  # noqa: E402
from toolkit.adapters.tune.tuner import _measure  # noqa: E402
from toolkit.core.tune.knobs import Knobs  # noqa: E402

MODEL = "smollm2:135m"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpus", help="--cpus for `gpuless compose` (default: gpuless's own choice)")
    parser.add_argument("--budget", type=float, default=180.0)
    parser.add_argument("--max-load", type=float, default=2.5)
    parser.add_argument("--wait", type=float, default=600.0)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "tune-report.txt")
    args = parser.parse_args()
    lines: list[str] = []

    def out(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    def uptime() -> str:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()

    def quiet() -> None:
        deadline = time.monotonic() + args.wait
        while os.getloadavg()[0] >= args.max_load and time.monotonic() < deadline:
            time.sleep(10)
        load = os.getloadavg()[0]
        note = "" if load < args.max_load else f" (still ≥ {args.max_load} after waiting {args.wait:.0f} s)"
        out(f"uptime: {uptime()}{note}")

    with tempfile.TemporaryDirectory(prefix="gpuless-tune-demo-") as work:
        name = f"gpuless-tune-demo-{uuid.uuid4().hex[:8]}"
        port = free_port()
        env = {
            **os.environ,
            "GPULESS_IMAGE": IMAGE_TAG,
            "GPULESS_CONTAINER_NAME": name,
            "GPULESS_VOLUME_NAME": f"{name}-models",
            "GPULESS_DATA_DIR": str(Path(work) / "data"),
            "GPULESS_CACHE_DIR": str(Path(work) / "cache"),
            "NO_COLOR": "1",
        }

        def gpuless(*argv: str, live: bool = False) -> tuple[subprocess.CompletedProcess[str], float]:
            t0 = time.monotonic()
            command = [sys.executable, "-m", "toolkit", *argv]
            if not live:
                done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
                return done, time.monotonic() - t0
            proc = subprocess.Popen(
                command, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            assert proc.stderr is not None
            for line in proc.stderr:
                out("  | " + line.rstrip())
            stdout = proc.stdout.read() if proc.stdout else ""
            proc.wait()
            return subprocess.CompletedProcess(command, proc.returncode, stdout, ""), time.monotonic() - t0

        compose = ["compose", "--model", MODEL, "--port", str(port)]
        if args.cpus:
            compose += ["--cpus", args.cpus]
        out(f"`gpuless tune` demo: {MODEL} on the stand-in image {IMAGE_TAG}, this machine (2 cores, shared)")
        out("$ gpuless " + " ".join(compose).replace(str(port), "PORT"))
        try:
            done, _ = gpuless(*compose)
            if done.returncode != 0:
                out(done.stderr.strip())
                return 1
            text = (Path(work) / "compose.yaml").read_text()
            for key in ("OLLAMA_NUM_PARALLEL", "OLLAMA_FLASH_ATTENTION", "cpus:"):
                out("  compose.yaml: " + next(ln.strip() for ln in text.splitlines() if key in ln))
            done, seconds = gpuless("up", "--no-pull", "--timeout", "120")
            if done.returncode != 0:
                out(done.stderr.strip())
                return 1
            out(f"$ gpuless up  ({seconds:.0f} s)")
            ok_users = _tune_users(args, out, quiet, gpuless)
            ok_single = _tune_single(args, out, quiet, gpuless, f"http://127.0.0.1:{port}")
        finally:
            _remove(name)
    out()
    out(f"targets met: 4 users {'yes' if ok_users else 'NO'}; single user {'yes' if ok_single else 'NO'}")
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")
    return 0 if ok_users and ok_single else 1


def _remove(name: str) -> None:
    """The demo's container and volume, removed by name through docker-py (whatever state gpuless is in)."""
    import docker

    client = docker.from_env()
    for container in client.containers.list(all=True, filters={"name": name}):
        container.remove(force=True)
    for volume in client.volumes.list(filters={"name": name}):
        volume.remove(force=True)


def _table(out: Any, payload: dict[str, Any]) -> None:
    out(f"  {'':26}{'before':>10}{'after':>10}{'after/before':>14}")
    for row in payload["before_after"]:
        before = "-" if row["before"] is None else f"{row['before']:.2f}"
        after = "-" if row["after"] is None else f"{row['after']:.2f}"
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}x"
        out(f"  {row['metric']:26}{before:>10}{after:>10}{ratio:>14}")


def _candidates(out: Any, payload: dict[str, Any]) -> None:
    for trial in [payload["start"], *payload["candidates"]]:
        runs = trial["runs"]
        figures = "; ".join(
            f"TTFT p95 {r['ttft_p95_s']:.2f} s, {r['aggregate_tps']:.1f} tok/s total,"
            f" {r['decode_tps']:.1f} per stream"
            for r in runs
        )
        out(f"  {trial['label']}: {trial['error'] or figures}")


def _tune_users(args: Any, out: Any, quiet: Any, gpuless: Any) -> bool:
    out()
    out(f"$ gpuless tune --users 4 --budget {args.budget:.0f} --json")
    quiet()
    done, wall = gpuless("tune", "--users", "4", "--budget", f"{args.budget:.0f}", "--json", live=True)
    out(f"exit {done.returncode}, wall time {wall:.1f} s (budget {args.budget:.0f} s)")
    out(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    if done.returncode != 0:
        return False
    payload = json.loads(done.stdout)
    out("every configuration measured (4 simultaneous streams):")
    _candidates(out, payload)
    out(f"result: {payload['reason']}")
    if payload["winner"] is None:
        return False
    _table(out, payload)
    rows = {row["metric"]: row for row in payload["before_after"]}
    ttft, agg = rows["TTFT p95 s"], rows["aggregate tok/s"]
    ttft_ok = ttft["ratio"] is not None and ttft["ratio"] <= 0.25
    agg_ok = agg["ratio"] is not None and agg["ratio"] >= 1.0
    budget_ok = wall <= args.budget
    out(
        f"TTFT p95 at 4 streams: {ttft['ratio']:.2f}x the start's"
        f" (target ≤ 0.25: {'met' if ttft_ok else 'NOT met'});"
        f" aggregate tok/s {agg['ratio']:.2f}x (target ≥ 1: {'met' if agg_ok else 'NOT met'});"
        f" {wall:.0f} s of {args.budget:.0f} s ({'inside' if budget_ok else 'OVER'} the budget)"
    )
    verify = payload["verify"]["counts"]
    out(f"written to compose.yaml (backup {Path(payload['backup']).name}); verify: {verify}")
    return ttft_ok and agg_ok and budget_ok


def _tune_single(args: Any, out: Any, quiet: Any, gpuless: Any, url: str) -> bool:
    out()
    out(f"$ gpuless tune --users 1 --budget {args.budget:.0f} --json   (from the 4-user result)")
    quiet()
    done, wall = gpuless("tune", "--users", "1", "--budget", f"{args.budget:.0f}", "--json", live=True)
    out(f"exit {done.returncode}, wall time {wall:.1f} s (budget {args.budget:.0f} s)")
    if done.returncode != 0:
        return False
    payload = json.loads(done.stdout)
    out("every configuration measured (1 stream):")
    _candidates(out, payload)
    out(f"result: {payload['reason']}")
    start_runs = payload["start"]["runs"]
    start = sum(r["decode_tps"] for r in start_runs) / len(start_runs)
    knobs = Knobs(**payload["winner"]["knobs"]) if payload["winner"] else Knobs(**payload["start"]["knobs"])
    again = asyncio.run(_measure(url, f"{MODEL}-gpuless", 1, 3, 48, knobs, 120.0))
    spread = payload["spread"] or 0.0
    ok = bool(again.decode_tps >= start * (1 - spread) and wall <= args.budget)
    out(
        f"single-user decode measured again after the tune (3 requests): {again.decode_tps:.1f} tok/s;"
        f" the start measured {start:.1f} tok/s (spread {spread:.0%}): "
        f"{'no worse than the start' if ok else 'WORSE than the start'}"
    )
    out(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    return ok


if __name__ == "__main__":
    sys.exit(main())
