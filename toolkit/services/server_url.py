"""Which Ollama server `bench`, `chat` and the wizard talk to when the user did not say.

The user's own ``--url`` first; then an explicit ``GPULESS_OLLAMA_URL``; then the share joined with
``gpuless join`` (the user chose it, so it ranks above whatever runs here); then the container that
``gpuless up`` started here (it may listen on another ``--port`` than the default); then the native
``ollama serve`` that ``gpuless up --runtime native`` started (or attached to) here, on ./compose.yaml's
port when one runs there, else the newest; then the address ./compose.yaml gives its server when
gpuless wrote it (so "nothing answers" names the port the file says, not the default); then the default.
One rule for the CLI and the TUI, so both reach the same server. Whether gpuless may send traffic to
the URL at all is ``toolkit.core.target.check_target``'s question.
"""

from __future__ import annotations

from pathlib import Path

from toolkit.adapters import joined
from toolkit.errors import GpulessError
from toolkit.settings import Settings


def chosen_url(url: str | None, settings: Settings) -> str | None:
    """The server the user chose: --url, else GPULESS_OLLAMA_URL when set, else the joined share; None
    when they chose none (then what runs here decides)."""
    if url:
        return url
    if "ollama_url" in settings.model_fields_set:  # set explicitly (GPULESS_OLLAMA_URL)
        return settings.ollama_url
    share = joined.load(settings)
    return share.url if share is not None else None


def server_url(url: str | None, settings: Settings, compose_path: Path = Path("compose.yaml")) -> str:
    """--url; else GPULESS_OLLAMA_URL when set; else the joined share; else the running container of
    ``compose_path`` (or the configured container name); else the native server gpuless recorded; else
    that file's server address; else the configured URL. Blocking (asks the Docker engine, ≤ 2 s)."""
    chosen = chosen_url(url, settings)
    if chosen:
        return chosen
    from toolkit.adapters.compose_file import spec_here
    from toolkit.adapters.docker.runner import DockerRunner

    here = spec_here(compose_path)
    container = here.container_name if here is not None else settings.container_name
    try:
        running = DockerRunner(timeout=2).running_url(container)
    except GpulessError:  # no engine, or it does not answer: nothing of ours runs there
        running = None
    if running:
        return running
    from toolkit.adapters.native.record import find

    native = find(settings.native_dir, here.port if here is not None else None)
    if native is None and here is not None:
        native = find(settings.native_dir)
    if native is not None:
        return native.url
    return here.url if here is not None else settings.ollama_url


def typed_by_user(url: str | None, resolved: str, settings: Settings) -> bool:
    """Whether the user typed ``resolved`` (``check_target``'s ``explicit``): passed with ``--url``, or the
    share they joined (typed at join time). A URL from GPULESS_OLLAMA_URL or a config is not."""
    return url is not None or joined.is_joined(resolved, settings)
