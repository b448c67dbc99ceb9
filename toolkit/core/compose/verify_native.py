"""Which settings of a native ``ollama serve`` took effect: the native counterpart of ``core.compose.verify``.

A server started without Docker has no inspect data. What can be read instead (``toolkit.adapters.native``
reads it): the environment of the server's process (for a process of this user), the "server config" line
Ollama logs when it starts (the values it parsed, whoever started it; routes.go ``slog.Info("server
config", "env", envconfig.Values())``), the runner's command line (a child process), ``/api/ps``,
``/api/show`` and ``/api/version``. The rows are the container's rows with those sources named.

What cannot be checked has no row that could only say "unknown": a memory limit, a CPU quota, memlock,
swappiness, a restart policy, a healthcheck and a models volume belong to a container. The report's notes
say so, and that a native server may use all of the machine's memory and cores.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from toolkit.core.compose.spec import OllamaServiceSpec
from toolkit.core.compose.verify import (
    BOGUS_ENV,
    VerifyReport,
    VerifyRow,
    env_row,
    served_model_row,
    threads_wanted,
)
from toolkit.core.compose.verify_runner import RunnerArgs, threads_row

#: What a native server has no equivalent of, in the words of the compose file.
CONTAINER_ONLY = "mem_limit, memswap_limit, mem_swappiness, cpus, memlock, restart, healthcheck, volumes"

_CONFIG_LINE = re.compile(r'msg="?server config"?\s.*?env="map\[(?P<map>[^\]]*(?:\[[^\]]*\][^\]]*)*)\]"')
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_FALSE = ("0", "f", "F", "false", "FALSE", "False")
_TRUE = ("1", "t", "T", "true", "TRUE", "True")


def parse_server_config(log_text: str) -> dict[str, str] | None:
    """The variables of the last "server config" line in an Ollama log (``env="map[K:V K:V …]"``, Go's
    map printing), None when there is none. Values with spaces (OLLAMA_ORIGINS' list) are cut at the
    first space; the knobs gpuless sets have none."""
    found = None
    for line in log_text.splitlines():
        match = _CONFIG_LINE.search(line)
        if match:
            found = match.group("map")
    if found is None:
        return None
    values: dict[str, str] = {}
    for token in found.split(" "):
        key, sep, value = token.partition(":")
        if sep and re.fullmatch(r"[A-Z][A-Z0-9_]*", key):
            values[key] = value
    return values


def _go_bool(text: str) -> bool | None:
    return True if text in _TRUE else False if text in _FALSE else None


def _seconds(text: str) -> float | None:
    """A keep-alive as seconds: "30m", "1800s", Go's "30m0s", "-1" or "-1ns" (forever: -1)."""
    if text.startswith("-"):
        return -1.0
    if text.isdigit():
        return float(text)
    parts = _DURATION.findall(text)
    if not parts or "".join(a + b for a, b in parts) != text:
        return None
    return sum(float(amount) * _SECONDS[unit] for amount, unit in parts)


def config_agrees(key: str, wanted: str, reported: str) -> bool | None:
    """Whether the server config's ``reported`` value of ``key`` is ``wanted`` (the environment's form);
    None when the two forms cannot be compared."""
    if key in ("OLLAMA_CONTEXT_LENGTH", "OLLAMA_NUM_PARALLEL", "OLLAMA_MAX_LOADED_MODELS"):
        return wanted == reported if reported.isdigit() else None
    if key == "OLLAMA_KV_CACHE_TYPE":
        return (reported or "f16") == wanted
    if key == "OLLAMA_FLASH_ATTENTION":
        mine = _go_bool(wanted)
        return None if mine is None else _go_bool(reported) == mine  # "" = auto: not what was set
    if key == "OLLAMA_KEEP_ALIVE":
        a, b = _seconds(wanted), _seconds(reported)
        return None if a is None or b is None else abs(a - b) < 0.5
    return None


def verify_native(
    spec: OllamaServiceSpec,
    *,
    process: str,
    env: Mapping[str, str] | None,
    env_source: str,
    server_config: Mapping[str, str] | None,
    config_source: str,
    answers: bool,
    ps: Mapping[str, Any] | None = None,
    runner: RunnerArgs | None = None,
    served_parameters: Mapping[str, str] | None = None,
    version: str | None = None,
    unreadable: str | None = None,
) -> VerifyReport:
    """Compare ``spec`` with what a native server runs with.

    Args:
        spec: what was asked for (the spec gpuless started the server with).
        process: what runs, for the title ("ollama serve (pid 4242) at http://127.0.0.1:11434").
        env: the server process's environment; None when it cannot be read (``unreadable`` says why).
        env_source: where ``env`` was read, for the rows' why ("/proc/4242/environ").
        server_config: ``parse_server_config`` of the server's log; None when there is no such line.
        config_source: the log file it was read from.
        answers: whether the server's API answered at ``spec.url``.
        ps, runner, served_parameters, version: as for ``toolkit.core.compose.verify.verify``.
        unreadable: why the environment could not be read (None when it was, or nothing was tried).
    """
    rows = [_host_row(spec, env, env_source, answers)]
    config_env = _config_as_env(spec, server_config)
    for key, value in spec.environment().items():
        if key == "OLLAMA_HOST":
            continue
        if env is not None:
            row = env_row(key, value, env, spec, ps, runner, version, source=env_source,
                          holder="the server process's environment")  # fmt: skip
            rows.append(_cross_check(row, server_config, config_source))
        elif config_env is not None:
            rows.append(env_row(key, value, config_env, spec, ps, runner, version, source=config_source,
                                holder=f"the server's \"server config\" line ({config_source})"))  # fmt: skip
        else:
            rows.append(
                VerifyRow(key, value, "-", "unknown", "neither the environment nor a log was readable")
            )
    for key, reason in BOGUS_ENV.items():
        if env is not None and key in env:
            rows.append(VerifyRow(key, "-", env[key], "ignored", reason))
    rows.append(served_model_row(spec, served_parameters))
    set_on = served_parameters.get("num_thread") if served_parameters else None
    rows.append(
        VerifyRow("threads", threads_wanted(spec), *threads_row(spec.num_thread, runner, set_on, version))
    )
    notes = [
        f"Not checked, because a native server has none of them: {CONTAINER_ONLY}. It may use all of this "
        "machine's memory and cores, and nothing restarts it when it stops (run `gpuless up --runtime "
        "native` again)."
    ]
    if env is None:
        notes.append(f"The server's environment was not read: {unreadable or 'not tried'}.")
    if server_config is None:
        notes.append(f'No "server config" line in {config_source}: the server\'s own report was not read.')
    return VerifyReport(container=process, rows=tuple(rows), notes=tuple(notes), runtime="native")


def _host_row(
    spec: OllamaServiceSpec, env: Mapping[str, str] | None, source: str, answers: bool
) -> VerifyRow:
    wanted = f"{spec.bind_address}:{spec.port}"
    actual = env.get("OLLAMA_HOST") if env is not None else None
    if not answers:
        return VerifyRow("OLLAMA_HOST", wanted, actual or "-", "unknown", f"nothing answers at {spec.url}")
    if actual is None:
        why = f"the API answers at {spec.url}" + ("" if env is None else f"; not in {source}")
        return VerifyRow("OLLAMA_HOST", wanted, "-", "applied" if env is None else "ignored", why)
    if actual != wanted:
        why = f"{source} has another address"
        if actual.split(":")[0] in ("0.0.0.0", "", "[::]") and not spec.expose:
            why += ": it listens on ALL addresses, not loopback"
        return VerifyRow("OLLAMA_HOST", wanted, actual, "ignored", why)
    return VerifyRow("OLLAMA_HOST", wanted, actual, "applied", f"{source}; the API answers at {spec.url}")


def _config_as_env(spec: OllamaServiceSpec, config: Mapping[str, str] | None) -> dict[str, str] | None:
    """The server config's values in the environment's form (a wanted value when they agree)."""
    if config is None:
        return None
    env: dict[str, str] = {}
    for key, wanted in spec.environment().items():
        if key in config:
            agrees = config_agrees(key, wanted, config[key])
            env[key] = wanted if agrees is not False else config[key]
    return env


def _cross_check(row: VerifyRow, config: Mapping[str, str] | None, source: str) -> VerifyRow:
    """An applied row the server's own report contradicts is not applied."""
    if row.status != "applied" or config is None or row.knob not in config:
        return row
    reported = config[row.knob]
    if config_agrees(row.knob, row.wanted, reported) is False:
        why = f'set in the environment, but the server\'s "server config" line ({source}) says {reported!r}'
        return VerifyRow(row.knob, row.wanted, reported or "-", "ignored", why)
    return VerifyRow(row.knob, row.wanted, row.actual, row.status, f"{row.why}; the server's log agrees")
