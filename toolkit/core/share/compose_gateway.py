"""The gateway as a ``gateway`` service in the user's compose.yaml, beside the Ollama service.

``gpuless share`` starts the gateway itself (Docker SDK); the same container is written into compose.yaml
so ``docker compose up -d`` brings both back as they were, and ``share --stop`` takes the service out
again. Text in, text out: the block goes before the top-level ``volumes:`` key gpuless writes (or at the
end), and an earlier gateway block is replaced, so the rest of the file (the user's edits) is untouched.
"""

from __future__ import annotations

import json

from toolkit.core.share.model_files import MODELS_MOUNT
from toolkit.core.share.nginx_conf import CONF_DIR, CONF_PATH
from toolkit.errors import UsageError

SERVICE = "gateway"
_START = "  # gpuless share: the key-checking gateway"
_END = "  # end of the gpuless share gateway"


def render_gateway_service(
    image: str, container_name: str, conf_dir: str, listen: str, models_volume: str | None = None
) -> str:
    """The ``gateway`` service block (indented for ``services:``), ending with a newline; with
    ``models_volume`` (the compose file's models volume) mounted read-only for ``gpuless models fetch``."""
    command = ["nginx", "-c", CONF_PATH, "-g", "daemon off;"]
    volume = f"{conf_dir}:{CONF_DIR}:ro".replace("$", "$$")  # compose interpolates a single $
    models = [f"      - {json.dumps(f'{models_volume}:{MODELS_MOUNT}:ro')}"] if models_volume else []
    lines = [
        f"{_START} (nginx) in front of Ollama: only it listens on {listen};",
        "  # Ollama stays on loopback. Keys and nginx.conf live in the mounted directory (mode 0600).",
        f"  {SERVICE}:",
        f"    image: {json.dumps(image)}",
        f"    container_name: {json.dumps(container_name)}",
        "    restart: unless-stopped",
        "    network_mode: host",
        f"    command: {json.dumps(command)}",
        "    volumes:",
        f"      - {json.dumps(volume)}",
        *models,
        '    security_opt: ["no-new-privileges"]',
        "    labels:",
        '      io.gpuless.gateway: "true"',
        f"      io.gpuless.gateway.listen: {json.dumps(listen)}",
        _END,
    ]
    return "\n".join(lines) + "\n"


def without_gateway(text: str) -> str:
    """``text`` with the gateway block gpuless wrote taken out (unchanged when there is none)."""
    start = text.find(_START)
    end = text.find(_END, start)
    if start < 0 or end < 0:
        return text
    return text[:start] + text[end + len(_END) :].removeprefix("\n")


def with_gateway(text: str, block: str) -> str:
    """``text`` with ``block`` as its gateway service (before the top-level ``volumes:``, else at the end).

    UsageError when the result does not parse with a ``gateway`` service (a file laid out by hand in a
    way this insertion does not fit): the file is then left as it is.
    """
    import yaml  # PyYAML: parsing text, no I/O

    base = without_gateway(text)
    cut = base.find("\nvolumes:")
    result = base.rstrip("\n") + "\n" + block if cut < 0 else base[: cut + 1] + block + base[cut + 1 :]
    try:
        document = yaml.safe_load(result)
        services = document.get("services") if isinstance(document, dict) else None
        fits = isinstance(services, dict) and isinstance(services.get(SERVICE), dict)
    except yaml.YAMLError:
        fits = False
    if not fits:
        raise UsageError(
            "cannot add the gateway service to this compose file (its layout differs from gpuless's)",
            "Run `gpuless share` without --file, or move its top-level volumes: key after services:.",
        )
    return result
