"""The server's settings, read from the environment the way Ollama reads them.

OLLAMA_HOST, OLLAMA_NUM_PARALLEL, OLLAMA_CONTEXT_LENGTH, OLLAMA_KEEP_ALIVE, OLLAMA_MAX_QUEUE,
OLLAMA_MAX_LOADED_MODELS, OLLAMA_MODELS, OLLAMA_FLASH_ATTENTION and OLLAMA_KV_CACHE_TYPE have Ollama's
names, defaults and parsing rules.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

VERSION = "0.32.15"
FOREVER = float("inf")

_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: str | float | int | None, default: float) -> float:
    """A keep-alive in seconds: number = seconds, Go duration string ("5m", "1h30m"); negative = forever."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = value.strip()
        negative = text.startswith("-")
        body = text.lstrip("+-")
        try:
            seconds = float(body)
        except ValueError:
            parts = _GO_DURATION.findall(body)
            if not parts or "".join(n + u for n, u in parts) != body:
                raise ValueError(f"time: invalid duration {value!r}") from None
            seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
        seconds = -seconds if negative else seconds
    return FOREVER if seconds < 0 else seconds


def parse_host(value: str | None) -> tuple[str, int]:
    """OLLAMA_HOST as Ollama parses it: optional scheme, host default 127.0.0.1, port default 11434."""
    text = (value or "").strip()
    for scheme in ("http://", "https://"):
        if text.startswith(scheme):
            text = text[len(scheme) :]
    text = text.rstrip("/")
    host, port = text, 11434
    if text.startswith("["):
        end = text.find("]")
        host = text[1:end]
        rest = text[end + 1 :]
        if rest.startswith(":"):
            port = int(rest[1:])
    elif text.count(":") == 1:
        host, port_text = text.split(":")
        port = int(port_text)
    return host or "127.0.0.1", port


def parse_flash_attention(value: str | None) -> str:
    """OLLAMA_FLASH_ATTENTION as Ollama (v0.30+) hands it to llama-server: unset = "auto", else on/off.

    Go's strconv.ParseBool spellings; like Ollama's envconfig.Bool, any other non-empty value means on.
    """
    text = (value or "").strip()
    if not text:
        return "auto"
    return "off" if text in ("0", "f", "F", "false", "FALSE", "False") else "on"


def _int_env(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"invalid {name}={raw!r}: must be an integer") from None


@dataclass(frozen=True)
class Settings:
    """Effective server settings.

    host/port: where the API listens. num_parallel: requests run at once per model. context_length: the
    default num_ctx per request slot. keep_alive: seconds a model stays loaded after use (inf = forever).
    max_queue: requests that may wait beyond those running before 503. max_loaded_models: models kept in
    memory at once. models_dir: the store (blobs/ and manifests/). registry_dir: the models it can pull.
    default_threads: test-only (``OLLAMA_TEST_NUM_THREAD``, not an Ollama variable): the runner's
    ``--threads`` when neither the request nor the model sets num_thread; 0 = llama.cpp decides, as in
    Ollama. The suite runs in two lanes on two cores, and a llama.cpp runner with more threads than it has
    cores to itself stalls at every barrier (see tests/conftest.py).
    """

    host: str
    port: int
    num_parallel: int
    context_length: int
    keep_alive: float
    max_queue: int
    max_loaded_models: int
    models_dir: Path
    registry_dir: Path | None
    flash_attention: str = "auto"
    kv_cache_type: str = ""
    default_threads: int = 0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        host, port = parse_host(env.get("OLLAMA_HOST"))
        models = env.get("OLLAMA_MODELS") or str(Path.home() / ".ollama" / "models")
        registry = env.get("OLLAMA_TEST_REGISTRY")
        context = _int_env(env, "OLLAMA_CONTEXT_LENGTH", 0)
        return cls(
            host=host,
            port=port,
            num_parallel=max(1, _int_env(env, "OLLAMA_NUM_PARALLEL", 1)),
            # 0 means "server picks": on a CPU-only machine (0 VRAM) that is 4096.
            context_length=context if context > 0 else 4096,
            keep_alive=parse_duration(env.get("OLLAMA_KEEP_ALIVE"), 300.0),
            max_queue=max(1, _int_env(env, "OLLAMA_MAX_QUEUE", 512)),
            max_loaded_models=_int_env(env, "OLLAMA_MAX_LOADED_MODELS", 0) or 3,
            models_dir=Path(models),
            registry_dir=Path(registry) if registry else None,
            flash_attention=parse_flash_attention(env.get("OLLAMA_FLASH_ATTENTION")),
            kv_cache_type=env.get("OLLAMA_KV_CACHE_TYPE", "").strip(),
            default_threads=max(0, _int_env(env, "OLLAMA_TEST_NUM_THREAD", 0)),
        )

    def env_map(self) -> str:
        """The `env="map[...]"` text of Ollama's "server config" log line."""
        keep = "-1ns" if self.keep_alive == FOREVER else f"{self.keep_alive:g}s"
        items = {
            "OLLAMA_CONTEXT_LENGTH": str(self.context_length),
            "OLLAMA_FLASH_ATTENTION": {"auto": "", "on": "true", "off": "false"}[self.flash_attention],
            "OLLAMA_KV_CACHE_TYPE": self.kv_cache_type,
            "OLLAMA_HOST": f"http://{self.host}:{self.port}",
            "OLLAMA_KEEP_ALIVE": keep,
            "OLLAMA_MAX_LOADED_MODELS": str(self.max_loaded_models),
            "OLLAMA_MAX_QUEUE": str(self.max_queue),
            "OLLAMA_MODELS": str(self.models_dir),
            "OLLAMA_NUM_PARALLEL": str(self.num_parallel),
        }
        return "map[" + " ".join(f"{k}:{v}" for k, v in sorted(items.items())) + "]"
