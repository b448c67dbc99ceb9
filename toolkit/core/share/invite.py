"""What `gpuless share` tells the user to hand to teammates: the URL, a key, the lines to paste.

Pure text from data, so the CLI and the wizard's Team panel show the same thing. The listen address is parsed
here too: the user names it (``--listen ADDR:PORT``); gpuless does not guess which network is "the LAN".
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from toolkit.core.share.keys import ShareKey
from toolkit.errors import UsageError

#: Said every time the gateway's URL is shown: plain HTTP is readable by others on a shared network.
PLAIN_HTTP_WARNING = (
    "This is plain HTTP: on venue Wi-Fi or any shared network, others on that network can read the "
    "prompts, the answers and the keys in transit. Share only on a network you trust, or encrypt it: "
    "`gpuless share --tls`."
)


@dataclass(frozen=True)
class ListenAddress:
    """Where the gateway listens: an IPv4 address of this machine and a port."""

    host: str
    port: int

    @property
    def text(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.text}"


def parse_listen(text: str) -> ListenAddress:
    """``ADDR:PORT`` with an IPv4 address → ListenAddress; UsageError for anything else."""
    hint = "Use --listen ADDR:PORT with an address of this laptop, e.g. --listen 192.168.1.20:8080."
    host, sep, port_text = text.strip().rpartition(":")
    if not sep or not port_text.isdigit():
        raise UsageError(f"--listen {text!r} is not ADDR:PORT", hint)
    try:
        address = ipaddress.IPv4Address(host)
    except ValueError:
        raise UsageError(f"--listen {text!r}: {host!r} is not an IPv4 address", hint) from None
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise UsageError(f"--listen {text!r}: port {port} is out of range", hint)
    return ListenAddress(str(address), port)


def key_lines(url: str, key: ShareKey) -> list[str]:
    """The lines a key's holder pastes: the key and the OpenAI environment variables."""
    what = "may do everything, including pull and delete" if key.role == "admin" else "may use the models"
    if key.role == "pool":
        return [
            "pool key (may use the models, no per-key stream limit; shown once, keep it private):",
            f"  {key.secret}",
            f"  on the pooling laptop: gpuless pool add {url} --key {key.secret}",
            f"  on the pool's other members: gpuless share --pool-key {key.secret}",
        ]
    return [
        f"key for {key.name} ({what}; shown once, keep it private):",
        f"  {key.secret}",
        f"  OPENAI_BASE_URL={url}/v1",
        f"  OPENAI_API_KEY={key.secret}",
        f'  Ollama clients: host={url}, headers={{"Authorization": "Bearer {key.secret}"}}',
    ]


def qr_code(url: str) -> str:
    """The URL as a QR code in Unicode half blocks (segno), for a phone or a teammate's camera."""
    import io

    import segno

    text = io.StringIO()
    segno.make(url, error="m").terminal(out=text, compact=True)
    return text.getvalue()
