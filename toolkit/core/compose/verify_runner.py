"""What the loaded model's runner really runs with, by Ollama version, and the verify rows read from it.

How Ollama hands the runner its settings changed twice (read in ollama/ollama at each tag):

* up to 0.11.4: ``ollama runner --model P --ctx-size C --batch-size B --threads T --parallel N --port …``;
  ``--threads`` is always passed (Ollama's own default when num_thread is 0; v0.11.4 llm/server.go:199-201);
* 0.11.5 – 0.24.x: ``ollama runner [--ollama-engine] --model P --port N`` (v0.24.0 llm/server.go:357-364);
  threads, context and slots travel in a ``POST /load`` body, so nothing outside the runner can read them;
* from 0.30: llama.cpp's ``llama-server -c <ctx × np> -np <np> [--cache-type-k/-v T] --flash-attn
  on|off|auto``, and ``-t N`` only when num_thread > 0 (llm/llama_server.go:376, :395, :415, :620);
  without ``-t`` llama.cpp uses the host's physical cores, whatever the container's CPU quota.

The slot count a runner gets is not always ``OLLAMA_NUM_PARALLEL``: Ollama forces one slot for embedding
models and for the architectures mllama, qwen3vl(moe), qwen35(moe), qwen3next, lfm2(moe), nemotron_h*
(server/sched.go:497-509). Where the command line shows ``-np``, that is the truth.

Flash attention: an unset ``OLLAMA_FLASH_ATTENTION`` means llama.cpp's ``auto`` from 0.30 (on for a CPU;
llm/llama_server.go:597-611), and a value that is not a bool means on (envconfig/config.go:177). A
quantized KV cache therefore works without ``=1`` there, and with flash attention off the model fails to
load (HTTP 500); up to 0.24 the cache type is ignored unless flash attention is on for that model.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Literal

Status = Literal["applied", "ignored", "refused", "unknown"]
#: A verify row's (actual value, status, why), for ``toolkit.core.compose.verify`` to put under its knob.
Row = tuple[str, Status, str]

#: The first version whose runner is llama-server with everything on its command line.
LLAMA_SERVER_SINCE = (0, 30, 0)
#: The last version that passed threads, context and slots on the runner's command line.
LAST_CLI_RUNNER = (0, 11, 4)


@dataclass(frozen=True)
class RunnerArgs:
    """What a running runner was started with, read from its command line.

    Attributes:
        threads: the ``--threads``/``-t`` value, None when not given.
        ctx_size: the ``--ctx-size``/``-c`` value (all slots together), None when not given.
        parallel: the ``--parallel``/``-np`` value, None when not given.
        flash_attn: the ``--flash-attn`` value ("on", "off", "auto"), None when not given.
        cache_type: the ``--cache-type-k`` value, None when not given (llama.cpp's f16).
        on_command_line: False for Ollama 0.11.5 – 0.24.x, whose runner gets all of these in a
            ``POST /load`` body: the fields above are then unknown, not absent.
    """

    threads: int | None = None
    ctx_size: int | None = None
    parallel: int | None = None
    flash_attn: str | None = None
    cache_type: str | None = None
    on_command_line: bool = True


_INT_FLAGS = {"--threads": "threads", "-t": "threads", "--ctx-size": "ctx_size", "-c": "ctx_size",
              "--parallel": "parallel", "-np": "parallel"}  # fmt: skip
_TEXT_FLAGS = {
    "--flash-attn": "flash_attn",
    "-fa": "flash_attn",
    "--cache-type-k": "cache_type",
    "-ctk": "cache_type",
}


def parse_runner_args(cmdlines: str | None) -> RunnerArgs | None:
    """The first runner among process command lines (one per line, arguments separated by spaces, as
    ``tr '\\0' ' ' < /proc/PID/cmdline`` prints them); None if no model runs."""
    for line in (cmdlines or "").splitlines():
        words = line.split()
        if not {"--model", "-m"} & set(words):
            continue
        if not {"--ctx-size", "-c"} & set(words):
            if "runner" in words:  # 0.11.5 – 0.24.x: settings in the POST /load body
                return RunnerArgs(on_command_line=False)
            continue
        ints: dict[str, int | None] = {}
        texts: dict[str, str | None] = {}
        for flag, value in itertools.pairwise(words):
            if flag in _INT_FLAGS and value.isdigit():
                ints[_INT_FLAGS[flag]] = int(value)
            elif flag in _TEXT_FLAGS:
                texts[_TEXT_FLAGS[flag]] = value
        return RunnerArgs(**ints, **texts)  # type: ignore[arg-type]
    return None


def parse_version(text: str | None) -> tuple[int, int, int] | None:
    """``"0.11.5"`` (or ``"0.30.0-rc2"``) → (0, 11, 5); None when it is not a version."""
    found = re.match(r"v?(\d+)\.(\d+)\.(\d+)", (text or "").strip())
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


def _load_body_note(version: str | None) -> str:
    shown = f"Ollama {version}" if version else "this Ollama (0.11.5 – 0.24.x)"
    return f"{shown} sends threads, context and slots in the runner's POST /load body: not readable here"


def threads_row(
    wanted: int | None, runner: RunnerArgs | None, set_on: str | None, version: str | None
) -> Row:
    """(actual, status, why) of the threads row; ``wanted`` None = llama.cpp's default, ``set_on`` the
    served model's num_thread parameter, ``version`` Ollama's."""
    if runner is None:
        why = f"no model loaded; the served model sets {set_on}" if set_on else "no model loaded"
        return "-", "unknown", why
    if not runner.on_command_line:
        why = _load_body_note(version) + (f"; the served model sets {set_on}" if set_on else "")
        return "-", "unknown", why
    if runner.threads is None:
        status: Status = "applied" if wanted is None else "ignored"
        return "default", status, "runner has no -t/--threads: llama.cpp uses the host's cores"
    status = "applied" if wanted in (None, runner.threads) else "ignored"
    return str(runner.threads), status, "runner command line -t/--threads"


def slots_row(wanted: int, runner: RunnerArgs | None, version: str | None, source: str = "Config.Env") -> Row:
    """(actual, status, why) of the OLLAMA_NUM_PARALLEL row once the environment holds ``wanted``
    (``source`` names where the environment was read)."""
    if runner is None:
        return str(wanted), "applied", f"{source} (no model loaded: its slots are not read)"
    if not runner.on_command_line or runner.parallel is None:
        return str(wanted), "applied", f"{source}; " + _load_body_note(version)
    if runner.parallel == wanted:
        return str(wanted), "applied", "runner command line -np"
    why = (
        f"the runner has -np {runner.parallel}: Ollama forces one slot for embedding models and some "
        "architectures (mllama, qwen3vl, qwen35, qwen3next, lfm2, nemotron_h)"
    )
    return str(runner.parallel), "ignored", why


def _fa_setting(value: str | None) -> bool | None:
    """OLLAMA_FLASH_ATTENTION as Ollama reads it: None unset, else Go's ParseBool, a non-bool meaning on."""
    if not value:
        return None
    return value not in ("0", "f", "F", "false", "FALSE", "False")


def kv_cache_row(
    wanted: str,
    fa_env: str | None,
    runner: RunnerArgs | None,
    version: str | None,
    source: str = "Config.Env",
) -> Row:
    """(actual, status, why) of a quantized OLLAMA_KV_CACHE_TYPE row, by version (module docstring);
    ``source`` names where the environment was read."""
    fa = _fa_setting(fa_env)
    parsed = parse_version(version)
    if parsed is not None and parsed < LLAMA_SERVER_SINCE:
        if fa:
            return wanted, "applied", "with flash attention on (a model that cannot use it drops the type)"
        why = f"Ollama {version} ignores a quantized KV cache unless OLLAMA_FLASH_ATTENTION=1 (0.11.8+: "
        return wanted, "ignored", why + "or a model it turns flash attention on for)"
    if runner is not None and runner.cache_type is not None:
        status: Status = "applied" if runner.cache_type == wanted else "ignored"
        return runner.cache_type, status, f"runner --cache-type-k, --flash-attn {runner.flash_attn or '?'}"
    if fa is False:
        why = "flash attention off: Ollama ≥ 0.30 cannot load a model with a quantized KV cache (HTTP 500)"
        return wanted, "refused", why
    mode = "on" if fa else "unset = llama.cpp's auto, on for a CPU"
    return wanted, "applied", f"{source}; flash attention {mode} (Ollama ≥ 0.30)"
