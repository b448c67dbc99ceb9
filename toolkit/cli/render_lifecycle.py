"""What ``up``, ``verify`` and ``tune`` draw: the pull/health progress line and the verify table.

Both show what a server, a registry or the engine reported (statuses, parameters, loaded model names,
warnings): every such piece passes through ``terminal_safe``."""

from __future__ import annotations

import shutil
import sys
import textwrap
import time
from typing import TYPE_CHECKING

import click

from toolkit.core.compose.verify import VerifyReport
from toolkit.core.safe_text import terminal_safe

if TYPE_CHECKING:
    from toolkit.adapters.progress import Progress


class ProgressLine:
    """One self-overwriting line on stderr (or a line per status change when not a terminal)."""

    def __init__(self) -> None:
        self._tty = sys.stderr.isatty()
        self._last = ""
        self._last_draw = 0.0

    def __call__(self, event: Progress) -> None:
        fraction = event.fraction
        status = terminal_safe(event.status, one_line=True)
        label = f"{event.phase}: {status}"
        if not self._tty:
            if event.status != self._last:
                click.echo(label, err=True)
                self._last = event.status
            return
        now = time.monotonic()
        if now - self._last_draw < 0.1 and event.status == self._last:
            return
        self._last, self._last_draw = event.status, now
        if fraction is None:
            text = label
        else:
            filled = int(fraction * 30)
            size = f"{(event.completed or 0) / 1e6:.0f}/{(event.total or 0) / 1e6:.0f} MB"
            text = f"{event.phase} [{'#' * filled}{'.' * (30 - filled)}] {fraction:4.0%} {size} {status}"
        click.echo("\r\033[K" + text[:120], err=True, nl=False)

    def close(self) -> None:
        if self._tty and self._last:
            click.echo("", err=True)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def verify_lines(report: VerifyReport, width: int) -> list[tuple[str, str]]:
    """The verify table as lines that fit ``width`` columns: (text, status) where a knob's row ends
    in its status (for the caller to colour) and other lines have an empty status.

    One row per knob; the reason goes on its own wrapped line under each row that is not "applied"
    (``--json`` carries the reason of every row). Values too long for their column end in "…".
    """
    width = max(width, 60)

    def safe(text: str) -> str:
        return terminal_safe(text, one_line=True)

    knob_w = min(max(len(row.knob) for row in report.rows) + 2, 28) if report.rows else 10
    status_w = 8
    value_w = max((width - 2 - knob_w - status_w) // 2, 10)
    source = "the process and server" if report.runtime == "native" else "the engine and server"
    title = f"Settings of {safe(report.container)} as {source} report them:"
    lines: list[tuple[str, str]] = [(part, "") for part in textwrap.wrap(title, width)]
    lines += [
        ("  " + "knob".ljust(knob_w) + "wanted".ljust(value_w) + "actual".ljust(value_w) + "status", ""),
    ]
    for row in report.rows:
        cells = _clip(safe(row.knob), knob_w - 1).ljust(knob_w)
        cells += _clip(safe(row.wanted), value_w - 1).ljust(value_w)
        cells += _clip(safe(row.actual), value_w - 1).ljust(value_w)
        lines.append(("  " + cells, row.status))
        if row.status != "applied":
            lines.extend(("      " + part, "") for part in textwrap.wrap(safe(row.why), width - 6))
    counts = report.counts()
    lines.append(("  " + ", ".join(f"{n} {status}" for status, n in counts.items() if n), ""))
    for warning in report.warnings:
        parts = textwrap.wrap(safe(f"engine warning: {warning}"), width - 2)
        lines.extend(("  " + part, "") for part in parts)
    for note in report.notes:
        lines.extend(("  " + part, "") for part in textwrap.wrap(safe(note), width - 2))
    return lines


def print_verify(report: VerifyReport) -> None:
    """The verify table, as wide as the terminal (at least 60 columns, at most 120)."""
    width = min(shutil.get_terminal_size((100, 24)).columns, 120)
    colours = {"applied": "green", "ignored": "yellow", "refused": "red", "unknown": "white"}
    for text, status in verify_lines(report, width):
        click.echo(text + click.style(status, fg=colours[status]) if status else text)
