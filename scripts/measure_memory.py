"""Measure the resident memory of real llama.cpp (xllamacpp) for the two test models, split into parts.

Why: ``core.estimate.estimator`` predicts memory as weights + KV cache + compute buffer + runtime. This script
loads each model the way the test server does (``tests/ollama_server/runner.py``: xllamacpp defaults, one
slot) at several context lengths, sends one short request, and reads ``/proc/self/status`` of the process:
``RssFile`` is the mapped GGUF (weights), ``RssAnon`` everything llama.cpp allocated (KV cache, compute
buffer, its runtime) plus the Python interpreter. The interpreter's own share is read before the model is
loaded and reported separately: an Ollama runner is a Go + C++ process, not Python.

Usage: ``python3 scripts/measure_memory.py [--json]``. Linux only; loopback only; about 30 s on 2 cores.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CONTEXTS = (1024, 4096, 8192)
#: A chat-sized prompt and a ~500-token one: the compute buffer is touched (made resident) by what a
#: batch really uses, so a longer prompt makes more of it resident.
PROMPTS = {"short": "Tell me about the sea.", "long": "Tell me about the sea and its tides. " * 60}
MIB = 1024**2


def _status() -> dict[str, int]:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
            fields[key] = int(value.split()[0]) * 1024
    return fields


def _child(model: str, n_ctx: int, prompt: str) -> None:
    import urllib.request

    import xllamacpp

    before = _status()
    params = xllamacpp.CommonParams()
    params.model.path = model
    params.n_ctx = n_ctx
    params.n_parallel = 1
    params.port = 0
    params.hostnames = ["127.0.0.1"]
    server = xllamacpp.Server(params)
    loaded = _status()
    body = json.dumps({"prompt": PROMPTS[prompt], "n_predict": 16}).encode()
    request = urllib.request.Request(
        f"{server.listening_address}/completion", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=120) as answer:  # loopback only
        answer.read()
    after = _status()
    print(json.dumps({"before": before, "loaded": loaded, "after": after}))
    del server


def measure() -> list[dict[str, object]]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.ollama_server.registry import pypi_sources

    rows = []
    for name, path in pypi_sources().items():
        for n_ctx, prompt in [(n, "short") for n in CONTEXTS] + [(4096, "long")]:
            done = subprocess.run(
                [sys.executable, __file__, "--child", str(path), str(n_ctx), prompt],
                capture_output=True,
                text=True,
                timeout=300,
                check=True,
            )
            data = json.loads(done.stdout.strip().splitlines()[-1])
            after, before = data["after"], data["before"]
            rows.append(
                {
                    "model": name,
                    "file_bytes": path.stat().st_size,
                    "n_ctx": n_ctx,
                    "prompt": prompt,
                    "rss_bytes": after["VmRSS"] - before["VmRSS"],
                    "file_rss_bytes": after["RssFile"] - before["RssFile"],
                    "anon_rss_bytes": after["RssAnon"] - before["RssAnon"],
                    "python_baseline_bytes": before["VmRSS"],
                }
            )
    return rows


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        _child(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return
    rows = measure()
    if "--json" in sys.argv:
        print(json.dumps(rows, indent=2))
        return
    header = ("RSS MiB", "file MiB", "anon MiB", "GGUF MiB")
    print(f"{'model':14} {'n_ctx':>6} {'prompt':>6} " + " ".join(f"{h:>9}" for h in header))
    for row in rows:
        print(
            f"{row['model']:14} {row['n_ctx']:>6} {row['prompt']:>6} {row['rss_bytes'] / MIB:9.1f} "  # type: ignore[operator]
            f"{row['file_rss_bytes'] / MIB:9.1f} {row['anon_rss_bytes'] / MIB:9.1f} "  # type: ignore[operator]
            f"{row['file_bytes'] / MIB:9.1f}"  # type: ignore[operator]
        )
    print(
        f"(Python + xllamacpp before loading: {rows[0]['python_baseline_bytes'] / MIB:.0f} MiB, not counted)"
    )  # type: ignore[operator]


if __name__ == "__main__":
    main()
