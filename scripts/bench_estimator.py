"""Fit the estimator's named terms on published CPU measurements and report the error on held-out ones.

Reads tests/data/published_cpu_speeds.toml (cited points: machine, memory, model, quant, threads, decode
and prefill tok/s), splits the points deterministically into a fit half and a held-out half (by a CRC32 of
each point's id, so adding a point never reshuffles the others), fits on the fit half

- bandwidth efficiency η per platform class (share of the theoretical bandwidth decode reaches),
- decode attention cycles per layer·head·token and the per-token overhead,
- the prefill width from which a model reaches the full prefill FLOP rate, on the fit half's model pairs
  (one machine prefilling two models of different hidden sizes at one prompt length, whose ratio the
  platform terms cancel out of), keeping the test machine's narrow-model efficiency,
- prefill η per platform class (the median published ÷ predicted of the class's points) and the prefill
  attention cycles,

by minimising the median |log(predicted / published)| (a coordinate search over each term, a grid for the
width, the prefill η in closed form) starting from the estimator as it was before the fit (one η, the test
machine's attention terms for every CPU, no prefill η, the earlier prefill width), then prints predicted vs
published for both halves under the shipped parameters (``DEFAULT_PARAMS``, which carry the fitted terms,
rounded), the pre-fit ones and the freshly fitted ones, and the median |pred/meas − 1| of each. The
prompt-length pairs (one machine and model prefilling a short and a long prompt) show the prefill attention
slope on its own, the model pairs the width term, and the width scan what each width gives with the prefill η
refitted. Each point's machine is assigned to its class by ``core.machine.platform_class``, as a user's
machine is. Nothing is measured here; the output is docs/estimator-fit.txt.

    python scripts/bench_estimator.py [--out docs/estimator-fit.txt]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import published_points  # noqa: E402
from toolkit.core.catalog.model import ModelSpec, QuantVariant  # noqa: E402
from toolkit.core.estimate.estimator import estimate  # noqa: E402
from toolkit.core.estimate.params import DEFAULT_PARAMS, EstimatorParams  # noqa: E402
from toolkit.core.estimate.speed import prefill_matmul_flops_per_token  # noqa: E402
from toolkit.core.machine.hardware import Bandwidth, CgroupLimits, CpuInfo, Machine, MemoryInfo  # noqa: E402
from toolkit.core.machine.platform_class import platform_class  # noqa: E402

DATA = ROOT / "tests" / "data" / "published_cpu_speeds.toml"
GIB = 1024**3


@dataclass(frozen=True)
class Point:
    id: str
    platform: str
    machine: Machine
    model: ModelSpec
    variant: QuantVariant
    decode_depth: int | None
    prompt_tokens: int
    decode_tps: float | None
    prefill_tps: float | None
    held_out: bool


@dataclass(frozen=True)
class Terms:
    """Terms under test: ``params`` with η and prefill η per point label and the decode attention cycles
    overridden.

    ``eta`` maps a point's ``platform`` label ("all" in the pooled fit) to the η its machine's class gets,
    ``prefill_eta`` likewise to its prefill η; ``attention``, when set, replaces the decode attention cycles.
    """

    eta: dict[str, float]
    params: EstimatorParams
    attention: float | None = None
    prefill_eta: dict[str, float] = field(default_factory=dict)


#: The test machine's own decode attention term (docs/bench-report-xeon.txt), shipped before the fit.
TEST_MACHINE_ATTENTION = 300.0

#: The test machine's own prefill attention term (``EstimatorParams.prefill_attention_cycles``), shipped
#: before the fit.
TEST_MACHINE_PREFILL_ATTENTION = 80.0

#: The prefill width before the fit: a straight line from the test machine's narrow models to 3072.
EARLIER_PREFILL_WIDTH = 3072

#: Hidden size of the test machine's narrow models (SmolLM2-135M 576, Gemma3-270M 640, the middle) and the
#: width efficiency its prefill measurements gave them (the earlier straight line there): every width tried
#: keeps it, its exponent follows (``width_params``).
NARROW_ANCHOR_HIDDEN = 608
NARROW_ANCHOR_EFFICIENCY = NARROW_ANCHOR_HIDDEN / EARLIER_PREFILL_WIDTH


def width_params(params: EstimatorParams, full_width: int) -> EstimatorParams:
    """``params`` with prefill full width ``full_width`` and the exponent that keeps the narrow anchor."""
    exponent = math.log(NARROW_ANCHOR_EFFICIENCY) / math.log(NARROW_ANCHOR_HIDDEN / full_width)
    return replace(params, prefill_full_width=full_width, prefill_width_exponent=exponent)


#: The estimator before the fit: one η for every class, the test machine's attention terms, no prefill η
#: and the earlier prefill width.
PRE_FIT = replace(
    width_params(DEFAULT_PARAMS, EARLIER_PREFILL_WIDTH),
    eta_theoretical_by_platform={},
    decode_attention_cycles=TEST_MACHINE_ATTENTION,
    prefill_eta_by_platform={},
    prefill_attention_cycles=TEST_MACHINE_PREFILL_ATTENTION,
)


def load_points(path: Path = DATA) -> list[Point]:
    models, raw_points = published_points.read(path)
    points = []
    for raw in raw_points:
        geo = models[raw["model"]]
        spec = published_points.model_spec(raw["model"], geo)
        variant = published_points.variant(raw["model"], "Q4_K_M", geo["q4_k_m_bytes"], geo["params"])
        threads = raw["threads"]
        cpu = CpuInfo(
            model=raw["machine"],
            arch="arm64" if "neon" in raw["simd"] else "x86_64",
            physical_cores=raw["physical_cores"],
            logical_cores=raw["physical_cores"],
            simd=tuple(sorted(raw["simd"])),
            performance_cores=threads,  # the threads the source ran with are the cores that computed
        )
        machine = Machine(
            os="linux",
            os_release="published",
            cpu=cpu,
            memory=MemoryInfo(total_bytes=32 * GIB, available_bytes=32 * GIB),
            cgroup=CgroupLimits(),
            bandwidth=Bandwidth(gbps=raw["bandwidth_gbps"], source="profile", detail=raw["memory"]),
        )
        points.append(
            Point(
                id=raw["id"],
                platform=raw["platform"],
                machine=machine,
                model=spec,
                variant=variant,
                decode_depth=raw.get("decode_depth"),
                prompt_tokens=raw["prompt_tokens"],
                decode_tps=raw.get("decode_tps"),
                prefill_tps=raw.get("prefill_tps"),
                held_out=published_points.held_out(raw["id"]),
            )
        )
    return points


def predict(point: Point, terms: Terms) -> tuple[float | None, float | None]:
    """(decode tok/s, prefill tok/s) the estimator predicts for the point under ``terms``."""
    cls = platform_class(point.machine.cpu)
    params = terms.params
    if point.platform in terms.eta:
        etas = {**params.eta_theoretical_by_platform, cls: terms.eta[point.platform]}
        params = replace(params, eta_theoretical_by_platform=etas)
    if point.platform in terms.prefill_eta:
        table = {**params.prefill_eta_by_platform, cls: terms.prefill_eta[point.platform]}
        params = replace(params, prefill_eta_by_platform=table)
    if terms.attention is not None:
        params = replace(params, decode_attention_cycles=terms.attention)
    decode = prefill = None
    if point.decode_tps is not None and point.decode_depth is not None:
        # estimate() reads KV and attends at prompt + 128 tokens of history
        depth_prompt = max(point.decode_depth - 128, 0)
        est = estimate(
            point.model, point.variant, point.machine, context=8192, prompt_tokens=depth_prompt, params=params
        )
        decode = est.single_stream_tps
    if point.prefill_tps is not None:
        est = estimate(
            point.model,
            point.variant,
            point.machine,
            context=8192,
            prompt_tokens=point.prompt_tokens,
            params=params,
        )
        prefill = est.prefill_tps
    return decode, prefill


def errors(points: list[Point], terms: Terms, kind: str) -> list[float]:
    """|log(pred / meas)| of every point that has a ``kind`` ("decode" / "prefill") figure."""
    out = []
    for point in points:
        decode, prefill = predict(point, terms)
        pred, meas = (decode, point.decode_tps) if kind == "decode" else (prefill, point.prefill_tps)
        if pred is not None and meas is not None:
            out.append(abs(math.log(pred / meas)))
    return out


def median_ratio_error(points: list[Point], terms: Terms, kind: str) -> float:
    """Median |pred/meas − 1| (the issue's measure)."""
    values = []
    for point in points:
        decode, prefill = predict(point, terms)
        pred, meas = (decode, point.decode_tps) if kind == "decode" else (prefill, point.prefill_tps)
        if pred is not None and meas is not None:
            values.append(abs(pred / meas - 1))
    return statistics.median(values) if values else float("nan")


def _search(value: float, loss: Any, lo: float, hi: float) -> float:
    """Best of a multiplicative grid around ``value`` within [lo, hi], refined twice."""
    best, best_loss = value, loss(value)
    for step in (1.5, 1.15, 1.04):
        for factor in (step**k for k in range(-6, 7)):
            candidate = min(hi, max(lo, value * factor))
            current = loss(candidate)
            if current < best_loss - 1e-12:
                best, best_loss = candidate, current
        value = best
    return best


def with_param(terms: Terms, name: str, value: float) -> Terms:
    """``terms`` with one global estimator term changed."""
    changes: dict[str, Any] = {name: value}
    return replace(terms, params=replace(terms.params, **changes))


def with_eta(terms: Terms, platform: str, value: float) -> Terms:
    """``terms`` with one platform's η changed."""
    return replace(terms, eta={**terms.eta, platform: value})


def with_attention(terms: Terms, value: float) -> Terms:
    """``terms`` with the decode attention cycles changed."""
    return replace(terms, attention=value)


def with_prefill_eta(points: list[Point], terms: Terms) -> Terms:
    """``terms`` with each label's prefill η the median published ÷ predicted (at η 1) of its points."""
    labels = sorted({p.platform for p in points if p.prefill_tps is not None})
    unit = replace(terms, prefill_eta=dict.fromkeys(labels, 1.0))
    etas = {}
    for label in labels:
        ratios = [
            p.prefill_tps / (predict(p, unit)[1] or 1.0)
            for p in points
            if p.platform == label and p.prefill_tps is not None
        ]
        etas[label] = statistics.median(ratios)
    return replace(terms, prefill_eta=etas)


def model_pairs(points: list[Point]) -> list[tuple[Point, Point]]:
    """(narrower, wider model) for each machine that prefilled models of two hidden sizes at one prompt."""
    groups: dict[tuple[str, int], list[Point]] = {}
    for p in points:
        if p.prefill_tps is not None:
            groups.setdefault((p.machine.cpu.model, p.prompt_tokens), []).append(p)
    return sorted(
        (
            (min(g, key=lambda p: p.model.embedding_length), max(g, key=lambda p: p.model.embedding_length))
            for g in groups.values()
            if len({p.model.embedding_length for p in g}) > 1
        ),
        key=lambda pair: pair[0].id,
    )


def pair_ratio(narrow: Point, wide: Point, terms: Terms) -> float:
    """Predicted prefill of the narrower model ÷ the wider one (platform terms cancel)."""
    return (predict(narrow, terms)[1] or 0.0) / (predict(wide, terms)[1] or 1.0)


def fit_width(points: list[Point], terms: Terms) -> int:
    """The prefill full width that best reproduces the model pairs whose two points are both in
    ``points`` (median |log(predicted ratio / published ratio)|); where widths tie (no pair has a model
    narrower than the width), the widest, the least the data needs."""
    pairs = model_pairs(points)
    if not pairs:
        return terms.params.prefill_full_width
    best, best_loss = terms.params.prefill_full_width, math.inf
    for width in range(1024, 4097, 128):
        trial = replace(terms, params=width_params(terms.params, width))
        loss = statistics.median(
            abs(math.log(pair_ratio(n, w, trial) / ((n.prefill_tps or 0.0) / (w.prefill_tps or 1.0))))
            for n, w in pairs
        )
        if loss <= best_loss + 1e-9:
            best, best_loss = width, min(loss, best_loss)
    return best


def fit(points: list[Point], start: Terms) -> Terms:
    """Coordinate search: decode terms on the decode errors; then the prefill width on the model pairs,
    the prefill η per label in closed form and the prefill attention on the prefill errors."""
    terms = start
    platforms = sorted({p.platform for p in points if p.decode_tps is not None})

    def loss(t: Terms, kind: str, subset: list[Point]) -> float:
        return statistics.median(errors(subset, t, kind) or [0.0])

    for _ in range(3):
        for name in platforms:
            members = [p for p in points if p.platform == name]
            base = terms
            best = _search(
                base.eta.get(name, base.params.eta_theoretical),
                lambda v, b=base, n=name, m=members: loss(with_eta(b, n, v), "decode", m),
                0.15,
                1.0,
            )
            terms = with_eta(terms, name, best)
        base = terms
        best = _search(
            base.attention if base.attention is not None else base.params.decode_attention_cycles,
            lambda v, b=base: loss(with_attention(b, v), "decode", points),
            5.0,
            2000.0,
        )
        terms = with_attention(terms, best)
        for name, lo, hi in (("per_token_overhead_s", 1e-5, 0.02),):
            base = terms
            best = _search(
                getattr(base.params, name),
                lambda v, b=base, f=name: loss(with_param(b, f, v), "decode", points),
                lo,
                hi,
            )
            terms = with_param(terms, name, best)
    for _ in range(3):
        terms = replace(terms, params=width_params(terms.params, fit_width(points, terms)))
        terms = with_prefill_eta(points, terms)
        base = terms
        best = _search(
            base.params.prefill_attention_cycles,
            lambda v, b=base: loss(
                with_prefill_eta(points, with_param(b, "prefill_attention_cycles", v)), "prefill", points
            ),
            1.0,
            2000.0,
        )
        terms = with_prefill_eta(points, with_param(terms, "prefill_attention_cycles", best))
    return terms


def table(points: list[Point], terms: Terms, title: str) -> list[str]:
    lines = [
        title,
        f"  {'point':<24} {'platform':<13} {'model':<15} {'decode pred/pub':>18} {'prefill pred/pub':>20}",
    ]
    for p in points:
        decode, prefill = predict(p, terms)
        d = (
            f"{decode:6.1f}/{p.decode_tps:<6.1f} {decode / p.decode_tps:4.2f}"
            if decode and p.decode_tps
            else "-"
        )
        f = (
            f"{prefill:6.1f}/{p.prefill_tps:<6.1f} {prefill / p.prefill_tps:4.2f}"
            if prefill and p.prefill_tps
            else "-"
        )
        lines.append(f"  {p.id:<24} {p.platform:<13} {p.model.name:<15} {d:>18} {f:>20}")
    return lines


def summary(fit_set: list[Point], held: list[Point], terms: Terms, label: str) -> list[str]:
    out = [f"{label}: median |pred/meas - 1|"]
    for kind in ("decode", "prefill"):
        out.append(
            f"  {kind:<8} fit half {median_ratio_error(fit_set, terms, kind):5.3f}"
            f"   held-out half {median_ratio_error(held, terms, kind):5.3f}"
        )
    return out


def by_history(points: list[Point], named: list[tuple[str, Terms]]) -> list[str]:
    """Held-out decode error split at 300 tokens of history: η shows in both, attention only in the long."""
    held = [p for p in points if p.held_out and p.decode_tps is not None and p.decode_depth is not None]
    short = [p for p in held if (p.decode_depth or 0) <= 300]
    long = [p for p in held if (p.decode_depth or 0) > 300]
    out = [
        f"held-out decode by history: <= 300 tokens ({len(short)} points), > 300 tokens ({len(long)} points)"
    ]
    for label, terms in named:
        out.append(
            f"  {label:<44} {median_ratio_error(short, terms, 'decode'):5.3f}"
            f"   {median_ratio_error(long, terms, 'decode'):5.3f}"
        )
    return out


def prompt_pairs(points: list[Point], named: list[tuple[str, Terms]]) -> list[str]:
    """Prefill at the longest ÷ the shortest prompt for each machine and model measured at two lengths.

    The ratio depends on the prefill attention term alone (the FLOP rate and the efficiency cancel), so
    these pairs, not the median over single points, say what the term should be."""
    groups: dict[tuple[str, str], list[Point]] = {}
    for p in points:
        if p.prefill_tps is not None:
            groups.setdefault((p.machine.cpu.model, p.model.name), []).append(p)
    pairs = [
        (min(g, key=lambda p: p.prompt_tokens), max(g, key=lambda p: p.prompt_tokens))
        for g in groups.values()
        if len({p.prompt_tokens for p in g}) > 1
    ]
    head = f"  {'pair':<46} {'prompts':>11} {'published':>9}" + "".join(f" {label:>16}" for label, _ in named)
    out = ["prefill at the long prompt / at the short one, same machine and model:", head]
    for short, long in sorted(pairs, key=lambda pair: pair[0].id):
        measured = (long.prefill_tps or 0) / (short.prefill_tps or 1)
        cells = ""
        for _, terms in named:
            ratio = (predict(long, terms)[1] or 0) / (predict(short, terms)[1] or 1)
            cells += f" {ratio:16.2f}"
        prompts = f"{short.prompt_tokens}/{long.prompt_tokens}"
        out.append(f"  {short.id + ' / ' + long.id:<46} {prompts:>11} {measured:9.2f}{cells}")
    return out


def model_pair_report(points: list[Point], named: list[tuple[str, Terms]]) -> list[str]:
    """Prefill of the narrower model ÷ the wider one on the same machine at the same prompt, published and
    predicted, next to the ratio of their matmul FLOPs (what it would be if width cost nothing and
    attention took no time)."""
    head = f"  {'pair':<38} {'hidden':>9} {'FLOPs':>6} {'published':>9}" + "".join(
        f" {label:>15}" for label, _ in named
    )
    out = ["prefill of the narrower model / the wider one, same machine and prompt:", head]
    for narrow, wide in model_pairs(points):
        flops = prefill_matmul_flops_per_token(wide.model) / prefill_matmul_flops_per_token(narrow.model)
        measured = (narrow.prefill_tps or 0.0) / (wide.prefill_tps or 1.0)
        cells = "".join(f" {pair_ratio(narrow, wide, terms):15.2f}" for _, terms in named)
        halves = "".join("H" if p.held_out else "F" for p in (narrow, wide))
        hidden = f"{narrow.model.embedding_length}/{wide.model.embedding_length}"
        label = f"{narrow.id} / {wide.id} ({halves})"
        out.append(f"  {label:<38} {hidden:>9} {flops:6.2f} {measured:9.2f}{cells}")
    return out


def width_scan(fit_set: list[Point], held: list[Point], widths: tuple[int, ...]) -> list[str]:
    """Shipped terms at each prefill full width, the prefill η refitted on the fit half at each."""
    out = [
        "prefill by full width (shipped terms, the narrow anchor kept, prefill eta refitted on the fit"
        " half):",
        f"  {'width':>6} {'exponent':>8} {'fit half':>9} {'held-out':>9}",
    ]
    for width in widths:
        params = width_params(DEFAULT_PARAMS, width)
        terms = with_prefill_eta(fit_set, Terms({}, params))
        out.append(
            f"  {width:>6} {params.prefill_width_exponent:8.2f}"
            f" {median_ratio_error(fit_set, terms, 'prefill'):9.3f}"
            f" {median_ratio_error(held, terms, 'prefill'):9.3f}"
        )
    return out


def fitted_terms(fitted: Terms) -> list[str]:
    """The fitted values next to the shipped ones."""
    shipped, params = DEFAULT_PARAMS, fitted.params
    return [
        "fitted terms:",
        *(
            f"  eta_theoretical[{k}] = {v:.3f} (shipped {shipped.eta_theoretical_for(k):g})"
            for k, v in sorted(fitted.eta.items())
        ),
        f"  decode_attention_cycles = {fitted.attention or 0:.1f}"
        f" (shipped {shipped.decode_attention_cycles:g}; the test machine's own slope says"
        f" {TEST_MACHINE_ATTENTION:g})",
        f"  per_token_overhead_s = {params.per_token_overhead_s:.5f}"
        f" (shipped {shipped.per_token_overhead_s:g})",
        f"  prefill_full_width = {params.prefill_full_width}, prefill_width_exponent ="
        f" {params.prefill_width_exponent:.2f} (shipped {shipped.prefill_full_width},"
        f" {shipped.prefill_width_exponent:g}; before the fit {EARLIER_PREFILL_WIDTH}, 1)",
        *(
            f"  prefill_eta[{k}] = {v:.3f} (shipped {shipped.prefill_eta_for(k):g})"
            for k, v in sorted(fitted.prefill_eta.items())
        ),
        f"  prefill_attention_cycles = {params.prefill_attention_cycles:.1f}"
        f" (shipped {shipped.prefill_attention_cycles:g}; the test machine's own slope says"
        f" {TEST_MACHINE_PREFILL_ATTENTION:g})",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="also write the report to this file")
    args = parser.parse_args()
    points = load_points()
    fit_set = [p for p in points if not p.held_out]
    held = [p for p in points if p.held_out]
    shipped = Terms({}, DEFAULT_PARAMS)
    pre_fit = Terms({}, PRE_FIT)
    fitted = fit(fit_set, pre_fit)
    test_machine_attention = Terms({}, DEFAULT_PARAMS, TEST_MACHINE_ATTENTION)
    test_machine_prefill = Terms(
        {}, replace(DEFAULT_PARAMS, prefill_attention_cycles=TEST_MACHINE_PREFILL_ATTENTION)
    )
    no_prefill_eta = Terms({}, replace(DEFAULT_PARAMS, prefill_eta_by_platform={}))
    earlier_width = Terms({}, width_params(DEFAULT_PARAMS, EARLIER_PREFILL_WIDTH))
    # the same fit with one η (and one prefill η) for every platform: how much the per-platform gap explains
    pooled = [replace(p, platform="all") for p in points]
    fitted_one_eta = fit([p for p in pooled if not p.held_out], pre_fit)
    mislabelled = [p.id for p in points if platform_class(p.machine.cpu) != p.platform]
    lines = [
        "gpuless estimator vs published CPU-only measurements (scripts/bench_estimator.py)",
        f"data: tests/data/published_cpu_speeds.toml, {len(points)} points "
        f"({sum(p.decode_tps is not None for p in points)} decode, "
        f"{sum(p.prefill_tps is not None for p in points)} prefill); "
        f"fit half {len(fit_set)}, held-out half {len(held)} (CRC32 of the id)",
        "",
        "classes from toolkit.core.machine.platform_class; points whose label differs: "
        + (", ".join(mislabelled) or "none"),
        "",
        *summary(
            fit_set,
            held,
            shipped,
            "shipped EstimatorParams (eta and prefill eta per class, decode attention "
            f"{DEFAULT_PARAMS.decode_attention_cycles:g}, prefill attention "
            f"{DEFAULT_PARAMS.prefill_attention_cycles:g}, prefill full width "
            f"{DEFAULT_PARAMS.prefill_full_width})",
        ),
        *summary(
            fit_set,
            held,
            pre_fit,
            f"before the fit (one eta 0.6, attention {TEST_MACHINE_ATTENTION:g} / "
            f"{TEST_MACHINE_PREFILL_ATTENTION:g}, no prefill eta, width {EARLIER_PREFILL_WIDTH}, "
            "for every class)",
        ),
        *summary(
            fit_set,
            held,
            test_machine_attention,
            f"shipped with the test machine's decode attention ({TEST_MACHINE_ATTENTION:g} cycles)",
        ),
        *summary(
            fit_set,
            held,
            test_machine_prefill,
            f"shipped with the test machine's prefill attention ({TEST_MACHINE_PREFILL_ATTENTION:g} cycles)",
        ),
        *summary(
            fit_set, held, no_prefill_eta, "shipped without the prefill eta per class (1 for every class)"
        ),
        *summary(
            fit_set,
            held,
            earlier_width,
            f"shipped with the earlier prefill width (hidden / {EARLIER_PREFILL_WIDTH})",
        ),
        *summary(fit_set, held, fitted, "fitted on the fit half"),
        *summary(
            [p for p in pooled if not p.held_out],
            [p for p in pooled if p.held_out],
            fitted_one_eta,
            f"fitted with one eta for all platforms (decode {fitted_one_eta.eta.get('all', 0):.3f},"
            f" prefill {fitted_one_eta.prefill_eta.get('all', 0):.3f})",
        ),
        "",
        *by_history(
            points,
            [
                ("before the fit", pre_fit),
                ("shipped", shipped),
                ("shipped with the test machine's attention", test_machine_attention),
                ("fitted", fitted),
            ],
        ),
        "",
        *prompt_pairs(
            points,
            [
                ("shipped", shipped),
                ("test machine's", test_machine_prefill),
                ("before the fit", pre_fit),
                ("fitted", fitted),
            ],
        ),
        "",
        *model_pair_report(
            points,
            [
                ("shipped", shipped),
                ("earlier width", earlier_width),
                ("before the fit", pre_fit),
                ("fitted", fitted),
            ],
        ),
        "",
        *width_scan(fit_set, held, (1536, 2048, 2304, 2560, 3072, 4096)),
        "",
        *fitted_terms(fitted),
        "",
        *table(fit_set, shipped, "fit half, shipped parameters (predicted/published tok/s, ratio):"),
        "",
        *table(held, shipped, "held-out half, shipped parameters:"),
        "",
        *table(fit_set, fitted, "fit half, fitted parameters:"),
        "",
        *table(held, fitted, "held-out half, fitted parameters:"),
    ]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
