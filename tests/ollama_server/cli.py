"""The `ollama` command of the test image: `serve`, `list`, `pull`, `create`, `ps`, `--version`.

`ollama list` exits non-zero when the server is unreachable, which is what makes
`["CMD", "ollama", "list"]` a working compose healthcheck for the real image and for this one.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import urllib.error
import urllib.request
from typing import Any

from .config import VERSION, Settings
from .log import log


def _base_url(settings: Settings) -> str:
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "", "::") else settings.host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.port}"


def _request(method: str, path: str, body: dict[str, Any] | None = None, timeout: float = 10) -> Any:
    url = _base_url(Settings.from_env()) + path
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    return urllib.request.urlopen(req, timeout=timeout)


def serve() -> int:
    from .api import OllamaServer, iter_settings_log
    from .registry import Registry, default_registry_dir

    settings = Settings.from_env()
    for msg, fields in iter_settings_log(settings):
        log(msg, source="routes.go", **fields)
    registry_dir = settings.registry_dir
    if registry_dir is None:
        try:
            registry_dir = default_registry_dir()
        except RuntimeError as exc:
            log("no models to pull", level="WARN", error=str(exc))
    registry = Registry(registry_dir) if registry_dir is not None else None
    try:
        server = OllamaServer(settings, registry)
    except OSError as exc:
        print(f"Error: listen tcp {settings.host}:{settings.port}: {exc.strerror}", file=sys.stderr)
        return 1
    host, port = str(server.server_address[0]), server.server_address[1]
    shown = f"[{host}]" if ":" in str(host) else host
    log(f"Listening on {shown}:{port} (version {VERSION})", source="routes.go")

    def stop(signum: int, frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


def _unreachable() -> int:
    print("Error: could not connect to ollama server, run 'ollama serve' to start it", file=sys.stderr)
    return 1


def list_models() -> int:
    try:
        with _request("GET", "/api/tags") as resp:
            models = json.load(resp)["models"]
    except (urllib.error.URLError, OSError):
        return _unreachable()
    print(f"{'NAME':<24}{'ID':<16}{'SIZE':<10}MODIFIED")
    for m in models:
        print(f"{m['name']:<24}{m['digest'][:12]:<16}{m['size'] / 1e6:.0f} MB    {m['modified_at']}")
    return 0


def ps() -> int:
    try:
        with _request("GET", "/api/ps") as resp:
            models = json.load(resp)["models"]
    except (urllib.error.URLError, OSError):
        return _unreachable()
    print(f"{'NAME':<24}{'SIZE':<12}{'CONTEXT':<10}UNTIL")
    for m in models:
        print(
            f"{m['name']:<24}{m['size'] / 1e6:.0f} MB{'':<5}{m.get('context_length', 0):<10}{m['expires_at']}"
        )
    return 0


def pull(name: str) -> int:
    try:
        with _request("POST", "/api/pull", {"model": name}, timeout=600) as resp:
            for raw in resp:
                line = json.loads(raw)
                if "error" in line:
                    print(f"Error: {line['error']}", file=sys.stderr)
                    return 1
                print(line.get("status", ""))
    except (urllib.error.URLError, OSError):
        return _unreachable()
    return 0


def _stream(path: str, body: dict[str, Any]) -> int:
    """POST a streaming request, print each status; exit 1 on an error line or answer."""
    try:
        with _request("POST", path, body, timeout=600) as resp:
            for raw in resp:
                line = json.loads(raw)
                if "error" in line:
                    print(f"Error: {line['error']}", file=sys.stderr)
                    return 1
                print(line.get("status", ""))
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("error", exc.reason)
        except ValueError:
            message = exc.reason
        print(f"Error: {message}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError):
        return _unreachable()
    return 0


def create(name: str, modelfile: str) -> int:
    """`ollama create NAME -f Modelfile`: like the ollama CLI since v0.5.5, the Modelfile is parsed here
    and sent as `/api/create` with `from` and `parameters` (only FROM and PARAMETER lines are known)."""
    try:
        text = open(modelfile, encoding="utf-8").read()  # noqa: SIM115
    except OSError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    source = ""
    parameters: dict[str, Any] = {}
    for line in text.splitlines():
        words = line.strip().split(None, 2)
        if not words or words[0].startswith("#"):
            continue
        command = words[0].upper()
        if command == "FROM" and len(words) >= 2:
            source = words[1]
        elif command == "PARAMETER" and len(words) == 3:
            value: Any = words[2]
            for kind in (int, float):
                try:
                    value = kind(words[2])
                    break
                except ValueError:
                    continue
            parameters[words[1]] = value
        else:
            print(f'Error: command must be one of "from" or "parameter": {line.strip()}', file=sys.stderr)
            return 1
    return _stream("/api/create", {"model": name, "from": source, "parameters": parameters})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ollama", description="Ollama API test server over llama.cpp")
    parser.add_argument("-v", "--version", action="store_true")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve")
    sub.add_parser("list")
    sub.add_parser("ls")
    sub.add_parser("ps")
    pull_parser = sub.add_parser("pull")
    pull_parser.add_argument("model")
    create_parser = sub.add_parser("create")
    create_parser.add_argument("model")
    create_parser.add_argument("-f", "--file", default="Modelfile")
    args = parser.parse_args(argv)
    if args.version:
        print(f"ollama version is {VERSION}")
        return 0
    if args.command == "serve":
        return serve()
    if args.command in ("list", "ls"):
        return list_models()
    if args.command == "ps":
        return ps()
    if args.command == "pull":
        return pull(args.model)
    if args.command == "create":
        return create(args.model, args.file)
    parser.print_help()
    return 0
