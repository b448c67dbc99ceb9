"""``gpuless detect`` and ``gpuless recommend``: the machine, and the model that suits it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from toolkit import defaults
from toolkit.cli.group import cli, current_settings
from toolkit.cli.options import SIZE
from toolkit.cli.output import emit_json, json_option
from toolkit.core.units import GIB
from toolkit.errors import UsageError

if TYPE_CHECKING:
    from toolkit.core.machine.hardware import Machine
    from toolkit.core.recommend.pick import Recommendation


def _detect_rows(machine: Machine) -> list[tuple[str, str]]:
    """The compact human summary of a detected ``Machine``: (label, text) rows."""
    from toolkit.core.units import GIB

    cpu, mem, power, cg, dk, bw = (
        machine.cpu,
        machine.memory,
        machine.power,
        machine.cgroup,
        machine.docker,
        machine.bandwidth,
    )
    p_cores = f", {cpu.performance_cores} P-cores" if cpu.performance_cores else ""
    swap = (
        f"swap {mem.swap_used_bytes / GIB:.1f}/{mem.swap_total_bytes / GIB:.1f} GiB"
        if mem.swap_total_bytes
        else "no swap"
    )
    if not power.has_battery:
        power_text = "no battery"
    else:
        state = {True: "on AC", False: "on battery", None: "AC unknown"}[power.on_ac]
        power_text = (
            f"battery {power.percent:.0f}%, {state}" if power.percent is not None else f"battery, {state}"
        )
    if cg.version is None:
        cgroup_text = "no cgroup"
    else:
        limits = [
            f"memory {cg.memory_limit_bytes / GIB:.1f} GiB" if cg.memory_limit_bytes else "",
            f"{cg.cpu_limit:g} CPUs" if cg.cpu_limit else "",
        ]
        cgroup_text = f"cgroup v{cg.version}, " + (", ".join(x for x in limits if x) or "no limits")
    if dk.reachable:
        kind = "Docker Desktop VM" if dk.is_desktop else "native engine"
        mem_text = f"{dk.mem_total_bytes / GIB:.1f} GiB" if dk.mem_total_bytes else "? GiB"
        docker_text = (
            f"{dk.server_version} ({kind}, {dk.operating_system}), {dk.ncpu} CPUs, {mem_text}, "
            f"cgroup v{dk.cgroup_version}"
        )
    else:
        docker_text = dk.error or "not checked"
    bw_text = f"{bw.gbps:.1f} GB/s {bw.source} ({bw.detail})" if bw is not None else "not measured"
    gpu_text = "; ".join(g.name for g in machine.gpus) or "none listed by the OS"
    if machine.gpus:
        gpu_text += " (gpuless's figures are CPU-only)"
    return [
        ("OS", f"{machine.os_release} [{machine.os}]"),
        (
            "CPU",
            f"{cpu.model}, {cpu.arch}, {cpu.physical_cores} cores / {cpu.logical_cores} threads{p_cores}",
        ),
        ("SIMD", f"{' '.join(cpu.simd) or 'none'} (best: {cpu.best_simd})"),
        (
            "Memory",
            f"{mem.total_bytes / GIB:.1f} GiB total, {mem.available_bytes / GIB:.1f} GiB available, {swap}",
        ),
        ("Power", power_text),
        ("Container", cgroup_text),
        ("Docker", docker_text),
        ("Bandwidth", bw_text),
        *([("GPU", gpu_text)] if machine.os in ("linux", "windows") else []),
    ]


@cli.command()
@json_option
@click.option(
    "--no-bandwidth", is_flag=True, help="Skip the memory bandwidth probe (about 1 s when not cached)."
)
@click.option("--refresh", is_flag=True, help="Measure bandwidth again instead of using the cached figure.")
@click.option("--no-docker", is_flag=True, help="Do not contact the Docker engine.")
def detect(as_json: bool, no_bandwidth: bool, refresh: bool, no_docker: bool) -> None:
    """Detect this machine: CPU and SIMD, memory, power, container limits, Docker engine, bandwidth."""
    from toolkit.core.recommend.warnings import describe_machine_warnings
    from toolkit.services.machine import this_machine

    machine = this_machine(
        measure_bandwidth=not no_bandwidth,
        docker=not no_docker,
        refresh_bandwidth=refresh,
        cache_dir=current_settings().cache_dir,
    )
    warnings = describe_machine_warnings(machine)
    if as_json:
        emit_json({**machine.to_dict(), "warnings": [w.to_dict() for w in warnings]})
        return
    rows = _detect_rows(machine)
    width = max(len(label) for label, _ in rows)
    for label, text in rows:
        click.echo(f"{label:<{width}}  {text}")
    for warning in warnings:
        mark = {"error": "✗", "warning": "!", "info": "i"}[warning.level]
        click.echo(f"{mark} {warning.message}")
        click.echo(f"  → {warning.hint}")


@cli.command()
@json_option
@click.option(
    "--use-case",
    default="chat",
    show_default=True,
    help="chat, translation, summarise, rag, writing, code, reasoning.",
)
@click.option("--target-tps", type=float, default=None, help="Tokens/s each user should see [default: 10].")
@click.option(
    "--ctx",
    "context",
    type=int,
    default=defaults.CONTEXT_LENGTH,
    show_default=True,
    help="Context length per user, tokens.",
)
@click.option(
    "--ctx-depth",
    "ctx_depth",
    type=click.IntRange(0),
    default=None,
    help="Predict decode after this many tokens of context (default: the 512-token prompt + 128).",
)
@click.option(
    "--users", type=int, default=1, show_default=True, help="Concurrent users (each gets a KV cache)."
)
@click.option(
    "--profile", "profile", default=None, help="A shipped hardware profile name or a .toml/.json file."
)
@click.option(
    "--ram", "ram_bytes", type=SIZE, default=None, help="What if it had this much RAM (16 = 16G = 16GiB)?"
)
@click.option("--cores", type=int, default=None, help="What if it had this many cores?")
@click.option(
    "--bandwidth", "bandwidth_gbps", type=float, default=None, help="What if memory did this many GB/s?"
)
@click.option(
    "--model",
    "model_name",
    default=None,
    help="Estimate one model or tag instead of ranking all (a tag outside the catalog is estimated from "
    "its name, e.g. foo:7b-instruct-q4_K_M).",
)
@click.option("--all", "show_all", is_flag=True, help="Show every candidate, not just the top 12.")
@click.option("--list-profiles", is_flag=True, help="List the shipped hardware profiles and exit.")
@click.option(
    "--no-calibration",
    is_flag=True,
    help="Ignore this machine's benchmark calibration (to compare with the plain estimate).",
)
def recommend(
    as_json: bool,
    use_case: str,
    target_tps: float | None,
    context: int,
    ctx_depth: int | None,
    users: int,
    profile: str | None,
    ram_bytes: int | None,
    cores: int | None,
    bandwidth_gbps: float | None,
    model_name: str | None,
    show_all: bool,
    list_profiles: bool,
    no_calibration: bool,
) -> None:
    """Recommend a model and quant tag for this machine (or a what-if machine), with predicted RAM,
    tokens/s, time to first token and a grade."""
    from dataclasses import replace

    from toolkit.core.catalog.model import normalise_use_case
    from toolkit.core.catalog.offcatalog import resolve_model
    from toolkit.core.machine.profile import machine_from_profile, what_if
    from toolkit.core.recommend import pick as rec
    from toolkit.services import machine as shipped

    if list_profiles:
        profiles = shipped.shipped_profiles()
        if as_json:
            emit_json([{"name": p.name, "label": p.label, "ram_bytes": p.ram_bytes} for p in profiles])
        else:
            for p in profiles:
                click.echo(f"{p.name:26} {p.label}")
        return
    normalise_use_case(use_case)  # fail on a bad use case before probing the machine
    for label, value in (("--cores", cores), ("--bandwidth", bandwidth_gbps)):
        if value is not None and not value > 0:
            raise UsageError(f"{label} must be positive, not {value:g}")
    catalog = shipped.catalog()
    only = None
    if model_name is not None:
        only = (resolve_model(catalog, model_name),)
    if profile is not None:
        machine = machine_from_profile(shipped.profile(profile))
    else:
        machine = shipped.this_machine(cache_dir=current_settings().cache_dir)
    ram_gb = None if ram_bytes is None else ram_bytes / GIB
    detected, machine = machine, what_if(machine, ram_gb=ram_gb, cores=cores, bandwidth_gbps=bandwidth_gbps)
    from toolkit.services.estimating import machine_params

    chosen = machine_params(
        current_settings().calibration_path,
        machine,
        this_machine=profile is None,
        ignore=no_calibration,
        detected=detected,
    )
    calibration, calibration_note = chosen.calibration, chosen.note
    result = rec.recommend(
        machine,
        catalog,
        use_case=use_case,
        target_tps=rec.DEFAULT_TARGET_TPS if target_tps is None else target_tps,
        context=context,
        users=users,
        only=only,
        params=chosen.params,
        decode_depth=ctx_depth,
    )
    if calibration_note:
        result = replace(result, reasons=(*result.reasons, calibration_note))
    if as_json:
        calibration_dict = calibration.to_dict() if calibration is not None else None
        emit_json({**result.to_dict(), "calibration": calibration_dict})
        return
    click.echo(_recommend_text(result, show_all))


def _recommend_text(result: Recommendation, show_all: bool) -> str:
    """The readable table of ``gpuless recommend``."""
    shown = result.candidates if show_all else result.candidates[:12]
    # The tag column is as wide as the longest tag shown, so the table fits 80 columns where it can.
    width = max((len(c.tag) for c in shown), default=3)
    metal = bool(result.metal)  # a Mac: native Ollama's Metal decode beside Docker's CPU-only figure
    lines = [
        f"Machine: {result.machine}   use case: {result.use_case}   "
        f"target: {result.target_tps:g} tok/s per user   context: {result.context}   users: {result.users}",
        "",
        f"{'':2}{'tag':{width}} {'params':>6} {'RAM GiB':>7} {'tok/s':>6} "
        + (f"{'metal':>6} " if metal else "")
        + f"{'TTFT':>6} {'grade':>5} {'fit':>5}  note",
    ]
    for c in shown:
        mark = "→ " if result.pick is not None and c.tag == result.pick.tag else "  "
        fit = "yes" if c.fits_comfortably else ("tight" if c.fits else "no")
        note = c.why_not or f"score {c.use_case_score}/10"
        if c.test_model:
            note += " (test model)"
        native = result.metal.get(c.tag)
        lines.append(
            f"{mark}{c.tag:{width}} {c.params_b:5.2f}B {c.total_bytes / 2**30:7.1f} {c.decode_tps:6.1f} "
            + (f"{native.decode_tps:6.1f} " if native else ("  –    " if metal else ""))
            + f"{c.ttft_s:5.1f}s {c.grade:>5} {fit:>5}  {note}"
        )
    if len(result.candidates) > len(shown):
        lines.append(f"  … {len(result.candidates) - len(shown)} more (--all)")
    lines.append("")
    if metal:
        lines.append("tok/s, TTFT and grade: Ollama in Docker (CPU only); metal: native Ollama on the GPU.")
    lines.append(result.basis)
    lines.append("")
    lines.append(f"Pick: {result.pick.tag}" if result.pick else "Pick: none")
    lines.extend(f"  - {reason}" for reason in result.reasons)
    return "\n".join(lines)
