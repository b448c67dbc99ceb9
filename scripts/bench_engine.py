#!/usr/bin/env python3
"""Token rate of each real model through the Ollama-API test server on loopback.

Starts the test server (tests/ollama_server) on a free 127.0.0.1 port, pulls smollm2:135m and
gemma3:270m, and for each model runs a warm-up plus N streamed generations with unique prompts. Prints
the server-reported decode rate (eval_count / eval_duration, Ollama's formula), the prompt rate, and the
client-measured rate (tokens after the first / time between first and last token) and TTFT, as medians.

    python3 scripts/bench_engine.py [--runs 3] [--tokens 128]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ollama

from tests.ollama_server import MODEL_NAMES
from tests.ollama_server.fixtures import engine_missing, start_server
from tests.ollama_server.registry import default_registry_dir


def bench(client: ollama.Client, model: str, runs: int, tokens: int) -> dict[str, float]:
    client.generate(model, "", keep_alive="10m")  # load outside the measurement
    server_rates, prompt_rates, client_rates, ttfts = [], [], [], []
    for i in range(runs):
        prompt = f"[{time.time_ns()}-{i}] Write a detailed story about a lighthouse keeper."
        start = time.perf_counter()
        first = last = 0.0
        count = 0
        final = None
        for part in client.generate(model, prompt, stream=True, options={"num_predict": tokens, "seed": i}):
            now = time.perf_counter()
            if part.response:
                count += 1
                first = first or now
                last = now
            if part.done:
                final = part
        assert final is not None and final.eval_count and final.eval_duration and final.prompt_eval_duration
        server_rates.append(final.eval_count / final.eval_duration * 1e9)
        prompt_rates.append((final.prompt_eval_count or 0) / final.prompt_eval_duration * 1e9)
        if count > 1 and last > first:
            client_rates.append((count - 1) / (last - first))
        ttfts.append(first - start)
    return {
        "server_tok_s": statistics.median(server_rates),
        "prompt_tok_s": statistics.median(prompt_rates),
        "client_tok_s": statistics.median(client_rates) if client_rates else 0.0,
        "ttft_s": statistics.median(ttfts),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=128)
    args = parser.parse_args()
    reason = engine_missing()
    if reason:
        print(f"error: {reason}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        handle = start_server(Path(tmp), registry_dir=default_registry_dir())
        try:
            client = ollama.Client(host=handle.url, timeout=600)
            print(
                f"# engine benchmark: {platform.node()} {platform.machine()}, "
                f"{len(os.sched_getaffinity(0))} CPUs, runs={args.runs}, num_predict={args.tokens}, "
                f"load average at start {os.getloadavg()[0]:.2f} (other work on the machine slows llama.cpp)"
            )
            print(
                f"{'model':<16}{'decode tok/s (server)':>24}{'decode tok/s (client)':>24}"
                f"{'prompt tok/s':>15}{'TTFT s':>9}"
            )
            for model in MODEL_NAMES:
                r = bench(client, model, args.runs, args.tokens)
                print(
                    f"{model:<16}{r['server_tok_s']:>24.1f}{r['client_tok_s']:>24.1f}"
                    f"{r['prompt_tok_s']:>15.1f}{r['ttft_s']:>9.3f}"
                )
        finally:
            handle.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
