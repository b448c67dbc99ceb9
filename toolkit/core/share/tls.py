"""HTTPS for a share (``gpuless share --tls``): the certificate's fingerprint and what teammates paste.

The gateway's certificate is self-signed (no authority vouches for a laptop at a hackathon), so trust
comes from its fingerprint: ``share`` prints it, and ``gpuless join URL --key K --fingerprint SHA256:…``
compares it with what the server presents before trusting anything. Pure: the adapter
(``toolkit.adapters.gateway.certificate``) makes the certificate and reads a server's.
"""

from __future__ import annotations

import hashlib
import re

from toolkit.errors import UsageError

#: The certificate and its private key, beside the key file (mode 0600) and copied into the gateway's
#: mounted directory under the same names while the gateway speaks HTTPS.
CERT_FILE = "tls-cert.pem"
KEY_FILE = "tls-key.pem"
PREFIX = "SHA256:"
_HEX = re.compile(r"^[0-9A-F]{64}$")

#: Said when the gateway speaks HTTPS (instead of the plain-HTTP warning).
TLS_NOTE = (
    "HTTPS with a self-signed certificate: prompts, answers and keys are encrypted in transit. A teammate "
    "who pins its fingerprint (gpuless join --fingerprint) knows it reaches this laptop."
)


def fingerprint(der: bytes) -> str:
    """``SHA256:AB:CD:…``: the SHA-256 of a certificate's DER bytes (as ``openssl x509 -fingerprint``)."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return PREFIX + ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def parse_fingerprint(text: str) -> str:
    """A fingerprint as pasted (with or without ``SHA256:``, colons, any case) → the canonical form."""
    body = text.strip()
    for prefix in ("sha256 fingerprint=", "sha256:", "sha256="):
        if body.lower().startswith(prefix):
            body = body[len(prefix) :]
    digits = body.replace(":", "").replace(" ", "").upper()
    if not _HEX.match(digits):
        raise UsageError(
            f"--fingerprint {text!r} is not a SHA-256 fingerprint",
            "Paste the SHA256:… line `gpuless share --tls` printed on the sharing laptop.",
        )
    return PREFIX + ":".join(digits[i : i + 2] for i in range(0, 64, 2))


def trust_lines(url: str, fp: str, cert_path: str, key: str = "KEY") -> list[str]:
    """How a teammate trusts the certificate: gpuless pins the fingerprint; other clients need the file."""
    return [
        f"certificate fingerprint: {fp}",
        f"  gpuless: gpuless join {url} --key {key} --fingerprint {fp}",
        f"  others, given the certificate file {cert_path} (public, no secret):",
        f"    SSL_CERT_FILE={cert_path}   (openai and httpx clients read it)",
        f'    curl --cacert {cert_path} -H "Authorization: Bearer {key}" {url}/v1/models',
    ]
