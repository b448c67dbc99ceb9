"""The verify report as the Launch step draws it: one row per setting, then why for each one not applied."""

from __future__ import annotations

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from toolkit.core.compose.verify import VerifyReport
from toolkit.tui.plain import plain

STATUS_STYLE = {"applied": "green", "ignored": "yellow", "refused": "bold red", "unknown": "dim"}


def verify_table(report: VerifyReport) -> Group:
    """One row per setting (applied / ignored / refused), then why for each one that is not applied."""
    table = Table(
        title=plain(f"Verify: {report.container}"), expand=True, title_justify="left", box=box.SIMPLE_HEAD
    )
    table.add_column("setting", no_wrap=True)
    table.add_column("wanted", overflow="ellipsis", no_wrap=True, ratio=1)
    table.add_column("actual", overflow="ellipsis", no_wrap=True, ratio=1)
    table.add_column("status", no_wrap=True)
    notes = Text()
    for row in report.rows:
        style = STATUS_STYLE[row.status]
        table.add_row(plain(row.knob), plain(row.wanted), plain(row.actual), Text(row.status, style=style))
        if row.status != "applied":
            notes.append(f"{row.knob} {row.status}: ", style=style)
            notes.append(f"{row.why}\n")
    for warning in report.warnings:
        notes.append(f"engine warning: {warning}\n", style="yellow")
    for note in report.notes:
        notes.append(f"{note}\n", style="dim")
    return Group(table, notes)
