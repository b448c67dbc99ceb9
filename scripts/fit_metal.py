"""Fit the native-Ollama (Metal) estimate on published Apple GPU measurements; report the held-out error.

Reads tests/data/published_metal_speeds.toml (cited llama-bench and Ollama figures per chip), splits the
points into a fit half and a held-out half by a CRC32 of each point's id (as scripts/bench_estimator.py
does for the CPU points, so adding a point never reshuffles the others), fits on the fit half

- the decode bandwidth share η and the per-step overhead (a grid minimising the median
  |log(predicted / published)| of the decode points),
- the prefill share of the GPU's FP32 rate (the median published ÷ predicted at a share of 1),

then prints predicted vs published for both halves under the shipped constants of
``toolkit.core.estimate.metal`` and under the fresh fit, and the median |pred/pub − 1| of each. Nothing is
measured here; the output is docs/metal-fit.txt.

    python scripts/fit_metal.py [--out docs/metal-fit.txt]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import published_points  # noqa: E402
from toolkit.core.catalog.model import ModelSpec, QuantVariant  # noqa: E402
from toolkit.core.estimate import metal  # noqa: E402

DATA = ROOT / "tests" / "data" / "published_metal_speeds.toml"
GIB = 1024**3


@dataclass(frozen=True)
class Point:
    id: str
    source: str
    chip: metal.AppleChip
    gpu_cores: int
    model: ModelSpec
    variant: QuantVariant
    decode_depth: int | None
    prompt_tokens: int
    decode_tps: float | None
    prefill_tps: float | None
    held_out: bool


def load_points(path: Path = DATA) -> list[Point]:
    models, raw_points = published_points.read(path)
    points = []
    for raw in raw_points:
        geo = models[raw["model"]]
        points.append(
            Point(
                id=raw["id"],
                source=raw["source"],
                chip=metal.APPLE_CHIPS[raw["chip"]],
                gpu_cores=raw["gpu_cores"],
                model=published_points.model_spec(raw["model"], geo),
                variant=published_points.variant(
                    raw["id"], raw["quant"], round(raw["size_gib"] * GIB), geo["params"]
                ),
                decode_depth=raw.get("decode_depth"),
                prompt_tokens=raw.get("prompt_tokens", 512),
                decode_tps=raw.get("decode_tps"),
                prefill_tps=raw.get("prefill_tps"),
                held_out=published_points.held_out(raw["id"]),
            )
        )
    return points


@dataclass(frozen=True)
class Constants:
    eta: float
    overhead_s: float
    prefill_eta: float


SHIPPED = Constants(metal.METAL_DECODE_ETA, metal.METAL_STEP_OVERHEAD_S, metal.METAL_PREFILL_ETA)


def predict(point: Point, c: Constants) -> metal.MetalEstimate:
    with (
        mock.patch.object(metal, "METAL_DECODE_ETA", c.eta),
        mock.patch.object(metal, "METAL_STEP_OVERHEAD_S", c.overhead_s),
        mock.patch.object(metal, "METAL_PREFILL_ETA", c.prefill_eta),
    ):
        return metal.metal_estimate(
            point.model,
            point.variant,
            point.chip,
            depth=point.decode_depth or 0,
            prompt_tokens=point.prompt_tokens,
            gpu_cores=point.gpu_cores,
        )


def ratios(points: list[Point], c: Constants, kind: str) -> list[float]:
    out = []
    for p in points:
        published = p.decode_tps if kind == "decode" else p.prefill_tps
        if published is None:
            continue
        est = predict(p, c)
        out.append((est.decode_tps if kind == "decode" else est.prefill_tps) / published)
    return out


def median_ratio_error(points: list[Point], c: Constants, kind: str) -> float:
    return statistics.median(abs(r - 1) for r in ratios(points, c, kind))


def fit(points: list[Point]) -> Constants:
    best: tuple[float, float, float] | None = None
    for i in range(81):
        eta = 0.6 + i * 0.005
        for j in range(121):
            overhead = j * 0.0001
            c = Constants(eta, overhead, 1.0)
            score = statistics.median(abs(math.log(r)) for r in ratios(points, c, "decode"))
            if best is None or score < best[0] - 1e-12:
                best = (score, eta, overhead)
    assert best is not None
    _, eta, overhead = best
    prefill_eta = statistics.median(1 / r for r in ratios(points, Constants(eta, overhead, 1.0), "prefill"))
    return Constants(round(eta, 3), round(overhead, 4), round(prefill_eta, 3))


def report(points: list[Point]) -> str:
    fit_half = [p for p in points if not p.held_out]
    held = [p for p in points if p.held_out]
    fresh = fit(fit_half)
    lines = [
        "Native Ollama (Metal) estimate vs published Apple GPU measurements (scripts/fit_metal.py)",
        f"points: {len(points)} ({len(fit_half)} fit, {len(held)} held out)",
        f"shipped: eta {SHIPPED.eta}, per-step overhead {SHIPPED.overhead_s * 1e3:.2f} ms, "
        f"prefill eta {SHIPPED.prefill_eta}",
        f"fresh fit on the fit half: eta {fresh.eta}, per-step overhead {fresh.overhead_s * 1e3:.2f} ms, "
        f"prefill eta {fresh.prefill_eta}",
        "",
        f"{'half':5} {'point':34} {'decode pub':>10} {'pred':>7} {'prefill pub':>11} {'pred':>7}",
    ]
    for p in points:
        est = predict(p, SHIPPED)
        dec = f"{p.decode_tps:10.2f} {est.decode_tps:7.2f}" if p.decode_tps else f"{'':10} {'':7}"
        pre = f"{p.prefill_tps:11.1f} {est.prefill_tps:7.1f}" if p.prefill_tps else ""
        lines.append(f"{'held' if p.held_out else 'fit':5} {p.id:34} {dec} {pre}")
    lines.append("")
    for label, c in (("shipped", SHIPPED), ("fresh fit", fresh)):
        for kind in ("decode", "prefill"):
            fitted, held_out = median_ratio_error(fit_half, c, kind), median_ratio_error(held, c, kind)
            lines.append(
                f"{label:9} {kind:7} median |pred/pub - 1|: fit half {fitted:.3f}, held out {held_out:.3f}"
            )
    lines += ["", "Sources (quotes in tests/data/published_metal_speeds.toml):"]
    lines += [f"  {p.id:34} {p.source}" for p in points]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    text = report(load_points())
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    print(text, end="")


if __name__ == "__main__":
    main()
