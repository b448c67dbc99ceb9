"""The ``compose``, ``up``, ``down``, ``status``, ``logs`` and ``verify`` subcommands: the server's life.

The plan is ``toolkit.services.planning``'s, the launch ``toolkit.services.launch``'s; the file is
written by ``toolkit.adapters.compose_file`` (safely) and read back by ``toolkit.core.compose.read``.
What these commands draw (progress, the verify table) is ``toolkit.cli.render_lifecycle``'s.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from toolkit.cli.group import cli, current_settings
from toolkit.cli.options import SPEC_PARAMS, file_option, spec_options
from toolkit.cli.output import emit_json, json_option
from toolkit.cli.render_lifecycle import ProgressLine, print_verify
from toolkit.core.compose.render import render_compose_yaml
from toolkit.core.compose.spec import OllamaServiceSpec
from toolkit.core.machine.hardware import DockerEngineInfo
from toolkit.errors import ComposeFileExistsError, DockerUnavailableError
from toolkit.settings import Settings


def _spec(
    opts: dict[str, Any],
    engine: DockerEngineInfo | None,
    settings: Settings,
    profile: str | None = None,
    *,
    native: bool = False,
) -> OllamaServiceSpec:
    """The spec from the command line, through the one plan (``toolkit.core.recommend.plan.plan_service``).

    Without --model the recommendation's pick is served; with --model the catalog entry (when there is
    one) still sizes the memory limit; explicit options win. ``engine`` is the engine it will run on
    (with ``profile``: the profile's own machine and engine, for a what-if file). On a Mac a Docker plan
    (not ``native``) also says what native Ollama on the Metal GPU would reach.
    """
    from toolkit.core.recommend.plan import PlanRequest
    from toolkit.services.planning import plan as make_plan

    request = PlanRequest(
        model=opts.get("model") or None,
        context_length=opts["ctx"],
        users=opts["users"],
        kv_cache_type=opts["kv_cache"],
        mem_limit_bytes=opts.get("mem_limit"),
        cpus=opts.get("cpus"),
        keep_alive=opts["keep_alive"],
        port=opts["port"],
        expose=opts["expose"],
        image=opts.get("image") or settings.image,
        container_name=settings.container_name,
        volume_name=settings.volume_name,
        network=opts.get("network"),
        memlock=opts.get("memlock"),
        swappiness=opts.get("swappiness"),
    )
    plan = make_plan(request, profile=profile, engine=engine, settings=settings)
    for note in plan.notes:
        click.echo(f"gpuless: note: {note}", err=True)
    if plan.advice is not None and not native:
        click.echo(f"gpuless: note: {plan.advice}", err=True)
    return plan.spec


def _engine_or_none() -> DockerEngineInfo | None:
    from toolkit.services.container import engine_info

    try:
        return engine_info(timeout=5)
    except DockerUnavailableError as error:
        click.echo(f"gpuless: note: {error.message}; writing a file for an unknown engine", err=True)
        return None


def _warn_exposed(spec: OllamaServiceSpec) -> None:
    if spec.expose and spec.listen_ip is not None:
        click.secho(
            f"WARNING: Ollama will accept connections on {spec.listen_ip}:{spec.port} from every machine"
            " that can reach that address. It has no authentication: they can use, pull and delete models.",
            fg="red",
            bold=True,
            err=True,
        )
    elif spec.expose:
        click.secho(
            f"WARNING: Ollama will accept connections from ANY address on port {spec.port}. "
            "It has no authentication: anyone who can reach this machine can use, pull and delete models.",
            fg="red",
            bold=True,
            err=True,
        )


def _warn_ignored_options(path: Path) -> None:
    """Service options typed next to a compose file do nothing (the file wins): say so, not silently."""
    context = click.get_current_context()
    given = [
        f"--{name.replace('_', '-')}"
        for name in SPEC_PARAMS
        if context.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
    ]
    if given:
        click.echo(
            f"gpuless: note: {', '.join(given)} ignored: the settings come from {path} "
            "(regenerate it with `gpuless compose ... --force`, or edit it).",
            err=True,
        )


def _names(compose_path: Path | None) -> tuple[str, str]:
    from toolkit.services.container import names

    return names(compose_path, current_settings())


# --- commands ------------------------------------------------------------------------------------


@cli.command()
@spec_options
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    default=Path("compose.yaml"),
    show_default=True,
    help="Where to write the file.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing, different file (a backup is kept).")
@click.option("--print", "print_only", is_flag=True, help="Print the file instead of writing it.")
@click.option("--profile", help="Size it for a shipped hardware profile (or a .toml file) instead.")
@json_option
def compose(
    output: Path, force: bool, print_only: bool, profile: str | None, as_json: bool, **opts: Any
) -> None:
    """Write a tuned compose.yaml for Ollama (every setting commented with why)."""
    from toolkit.services.compose_yaml import write_compose

    settings = current_settings()
    engine = None if profile else _engine_or_none()
    spec = _spec(opts, engine, settings, profile)
    _warn_exposed(spec)
    text = render_compose_yaml(spec)
    if print_only:
        if as_json:
            emit_json({"compose_yaml": text, "url": spec.url})
        else:
            click.echo(text, nl=False)
        return
    try:
        result = write_compose(output, text, force=force)
    except ComposeFileExistsError as error:
        if as_json:
            emit_json({"path": str(output), "outcome": "refused", "diff": error.diff})
        else:
            click.echo(error.diff, nl=False)
        raise
    if as_json:
        emit_json({"path": str(result.path), "outcome": result.outcome,
                   "backup": str(result.backup) if result.backup else None, "url": spec.url})  # fmt: skip
        return
    if result.outcome == "replaced":
        click.echo(result.diff, nl=False)
        click.echo(f"Replaced {result.path} (previous file kept as {result.backup}).")
    else:
        click.echo(f"{result.outcome.capitalize()} {result.path}.")
    for note in spec.adjustments:
        click.echo(f"  adjusted: {note}")
    # `gpuless up` and `docker compose` only find ./compose.yaml by themselves; name any other file.
    if result.path.resolve() == Path("compose.yaml").resolve():
        up, compose_up, verify = "gpuless up", "docker compose up -d", "gpuless verify"
    else:
        up, compose_up = f"gpuless up -f {result.path}", f"docker compose -f {result.path} up -d"
        verify = f"gpuless verify -f {result.path}"
    click.echo(f"Start it with `{up}` (or `{compose_up}`), then check it with `{verify}`.")


@cli.command()
@spec_options
@click.option("--file", "-f", "compose_path", type=click.Path(path_type=Path),
              help="A gpuless compose file to start "
                   "(default: ./compose.yaml if it exists and no --model).")  # fmt: skip
@click.option("--no-pull", is_flag=True, help="Never pull the image; fail if it is missing.")
@click.option("--no-model", is_flag=True, help="Do not pull the model after start.")
@click.option(
    "--runtime",
    type=click.Choice(["docker", "native"]),
    default="docker",
    show_default=True,
    help="Run Ollama in a Docker container, or as the `ollama` program installed on this machine.",
)
@click.option("--url", help="Attach to an Ollama already running at this URL instead of starting one.")
@click.option("--timeout", type=click.FloatRange(1), default=180.0, show_default=True,
              help="Seconds to wait for the server to become healthy.")  # fmt: skip
@json_option
def up(
    compose_path: Path | None,
    no_pull: bool,
    no_model: bool,
    runtime: str,
    url: str | None,
    timeout: float,
    as_json: bool,
    **opts: Any,
) -> None:
    """Start Ollama (Docker by default), pull the model, and verify the settings."""
    from toolkit.services.container import docker
    from toolkit.services.launch import attach, launch, launch_native

    settings = current_settings()
    progress = ProgressLine() if not as_json else None
    if url:
        attached = attach(url, None if no_model else opts.get("model"), progress=progress)
        _finish_native(attached.server.to_dict(), progress, as_json)
        return
    if compose_path is None and not opts.get("model") and Path("compose.yaml").exists():
        compose_path = Path("compose.yaml")
    file_spec = _file_spec(compose_path) if compose_path else None
    if compose_path is not None:
        _warn_ignored_options(compose_path)

    if runtime == "native":
        spec = file_spec or _spec(opts, None, settings, native=True)
        _warn_exposed(spec)
        native = launch_native(
            spec, log_dir=settings.cache_dir, timeout=timeout, pull_model=not no_model, progress=progress
        )
        _finish_native(native.to_dict() | {"model": spec.served_model}, progress, as_json)
        return

    runner = docker()
    spec = file_spec or _spec(opts, runner.engine_info(), settings)
    _warn_exposed(spec)
    try:
        # Started from options, not from the file: ./compose.yaml must not go on naming another model.
        launched = launch(
            runner,
            spec,
            compose_path=None if file_spec else Path("compose.yaml"),
            pull_image=not no_pull,
            pull_model=not no_model,
            progress=progress,
            health_timeout=timeout,
        )
    finally:
        if progress:
            progress.close()
    outcome, report, synced = launched.up, launched.report, launched.compose_note
    if synced and not as_json:
        click.echo(f"gpuless: {synced}", err=True)
    if as_json:
        emit_json(
            {
                "up": outcome.to_dict(),
                "model": spec.served_model,
                "base_model": spec.model,
                "parameters": spec.model_parameters(),
                "compose_file": synced,
                "verify": report.to_dict(),
            }
        )
        return
    click.echo(
        f"Ollama container {outcome.container_name} {outcome.action}, answering after "
        f"{outcome.seconds_to_ready:.1f} s, at {outcome.url}; model {spec.served_model} ready "
        f"({spec.model} with {_parameters_text(spec)}): use this name in every client."
    )
    if "memlock" in outcome.refused:
        click.echo("  The engine refused the memlock ulimit; the container was started without it.")
    print_verify(report)


def _parameters_text(spec: OllamaServiceSpec) -> str:
    return ", ".join(f"{key} {value}" for key, value in spec.model_parameters().items())


def _file_spec(path: Path) -> OllamaServiceSpec:
    from toolkit.services.compose_yaml import read_compose_file

    read = read_compose_file(path)
    if read.edits:
        click.echo(
            f"gpuless: {path} was edited; starting it with your changes: {'; '.join(read.edits)}", err=True
        )
    if read.unsupported:
        parts = "; ".join(read.unsupported)
        click.echo(
            f"gpuless: warning: `gpuless up` cannot apply these parts of {path}: {parts}. "
            "Remove them, or start the file with `docker compose up -d`.",
            err=True,
        )
    if read.other_services:
        click.echo(
            f"gpuless: warning: `gpuless up` starts only {read.service_name}, not the other services of "
            f"{path}: {', '.join(read.other_services)}. Start them with `docker compose up -d`.",
            err=True,
        )
    return read.spec


def _finish_native(payload: dict[str, Any], progress: ProgressLine | None, as_json: bool) -> None:
    if progress:
        progress.close()
    if as_json:
        emit_json(payload)
        return
    where = f" (pid {payload['pid']}, log {payload['log_path']})" if payload.get("pid") else ""
    click.echo(f"Ollama {payload['version']} {payload['action']} at {payload['url']}{where}.")


@cli.command()
@click.option("--volumes", is_flag=True, help="Also remove the models volume (downloaded models are lost).")
@file_option
@json_option
def down(volumes: bool, compose_path: Path | None, as_json: bool) -> None:
    """Stop and remove the Ollama container (models are kept unless --volumes)."""
    from toolkit.services import container as ollama

    container, volume = _names(compose_path)
    result = ollama.down(container, volume=volume if volumes else None)
    if as_json:
        emit_json(result)
        return
    click.echo(
        f"Removed {result['container']}." if result["removed"] else f"No container {result['container']}."
    )
    if volumes:
        click.echo(f"Removed volume {volume}." if result["volume_removed"] else "No volume to remove.")


@cli.command()
@file_option
@json_option
def status(compose_path: Path | None, as_json: bool) -> None:
    """Show the Ollama container's state and health."""
    from toolkit.services import container as ollama

    info = ollama.status(_names(compose_path)[0])
    if as_json:
        emit_json(info.to_dict())
    elif not info.exists:
        click.echo(f"No container named {info.name}. Start one with `gpuless up`.", err=True)
    if not info.exists:
        sys.exit(1)  # as `docker inspect` does for a missing container: scripts can test for it
    if as_json:
        return
    for key, value in info.to_dict().items():
        if key == "served_model":
            key = "clients use"  # the model with gpuless's settings, the name apps and chat should ask for
        if key == "health" and value == "starting" and info.ollama_version:
            # `up` returns once the API answers, before Docker's first healthcheck has run.
            value = "starting (Docker's first healthcheck is still to run; the API already answers)"
        if value is not None and key != "exists":
            click.echo(f"  {key:<15}{value}")


@cli.command()
@click.option(
    "--tail",
    "-n",
    type=click.IntRange(0),
    default=100,
    show_default=True,
    help="Print only this many last lines.",
)
@click.option(
    "--follow",
    "-f",
    is_flag=True,
    help="Keep printing new lines, like `docker logs -f` (until the container stops).",
)
@click.option(
    "--max-seconds",
    type=click.FloatRange(1),
    default=None,
    help="Stop following after this long (default: when the container stops, or Ctrl-C).",
)
@click.option(
    "--file",
    "compose_path",
    type=click.Path(path_type=Path),
    help="The gpuless compose file whose container to use (default: ./compose.yaml if gpuless wrote it). "
    "No -f here: as in `docker logs`, -f follows.",
)
def logs(tail: int, follow: bool, max_seconds: float | None, compose_path: Path | None) -> None:
    """Print the Ollama container's log."""
    from toolkit.services import container as ollama

    for line in ollama.logs(_names(compose_path)[0], tail=tail, follow=follow, max_seconds=max_seconds):
        click.echo(line)


@cli.command(name="verify")
@file_option
@json_option
def verify_command(compose_path: Path | None, as_json: bool) -> None:
    """Show which settings of the running container really took effect."""
    from toolkit.services import container as ollama

    report = ollama.verify(_names(compose_path)[0])
    if as_json:
        emit_json(report.to_dict())
        return
    print_verify(report)
