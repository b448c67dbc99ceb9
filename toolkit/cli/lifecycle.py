"""The ``compose``, ``up``, ``down`` and ``logs`` subcommands: the server's life (``status`` and ``verify``
are ``toolkit.cli.readback``'s).

The plan is ``toolkit.services.planning``'s, the launch ``toolkit.services.launch``'s (a native server's
``toolkit.services.native``'s); the file is
written by ``toolkit.adapters.compose_file`` (safely) and read back by ``toolkit.core.compose.read``.
What these commands draw (progress, the verify table) is ``toolkit.cli.render_lifecycle``'s.
"""

from __future__ import annotations

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
    (not ``native``) also says what native Ollama on the Metal GPU would reach, and a ``native`` plan with no
    --model serves native Ollama's own pick.
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
        native=native,
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
        from toolkit.services.connecting import lan_address

        lan = lan_address()
        where = f" (on the LAN: http://{lan}:{spec.port})" if lan else ""
        click.secho(
            f"WARNING: Ollama will accept connections from ANY address on port {spec.port}{where}. "
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
    from toolkit.services.launch import attach, launch
    from toolkit.services.native import launch_native

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
        try:
            native = launch_native(
                spec,
                settings,
                timeout=timeout,
                pull_model=not no_model,
                progress=progress,
                compose_path=compose_path if file_spec else None,
            )
        finally:
            if progress:
                progress.close()
        payload = native.result.to_dict() | {"model": spec.served_model, "recorded": native.recorded}
        if native.report is not None:
            payload["verify"] = native.report.to_dict()
        _finish_native(payload, None, as_json)
        if native.report is not None and not as_json:
            print_verify(native.report)
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
    if payload.get("recorded") is False:
        click.echo(
            "gpuless could not tell which process serves there, so `verify`, `status` and `tune` will not "
            "find it by themselves; bench, chat and connect reach it with --url.",
            err=True,
        )


@cli.command()
@click.option("--volumes", is_flag=True, help="Also remove the models volume (downloaded models are lost).")
@file_option
@click.option("--runtime", type=click.Choice(["docker", "native"]), default="docker", show_default=True,
              help="Remove the container, or stop the native `ollama serve` gpuless started.")  # fmt: skip
@json_option
def down(volumes: bool, compose_path: Path | None, runtime: str, as_json: bool) -> None:
    """Stop and remove the Ollama container (models are kept unless --volumes), or the native server."""
    from toolkit.services import container as ollama

    if runtime == "native":
        from toolkit.services.native import stop_native

        stopped = stop_native(current_settings())
        if as_json:
            emit_json({"stopped": stopped is not None, "pid": stopped.pid if stopped else None})
        else:
            click.echo(f"Stopped ollama serve (pid {stopped.pid})." if stopped else "No native server runs.")
        return
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
@click.option("--runtime", type=click.Choice(["docker", "native"]), default="docker", show_default=True,
              help="The container's log, or the log file of the native server gpuless started.")  # fmt: skip
def logs(tail: int, follow: bool, max_seconds: float | None, compose_path: Path | None, runtime: str) -> None:
    """Print the Ollama container's log (or the native server's)."""
    from toolkit.services import container as ollama

    if runtime == "native":
        from toolkit.services.native import native_log

        for line in native_log(current_settings(), tail=tail, follow=follow, max_seconds=max_seconds):
            click.echo(line)
        return
    for line in ollama.logs(_names(compose_path)[0], tail=tail, follow=follow, max_seconds=max_seconds):
        click.echo(line)
