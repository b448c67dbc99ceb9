"""This laptop's model files, served read-only by the share gateway to key holders (``gpuless models fetch``).

The models volume is mounted read-only into the gateway at ``MODELS_MOUNT``; nginx serves its files as
static files (Range requests, so a cut download resumes where it stopped). Only two shapes of path are
served, the ones Ollama's store has: ``/gpuless/models/manifests/<host>/<namespace>/<model>/<tag>`` and
``/gpuless/models/blobs/sha256-<64 hex>``. Every other path under ``/gpuless/`` is 404 (never passed to
Ollama, never listed); nginx resolves ``..`` before matching, no part may start with a dot, and symlinks
in the volume are not followed. The key is checked as for the API (401 without a valid one).
"""

from __future__ import annotations

from toolkit.core.models.layout import ModelRef, blob_path

#: Where the gateway container sees the models volume (the volume's root, as Ollama's /root/.ollama).
MODELS_MOUNT = "/srv/gpuless-models"
#: The URL path the files are served under.
URL_PREFIX = "/gpuless/models"
_PART = "[A-Za-z0-9_][A-Za-z0-9._-]{0,127}"
_FILE = f"blobs/sha256-[0-9a-f]{{64}}|manifests(?:/{_PART}){{4}}"


def render_model_files_location() -> str:
    """The server-level ``location`` block (indented for ``server { }``) serving the model files."""
    return f"""\
        # This laptop's model files, read-only, for key holders (`gpuless models fetch`): a manifest or a
        # blob by its store path; anything else under /gpuless/ is 404, never proxied and never listed.
        location ^~ /gpuless/ {{
            if ($gpuless_key = "") {{
                return 401;
            }}
            location ~ "^{URL_PREFIX}/({_FILE})$" {{
                if ($gpuless_key = "") {{
                    return 401;
                }}
                alias {MODELS_MOUNT}/models/$1;
                default_type application/octet-stream;
                autoindex off;
                disable_symlinks on;
                sendfile on;
                tcp_nopush on;
            }}
            return 404 '{{"error":"no such model file on this share"}}\\n';
        }}
"""


def manifest_url(base: str, ref: ModelRef) -> str:
    """The URL of ``ref``'s manifest on the share at ``base`` (its gateway's URL)."""
    return f"{base.rstrip('/')}{URL_PREFIX}/{ref.manifest_path}"


def blob_url(base: str, digest: str) -> str:
    """The URL of the blob ``sha256:<hex>`` on the share at ``base``."""
    return f"{base.rstrip('/')}{URL_PREFIX}/{blob_path(digest)}"
