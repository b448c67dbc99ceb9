"""The defaults every layer shares, written once: Ollama's port and context, the image, the names.

The settings (``toolkit.settings``), the service spec (``toolkit.core.compose.spec``), the estimator and the
command-line options all start from these values, so changing one changes it everywhere.
"""

from __future__ import annotations

#: The port Ollama listens on.
OLLAMA_PORT = 11434
#: The server gpuless talks to when nothing else is said.
OLLAMA_URL = f"http://127.0.0.1:{OLLAMA_PORT}"
#: Tokens of context per request slot (Ollama's default on CPU).
CONTEXT_LENGTH = 4096
#: The Ollama image.
IMAGE = "ollama/ollama:latest"
#: The container gpuless starts.
CONTAINER_NAME = "gpuless-ollama"
#: The volume that keeps the models.
VOLUME_NAME = "gpuless-ollama-models"
#: How long an idle model stays loaded (OLLAMA_KEEP_ALIVE).
KEEP_ALIVE = "30m"
#: The gateway `gpuless share` puts in front of Ollama: the official nginx image, and its container's name.
GATEWAY_IMAGE = "nginx:stable-alpine"
GATEWAY_CONTAINER_NAME = "gpuless-gateway"
