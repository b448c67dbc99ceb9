"""Benchmark report for this machine against the real llama.cpp test engine (both models).

Starts the Ollama-API test server (tests/ollama_server) in its own process on a free loopback port with
OLLAMA_NUM_PARALLEL=4, then for smollm2:135m and gemma3:270m prints: tokens/s per prompt shape, the
concurrency table with users per speed grade and the NUM_PARALLEL to use, predicted vs measured with
the error in percent (predicted as `gpuless bench` predicts: the catalog's geometry with the size and
quantisation of the file the server really has), the client-vs-llama.cpp decode-rate agreement, and the
benchmark client's own CPU use (process CPU time ÷ wall time while one stream runs; the server is another
process).

    python scripts/bench_report.py [--reps 5] [--num-predict 128] [--out docs/bench-report.txt]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.ollama_server import MODEL_NAMES  # noqa: E402
from tests.ollama_server.fixtures import engine_missing, start_server  # noqa: E402
from tests.ollama_server.registry import default_registry_dir  # noqa: E402
from toolkit.adapters.bench.runner import BenchRunner  # noqa: E402
from toolkit.adapters.machine.probes import detect_machine  # noqa: E402
from toolkit.adapters.ollama.client import OllamaClient, Recorder  # noqa: E402
from toolkit.adapters.resources import load_catalog  # noqa: E402
from toolkit.cli.render_bench import format_result  # noqa: E402
from toolkit.core.bench.config import BenchConfig  # noqa: E402
from toolkit.core.bench.metrics import request_metrics  # noqa: E402
from toolkit.settings import Settings  # noqa: E402


async def client_cpu(url: str, model: str, num_predict: int) -> tuple[float, float, float, float]:
    """(client CPU % of one core, client decode tok/s, server decode tok/s, wall s) over one stream."""
    async with OllamaClient(url) as client:
        messages = [
            {"role": "system", "content": f"Request cpu-{time.time_ns()}."},
            {"role": "user", "content": "Tell a long story about a lighthouse keeper."},
        ]
        options = {"temperature": 0, "seed": 42, "num_predict": num_predict}
        cpu0, wall0 = time.process_time(), time.perf_counter()
        trace = await Recorder(wall0).consume(client.stream_chat(model, messages, options=options))
        cpu1, wall1 = time.process_time(), time.perf_counter()
    metrics = request_metrics(trace)
    wall = wall1 - wall0
    return (
        (cpu1 - cpu0) / wall * 100.0,
        metrics.client_decode_tps or 0.0,
        metrics.server_decode_tps or 0.0,
        wall,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--num-predict", type=int, default=128)
    parser.add_argument("--concurrency", default="1,2,4")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench-report.txt")
    args = parser.parse_args()
    reason = engine_missing()
    if reason:
        print(f"bench_report: {reason}", file=sys.stderr)
        return 1

    lines: list[str] = []

    def out(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    machine = detect_machine(docker=False, cache_dir=Settings().cache_dir)
    catalog = load_catalog()
    load1, load5, _ = os.getloadavg()
    out("gpuless benchmark report")
    cpu_info = machine.cpu
    out(f"machine: {cpu_info.model}, {cpu_info.physical_cores} cores / {cpu_info.logical_cores} threads,")
    gib = machine.memory.total_bytes / 1024**3
    out(f"         {gib:.1f} GiB, {machine.os_release}, Python {platform.python_version()}")
    bw = machine.bandwidth
    out(f"bandwidth: {bw.gbps:.1f} GB/s ({bw.source})" if bw else "bandwidth: not measured")
    out(f"load average at start: {load1:.2f} (1 min), {load5:.2f} (5 min) — the machine is shared")
    out("engine: tests/ollama_server (Ollama API over llama.cpp/xllamacpp), OLLAMA_NUM_PARALLEL=4, loopback")
    out(
        f"method: warm-up excluded, {args.reps} reps, num_predict {args.num_predict}, temperature 0, seed 42,"
    )
    out("        unique nonce per prompt, shapes chat (~45 tokens) and document (~1k tokens)")

    levels = tuple(int(x) for x in args.concurrency.split(",") if x)
    with tempfile.TemporaryDirectory(prefix="gpuless-bench-") as work:
        server = start_server(Path(work), {"OLLAMA_NUM_PARALLEL": "4"}, MODEL_NAMES, default_registry_dir())
        try:
            summary: list[str] = []
            for model in MODEL_NAMES:
                out()
                out(f"=== {model} " + "=" * 60)
                config = BenchConfig(
                    model=model,
                    url=server.url,
                    reps=args.reps,
                    num_predict=args.num_predict,
                    concurrency=levels,
                    max_seconds=1500,
                )
                progress = lambda line: print(f"  {line}", file=sys.stderr, flush=True)  # noqa: E731
                # The catalog, as `gpuless bench` passes it: its geometry with the server's own file.
                runner = BenchRunner(config, machine=machine, catalog=catalog, progress=progress)
                result = asyncio.run(runner.run())
                for line in format_result(result):
                    out(line)
                chat = result.shapes[0]
                if chat.client_decode_tps and chat.server_decode_tps:
                    diff = (chat.client_decode_tps.median / chat.server_decode_tps.median - 1) * 100
                    out(
                        f"client vs llama.cpp decode rate (chat median): {chat.client_decode_tps.median:.1f}"
                        f" vs {chat.server_decode_tps.median:.1f} tok/s ({diff:+.1f}%)"
                    )
                    summary.append(
                        f"{model}: {chat.client_decode_tps.median:.1f} tok/s decode (chat, median)"
                    )
            out()
            out("=== benchmark client CPU use " + "=" * 45)
            cpu, client_tps, server_tps, wall = asyncio.run(client_cpu(server.url, MODEL_NAMES[0], 512))
            out(
                f"{MODEL_NAMES[0]}, 512 tokens in {wall:.1f} s at {client_tps:.1f} tok/s"
                f" (llama.cpp: {server_tps:.1f}): client used {cpu:.2f}% of one core (target < 5%)"
            )
            out(f"scaled to 120 tok/s: {cpu * 120 / client_tps:.2f}% of one core" if client_tps else "")
            out()
            out("summary: " + "; ".join(summary))
        finally:
            server.stop()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"(written to {args.out})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
