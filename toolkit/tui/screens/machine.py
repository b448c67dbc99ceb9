"""Step 1, Machine: what detection found and the warnings that change the plan.

The screen paints at once with "detecting…" and fills in when the app's detection worker posts the
machine; detection never runs on the UI thread.
"""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Label, Static

from toolkit.core.machine.hardware import Machine
from toolkit.core.recommend.warnings import describe_machine_warnings
from toolkit.tui import fmt
from toolkit.tui.screens.base import WizardScreen
from toolkit.tui.widgets.plain import Plain


def facts_table(machine: Machine) -> Table:
    """Two columns: what, and what was found."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    cpu, mem = machine.cpu, machine.memory
    table.add_row("Machine", f"{machine.name} · {machine.os} {machine.os_release}".strip())
    cores = f"{cpu.physical_cores} cores / {cpu.logical_cores} threads"
    if cpu.performance_cores:
        cores += f" ({cpu.performance_cores} performance)"
    table.add_row("CPU", f"{cpu.model} ({cpu.arch})")
    table.add_row("Cores", cores)
    table.add_row("SIMD", f"best: {cpu.best_simd} · {' '.join(cpu.simd) or 'none found'}")
    table.add_row("Memory", f"{fmt.gib(mem.total_bytes)} total, {fmt.gib(mem.available_bytes)} available")
    swap = (
        "off"
        if not mem.swap_total_bytes
        else f"{fmt.gib(mem.swap_total_bytes)} ({fmt.gib(mem.swap_used_bytes)} used)"
    )
    table.add_row("Swap", swap)
    bw = machine.bandwidth
    table.add_row("Bandwidth", "unknown" if bw is None else f"{bw.gbps:.1f} GB/s ({bw.source})")
    if machine.gpus:  # names from the OS: shown as they are, never as markup
        table.add_row("GPU", Text("; ".join(g.name for g in machine.gpus) + " (figures are CPU-only)"))
    power = machine.power
    if power.has_battery:
        state = {True: "on AC", False: "on battery", None: "unknown"}[power.on_ac]
        pct = "" if power.percent is None else f", {power.percent:.0f}%"
        table.add_row("Power", f"{state}{pct}")
    if machine.cgroup.memory_limit_bytes or machine.cgroup.cpu_limit:
        limits = []
        if machine.cgroup.memory_limit_bytes:
            limits.append(f"memory {fmt.gib(machine.cgroup.memory_limit_bytes)}")
        if machine.cgroup.cpu_limit:
            limits.append(f"{machine.cgroup.cpu_limit:g} CPUs")
        table.add_row("Cgroup", ", ".join(limits))
    docker = machine.docker
    if docker.reachable:
        kind = "Docker Desktop VM" if docker.is_desktop else (docker.operating_system or "engine")
        table.add_row(
            "Docker",
            f"{docker.server_version or '?'} · {kind} · "
            f"{docker.ncpu or '?'} CPUs, {fmt.gib(docker.mem_total_bytes)}",
        )
    else:
        table.add_row("Docker", f"unreachable: {docker.error or 'no answer'}")
    return table


LEVEL_MARKS = {"error": ("✗", "bold red"), "warning": ("!", "yellow"), "info": ("·", "")}


class MachineScreen(WizardScreen):
    """Detected facts on top, warnings (most severe first) below."""

    STEP_ID = "machine"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "app.detect", "Detect again")]

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(classes="step-body"):
            yield Plain(
                "Detecting this machine (CPU, memory, Docker engine, bandwidth)…", id="machine-status"
            )
            yield Plain(id="machine-facts")
            yield Label("Warnings", classes="section-title")
            yield Plain("–", id="machine-warnings", classes="warning-list")

    def on_mount(self) -> None:
        self.watch(self.app, "machine", self.show_machine)

    def show_machine(self, machine: Machine | None) -> None:
        if machine is None:
            return
        self.query_one("#machine-status", Static).update(
            "Detected. Press n for the model step, r to detect again."
        )
        self.query_one("#machine-facts", Static).update(facts_table(machine))
        self.query_one("#machine-warnings", Static).update(warnings_text(machine))


def warnings_text(machine: Machine) -> Text:
    """The warnings from ``toolkit.core.recommend.warnings``, one per line with its hint under it."""
    text = Text()
    for warning in describe_machine_warnings(machine):
        mark, style = LEVEL_MARKS[warning.level]
        if text:
            text.append("\n")
        text.append(f"{mark} {warning.message}", style=style)
        text.append(f"\n    → {warning.hint}", style="dim")
    return text or Text("✓ nothing that changes the plan.")


SCREEN = MachineScreen
