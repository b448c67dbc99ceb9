"""The native verify's comparison (``toolkit.core.compose.verify_native``) over recorded readings.

The "server config" line is the one Ollama logs when ``ollama serve`` starts (server/routes.go, ``Serve``:
``slog.Info("server config", "env", envconfig.Values())``); the line below is a real Ollama 0.9.0 log's,
with its Go map printing: ``OLLAMA_KEEP_ALIVE:5m0s``, an empty ``OLLAMA_KV_CACHE_TYPE:``, a list with
spaces in ``OLLAMA_ORIGINS``.
"""

from __future__ import annotations

from toolkit.core.compose.spec import build_spec
from toolkit.core.compose.verify_native import config_agrees, parse_server_config, verify_native
from toolkit.core.compose.verify_runner import parse_runner_args

REAL_LINE = (
    'time=2025-08-21T14:19:24.688+09:00 level=INFO source=routes.go:1234 msg="server config" '
    'env="map[CUDA_VISIBLE_DEVICES: HTTPS_PROXY: OLLAMA_CONTEXT_LENGTH:4096 OLLAMA_DEBUG:INFO '
    "OLLAMA_FLASH_ATTENTION:false OLLAMA_HOST:http://127.0.0.1:11434 OLLAMA_KEEP_ALIVE:5m0s "
    "OLLAMA_KV_CACHE_TYPE: OLLAMA_MAX_LOADED_MODELS:0 OLLAMA_NUM_PARALLEL:0 OLLAMA_ORIGINS:[http://localhost "
    'https://localhost app://*] OLLAMA_SCHED_SPREAD:false ROCR_VISIBLE_DEVICES:]"'
)


def _spec():  # type: ignore[no-untyped-def]
    return build_spec(model="smollm2:135m", port=11555, context_length=2048, num_thread=2)


def _env(spec) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return spec.environment() | {"OLLAMA_HOST": "127.0.0.1:11555", "HOME": "/h"}


def test_the_server_config_line_is_read_as_ollama_prints_it() -> None:
    config = parse_server_config("earlier line\n" + REAL_LINE + "\nlevel=INFO msg=Listening")
    assert config is not None
    assert config["OLLAMA_CONTEXT_LENGTH"] == "4096" and config["OLLAMA_KV_CACHE_TYPE"] == ""
    assert config["OLLAMA_KEEP_ALIVE"] == "5m0s" and config["OLLAMA_SCHED_SPREAD"] == "false"
    assert parse_server_config("no such line here") is None
    # Go's forms against the environment's
    assert config_agrees("OLLAMA_KEEP_ALIVE", "5m", "5m0s") is True
    assert config_agrees("OLLAMA_KEEP_ALIVE", "30m", "5m0s") is False
    assert config_agrees("OLLAMA_KV_CACHE_TYPE", "f16", "") is True
    assert config_agrees("OLLAMA_FLASH_ATTENTION", "1", "false") is False
    assert config_agrees("OLLAMA_FLASH_ATTENTION", "1", "true") is True


def test_environment_runner_and_server_log_agree_every_row_applied() -> None:
    spec = _spec()
    config = {k: v for k, v in _env(spec).items() if k.startswith("OLLAMA_")}
    runner = parse_runner_args("python -m runner --model /m --ctx-size 2048 --parallel 1 --threads 2")
    report = verify_native(
        spec, process="ollama serve (pid 42)", env=_env(spec), env_source="/proc/42/environ",
        server_config=config, config_source="serve.log", answers=True, runner=runner,
        served_parameters={"num_ctx": "2048", "num_thread": "2"}, version="0.32.15",
    )  # fmt: skip
    assert report.counts() == {"applied": len(report.rows), "ignored": 0, "refused": 0, "unknown": 0}
    assert report.row("threads").actual == "2"
    assert "the server's log agrees" in report.row("OLLAMA_CONTEXT_LENGTH").why
    assert "mem_limit" in report.notes[0] and "cpus" in report.notes[0]  # said plainly, not as rows
    assert not any(row.knob in ("mem_limit", "cpus", "memlock") for row in report.rows)


def test_the_servers_own_report_overrules_the_environment() -> None:
    spec = _spec()
    config = parse_server_config(REAL_LINE)  # 4096, flash attention false: not what was asked
    report = verify_native(
        spec, process="p", env=_env(spec), env_source="/proc/42/environ", server_config=config,
        config_source="serve.log", answers=True,
    )  # fmt: skip
    row = report.row("OLLAMA_CONTEXT_LENGTH")
    assert (row.status, row.actual) == ("ignored", "4096") and "serve.log" in row.why
    assert report.row("OLLAMA_FLASH_ATTENTION").status == "ignored"


def test_without_the_environment_the_log_is_the_source_and_the_report_says_why() -> None:
    spec = _spec()
    report = verify_native(
        spec, process="p", env=None, env_source="-", server_config=parse_server_config(REAL_LINE),
        config_source="serve.log", answers=True, unreadable="this system refuses to show it",
    )  # fmt: skip
    assert report.row("OLLAMA_CONTEXT_LENGTH").status == "ignored"  # 4096 in the log, 2048 asked
    assert report.row("OLLAMA_KV_CACHE_TYPE").status == "applied"  # "" is f16
    assert any("refuses" in note for note in report.notes)
    nothing = verify_native(
        spec, process="p", env=None, env_source="-", server_config=None, config_source="serve.log",
        answers=False, unreadable="no process",
    )  # fmt: skip
    assert nothing.row("OLLAMA_HOST").status == "unknown"
    assert nothing.row("OLLAMA_NUM_PARALLEL").status == "unknown"


def test_a_native_server_listening_everywhere_is_named() -> None:
    spec = _spec()
    env = _env(spec) | {"OLLAMA_HOST": "0.0.0.0:11555"}
    report = verify_native(
        spec, process="p", env=env, env_source="/proc/42/environ", server_config=None,
        config_source="serve.log", answers=True,
    )  # fmt: skip
    row = report.row("OLLAMA_HOST")
    assert row.status == "ignored" and "ALL addresses" in row.why
