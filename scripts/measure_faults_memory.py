"""Peak memory and time of gpuless against damaged input: the bounds of issue 20 items 9 and 10, measured.

Why: before the guarded seam, ``gpuless up --url`` against a server whose body never ends grew to 19 GB
(the admin calls read it whole with plain httpx), and a YAML alias bomb in compose.yaml took gigabytes
and then "internal error: MemoryError". Now the body is capped (``linestream.MAX_BODY``, 32 MiB) and the
YAML is composed and counted before it is expanded (``core/compose/yaml_budget.py``). This runs each case as a
user runs it (``python -m toolkit``, a subprocess), reads the child's peak RSS from ``wait4`` and prints
it beside a well-behaved baseline, the exit code and the one line the user sees.

Usage: ``python3 scripts/measure_faults_memory.py``. Linux or macOS; loopback only (the fault server of
``tests/faults``); each case is stopped after 120 s (a hang is reported as one).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.faults.server import FaultServer

_LEVELS = zip("abcdefgh", "bcdefghi", strict=True)
#: Nine levels of nine aliases: 9**9 (387 million) strings once expanded, in an unused x- block.
BOMB = (
    "x-bomb:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(f"  {c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in _LEVELS)
    + "services:\n  ollama:\n    image: ollama/ollama\n"
)
LIMIT_S = 120


def run(args: list[str], cwd: Path) -> tuple[int | None, float, float, str]:
    """(exit code or None for a hang, peak RSS in MiB, seconds, the first ``gpuless:`` line)."""
    env = {**os.environ, "GPULESS_DATA_DIR": str(cwd / "data"), "GPULESS_CACHE_DIR": str(cwd / "cache")}
    env.pop("GPULESS_OLLAMA_URL", None)
    started = time.monotonic()
    with open(cwd / "stderr.txt", "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "toolkit", *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err
        )
        code: int | None = None
        while time.monotonic() - started < LIMIT_S:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                code = os.waitstatus_to_exitcode(status)
                break
            time.sleep(0.05)
        else:
            proc.kill()
            _, _, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - started
    # ru_maxrss: KiB on Linux, bytes on macOS.
    peak = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    lines = (cwd / "stderr.txt").read_text(errors="replace").splitlines()
    said = next((line for line in lines if line.startswith("gpuless:")), "")
    return code, peak, seconds, said


def main() -> None:
    rows: list[tuple[str, int | None, float, float, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        cases = (("none", "up --url, a well-behaved server (baseline)"),
                 ("endless", "up --url, a body that never ends"),
                 ("trickle_all", "up --url, a server that trickles one byte per 0.5 s"))  # fmt: skip
        for fault, label in cases:
            with FaultServer(fault) as server:
                rows.append((label, *run(["up", "--url", server.url], cwd)))
        (cwd / "compose.yaml").write_text("services:\n  ollama:\n    image: ollama/ollama\n")
        rows.append(("up, a small compose.yaml without gpuless's label (baseline)", *run(["up"], cwd)))
        (cwd / "compose.yaml").write_text(BOMB)
        rows.append((f"up, a {len(BOMB)}-byte YAML alias bomb (9^9 values) in x-bomb", *run(["up"], cwd)))
    print(f"gpuless against damaged input (peak RSS of the command, {os.cpu_count()} CPUs)")
    print(f"{'case':<66} {'exit':>4} {'peak MiB':>9} {'seconds':>8}")
    for label, code, peak, seconds, said in rows:
        shown = "hang" if code is None else str(code)
        print(f"{label:<66} {shown:>4} {peak:>9.1f} {seconds:>8.1f}")
        print(f"    {said[:150] or '(no error line)'}")


if __name__ == "__main__":
    main()
