"""TTFT and decode speed straight to Ollama and through the `gpuless share` gateway, measured in one run.

Starts the Ollama-API test server (tests/ollama_server, real llama.cpp) on 127.0.0.1 and the gateway
(the nginx test image, gpuless-test/gateway:local or $GPULESS_GATEWAY_IMAGE) on 127.0.0.2 in front of it,
then sends the same streamed chat alternately to each (the order swaps every round, so drift on this shared
machine falls on both), each on a fresh connection with a prompt of its own (no prompt-cache hit). TTFT is
the time to the first chunk with content; decode speed is the chunks after the first over the time from the
first to the last. Each ratio (gateway ÷ direct
for tokens/s, direct ÷ gateway for TTFT; the median over rounds of the two back-to-back requests' ratio)
should be ≥ 0.95: the gateway costs less than 5 %.

The test server sets TCP_NODELAY on every connection, as real Ollama does (Go's net package sets it on
each TCP connection: newTCPConn in src/net/tcpsock.go; tests/ollama_server/api.py ``Handler``), so
streamed chunks do not wait on Nagle and the reader's delayed ACK on either path.

    python scripts/bench_gateway.py [--rounds 20] [--tokens 40] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.ollama_server.fixtures import engine_missing, free_port, start_server  # noqa: E402
from tests.ollama_server.registry import default_registry_dir  # noqa: E402
from toolkit.services import share as service  # noqa: E402
from toolkit.settings import Settings  # noqa: E402

TARGET = 0.95


def one_chat(url: str, model: str, tokens: int, key: str | None, nonce: str) -> tuple[float, float]:
    """(TTFT s, decode tokens/s) of one streamed chat on a new connection."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    body = {
        "model": model,
        "messages": [{"role": "user", "content": f"[{nonce}] Write a short story about a lighthouse."}],
        "stream": True,
        "options": {"num_predict": tokens, "temperature": 0, "seed": 1},
    }
    t0 = time.perf_counter()
    stamps: list[float] = []
    with (
        httpx.Client(trust_env=False, timeout=120) as client,
        client.stream("POST", f"{url}/api/chat", json=body, headers=headers) as response,
    ):
        response.raise_for_status()
        for line in response.iter_lines():
            chunk = json.loads(line)
            if chunk.get("message", {}).get("content"):
                stamps.append(time.perf_counter())
    if len(stamps) < 3:
        raise RuntimeError(f"only {len(stamps)} content chunks from {url}")
    return stamps[0] - t0, (len(stamps) - 1) / (stamps[-1] - stamps[0])


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so the finally blocks remove the gateway and stop the server


def main() -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2:135m")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--tokens", type=int, default=40)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench-gateway.txt")
    args = parser.parse_args()
    reason = engine_missing()
    if reason:
        print(f"bench_gateway: {reason}", file=sys.stderr)
        return 1
    image = os.environ.get("GPULESS_GATEWAY_IMAGE", "gpuless-test/gateway:local")
    lines: list[str] = []

    def out(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    results: dict[str, list[tuple[float, float]]] = {"direct": [], "gateway": []}
    with tempfile.TemporaryDirectory(prefix="gpuless-bench-gateway-") as work:
        env = {"OLLAMA_NUM_PARALLEL": "1"}
        server = start_server(Path(work), env, (args.model,), default_registry_dir())
        settings = Settings(
            data_dir=Path(work) / "data",
            ollama_url=server.url,
            gateway_image=image,
            gateway_container_name=f"gpuless-bench-gateway-{uuid.uuid4().hex[:8]}",
        )
        try:
            outcome = service.share(settings, listen=f"127.0.0.2:{free_port()}", max_streams=4)
            assert outcome.listen is not None
            targets = {
                "direct": (server.url, None),
                "gateway": (outcome.listen.url, outcome.new_keys[0].secret),
            }
            load1, _, _ = os.getloadavg()
            out("gateway overhead: the same streamed chat straight to Ollama and through the gateway (nginx)")
            out(f"model {args.model}, {args.tokens} tokens, {args.rounds} rounds, order alternating;")
            out(f"nginx image {image}; load average at start {load1:.2f} (the machine is shared)")
            out("test server with TCP_NODELAY, as Go sets it")
            one_chat(server.url, args.model, 8, None, "warm-up")  # load the model: not measured
            for round_ in range(args.rounds):
                order = ("direct", "gateway") if round_ % 2 == 0 else ("gateway", "direct")
                for name in order:
                    url, key = targets[name]
                    results[name].append(one_chat(url, args.model, args.tokens, key, f"{round_}-{name}"))
                    ttft, speed = results[name][-1]
                    out(f"round {round_ + 1} {name}: TTFT {ttft * 1000:.0f} ms, {speed:.1f} tok/s")
        finally:
            service.stop(settings)
            server.stop()
    out()
    out(f"{'':10}{'TTFT median':>14}{'TTFT p90':>12}{'decode tok/s median':>22}")
    medians: dict[str, tuple[float, float]] = {}
    for name, samples in results.items():
        ttfts = sorted(t for t, _ in samples)
        speeds = [s for _, s in samples]
        p90 = ttfts[min(len(ttfts) - 1, int(0.9 * len(ttfts)))]
        medians[name] = (statistics.median(ttfts), statistics.median(speeds))
        out(f"{name:10}{medians[name][0] * 1000:>11.1f} ms{p90 * 1000:>9.1f} ms{medians[name][1]:>22.1f}")
    # Each round's two requests ran back to back, so their ratio cancels the drift of a shared machine;
    # the verdict is the median of those paired ratios.
    pairs = list(zip(results["direct"], results["gateway"], strict=True))
    ttft_ratio = statistics.median(d[0] / g[0] for d, g in pairs)
    speed_ratio = statistics.median(g[1] / d[1] for d, g in pairs)
    out()
    ratios = (("TTFT ratio (direct ÷ gateway)", ttft_ratio), ("decode ratio (gateway ÷ direct)", speed_ratio))
    for label, ratio in ratios:
        out(f"{label:<34}{ratio:.3f}  ({'≥' if ratio >= TARGET else '<'} {TARGET}; median of the rounds)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"(written to {args.out})", file=sys.stderr)
    return 0 if min(ttft_ratio, speed_ratio) >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
