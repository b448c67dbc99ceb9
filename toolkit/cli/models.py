"""``gpuless models list | export | import | fetch``: the models volume's models, copied without a
registry (from a file or folder, or from a teammate's share).

The work is ``toolkit.services.model_copy``'s and ``model_fetch``'s; this module parses the options,
draws the transfer progress (bytes, percent, speed, ETA) on stderr and prints the result (a table, or
JSON with ``--json``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from toolkit.cli.group import cli, current_settings
from toolkit.cli.options import file_option
from toolkit.cli.output import F, emit_json, json_option
from toolkit.core.safe_text import terminal_safe
from toolkit.core.units import format_bytes


def _target_options(func: F) -> F:
    func = click.option("--image", help="A local image for the helper container (default: the server's).")(
        func
    )
    func = click.option(
        "--volume", help="The models volume (default: the compose file's, else the configured)."
    )(func)
    return file_option(func)


def _target(compose_path: Path | None, volume: str | None, image: str | None) -> Any:
    from toolkit.services.model_copy import target

    return target(compose_path, current_settings(), volume, image)


class TransferLine:
    """``label: 120 MiB / 400 MiB  30%  45 MiB/s  ETA 0:06`` on stderr: redrawn on a terminal, else a
    line at every tenth."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._tty = sys.stderr.isatty()
        self._start: float | None = None
        self._drawn = 0.0
        self._tenth = -1
        self._open = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self._start is None:  # the clock starts with the first bytes, not before (e.g. a check)
            self._start = now
        fraction = done / total if total else 1.0
        if self._tty and now - self._drawn < 0.2 and done < total:
            return
        if not self._tty and int(fraction * 10) == self._tenth:
            return
        self._drawn, self._tenth = now, int(fraction * 10)
        elapsed = max(now - self._start, 1e-6)
        rate = done / elapsed
        left = "--:--"
        if done and elapsed >= 0.5:  # a rate from the first chunk alone says nothing
            eta = int((total - done) / rate)
            left = f"{eta // 60}:{eta % 60:02d}"
        text = (
            f"{self.label}: {format_bytes(done)} / {format_bytes(total)}  {fraction:4.0%}  "
            f"{format_bytes(rate)}/s  ETA {left}"
        )
        if self._tty:
            click.echo("\r\033[K" + text, err=True, nl=False)
            self._open = True
        else:
            click.echo(text, err=True)

    def close(self) -> None:
        if self._open:
            click.echo("", err=True)
            self._open = False


def _with_progress(label: str, work: Callable[[TransferLine], Any]) -> Any:
    line = TransferLine(label)
    try:
        return work(line)
    finally:
        line.close()


@cli.group()
def models() -> None:
    """The models in the Ollama volume: list them, export one to a file or folder, import one, or fetch
    one from a teammate's share."""


@models.command(name="list")
@_target_options
@json_option
def list_command(compose_path: Path | None, volume: str | None, image: str | None, as_json: bool) -> None:
    """The models in the volume: name, size, digest, and the served -gpuless model made from each."""
    from toolkit.services.model_copy import list_models

    where = _target(compose_path, volume, image)
    state, rows = list_models(where)
    if as_json:
        emit_json(
            {
                "volume": where.volume,
                "available_bytes": state.available,
                "models": [
                    {
                        "name": row.name,
                        "size": row.size,
                        "digest": row.digest,
                        "model_digest": row.model_digest,
                        "complete": not row.missing,
                        "missing_blobs": list(row.missing),
                        "served_as": list(row.served_as),
                        "derives_from": row.derives_from,
                    }
                    for row in rows
                ],
            }
        )
        return
    free = f", {format_bytes(state.available)} free" if state.available is not None else ""
    click.echo(f"Volume {where.volume}: {len(rows)} model(s){free}")
    if not rows:
        return
    width = max(len(row.name) for row in rows)
    click.echo(f"  {'NAME':<{width}}  {'SIZE':>9}  {'ID':<12}  SERVED AS / FROM")
    for row in rows:
        served = ", ".join(row.served_as) or (f"from {row.derives_from}" if row.derives_from else "-")
        if row.missing:
            served += f"  (incomplete: {len(row.missing)} blob(s) missing)"
        size = format_bytes(row.size)
        click.echo(f"  {terminal_safe(row.name):<{width}}  {size:>9}  {row.digest[:12]:<12}  {served}")


@models.command(name="export")
@click.argument("name")
@click.option(
    "--output",
    "-o",
    required=True,
    help="Where to write: FILE.tar, a new folder, or - for a tar on stdout.",
)
@_target_options
@json_option
def export_command(
    name: str, output: str, compose_path: Path | None, volume: str | None, image: str | None, as_json: bool
) -> None:
    """Write NAME's manifest and every blob it names, with a SHA256SUMS list, to a tar or a folder."""
    from toolkit.services.model_copy import export_model

    where = _target(compose_path, volume, image)
    to_stdout = output == "-"
    if to_stdout and sys.stdout.isatty():
        raise click.UsageError(
            "refusing to write a tar archive to a terminal; redirect stdout or use -o FILE.tar"
        )
    result = _with_progress(
        "export",
        lambda line: export_model(
            where, name, None if to_stdout else Path(output), sys.stdout.buffer if to_stdout else None, line
        ),
    )
    if to_stdout:
        return
    if as_json:
        emit_json({"model": result.name, "output": output, "size": result.size, "files": dict(result.files)})
        return
    click.echo(f"Exported {result.name} ({format_bytes(result.size)}, {len(result.files)} files) to {output}")


@models.command(name="import")
@click.argument("path", type=click.Path(path_type=Path))
@_target_options
@json_option
def import_command(
    path: Path, compose_path: Path | None, volume: str | None, image: str | None, as_json: bool
) -> None:
    """Check every file of the archive or folder at PATH, then copy what the volume lacks; the model
    appears whole (manifest last) or not at all."""
    from toolkit.services.model_copy import import_models

    where = _target(compose_path, volume, image)
    checking = TransferLine("verify")
    try:
        plan = _with_progress("copy", lambda line: import_models(where, path, line, checking))
    finally:
        checking.close()
    names = [model.ref.short for model in plan.models]
    copied = sum(layer.size for layer in plan.copy)
    if as_json:
        emit_json(
            {
                "models": names,
                "volume": where.volume,
                "copied_blobs": [layer.digest for layer in plan.copy],
                "present_blobs": [layer.digest for layer in plan.present],
                "copied_bytes": copied,
                "replaced": list(plan.replaces),
            }
        )
        return
    click.echo(
        f"Imported {', '.join(names)} into volume {where.volume}: {len(plan.copy)} blob(s) copied "
        f"({format_bytes(copied)}), {len(plan.present)} already there; every sha256 checked."
    )
    for name in plan.replaces:
        click.echo(f"  {name} replaced the model of that name that was there.")


@models.command(name="fetch")
@click.argument("args", nargs=-1, required=True, metavar="[URL] NAME")
@click.option("--key", help="The key the share printed (default: the key of the share you joined).")
@click.option(
    "--connections", default=4, show_default=True, type=click.IntRange(1, 16), help="Blobs fetched at once."
)
@_target_options
@json_option
def fetch_command(
    args: tuple[str, ...],
    key: str | None,
    connections: int,
    compose_path: Path | None,
    volume: str | None,
    image: str | None,
    as_json: bool,
) -> None:
    """Fetch NAME from a teammate's `gpuless share` at URL (default: the share you joined).

    \b
    Blobs come several at once; an interrupted fetch resumes where it stopped
    (run it again). Every blob's sha256 is checked (a bad one is fetched once
    more) before anything is copied; the model appears whole or not at all.
    """
    from toolkit.services.model_fetch import fetch_model

    if len(args) > 2:
        raise click.UsageError("give the share's URL (optional) and one model name")
    url, name = (args[0], args[1]) if len(args) == 2 else (None, args[0])
    where = _target(compose_path, volume, image)
    copying = TransferLine("copy")
    try:
        result = _with_progress(
            "fetch",
            lambda line: fetch_model(
                current_settings(), where, name, url, key, connections=connections, progress=line,
                copy_progress=copying,
            ),
        )  # fmt: skip
    finally:
        copying.close()
    if as_json:
        emit_json(
            {
                "model": result.name,
                "url": result.url,
                "volume": where.volume,
                "size": result.size,
                "received_bytes": result.received,
                "seconds": round(result.seconds, 3),
                "resumed_blobs": list(result.resumed),
                "refetched_blobs": list(result.refetched),
                "copied_blobs": [layer.digest for layer in result.plan.copy],
                "present_blobs": [layer.digest for layer in result.plan.present],
            }
        )
        return
    rate = result.received / result.seconds if result.seconds > 0 else 0.0
    notes = [f"{format_bytes(result.received)} received at {format_bytes(rate)}/s"]
    if result.resumed:
        notes.append(f"{len(result.resumed)} blob(s) resumed")
    if result.refetched:
        notes.append(f"{len(result.refetched)} fetched again after a bad sha256")
    click.echo(
        f"Fetched {result.name} from {result.url} into volume {where.volume} ({', '.join(notes)}); "
        f"{len(result.plan.copy)} blob(s) copied, {len(result.plan.present)} already there; "
        "every sha256 checked."
    )
