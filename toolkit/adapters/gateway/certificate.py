"""The share's TLS certificate: made once for this laptop's address, and read from a server by ``join``.

``ensure`` keeps one self-signed certificate (ECDSA P-256, ``cryptography``) beside the key file, mode
0600, and reuses it while it names the listen address and is valid for another 30 days, so a fingerprint
teammates pinned stays good across restarts. ``presented`` reads the certificate a server presents,
without trusting it, so ``join`` can compare its fingerprint before sending a key.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from toolkit.adapters.gateway.keystore import write_private
from toolkit.core.share.tls import CERT_FILE, KEY_FILE, fingerprint
from toolkit.errors import GpulessError, UsageError

#: How long a certificate is valid; teammates re-pin when a new one is made.
VALID_DAYS = 825
_RENEW_BEFORE = datetime.timedelta(days=30)


@dataclass(frozen=True)
class Certificate:
    """A certificate and its key as PEM text, its fingerprint, and whether this call made it."""

    cert_pem: str
    key_pem: str
    fingerprint: str
    made: bool


def _names(host: str) -> list[x509.GeneralName]:
    try:
        return [x509.IPAddress(ipaddress.ip_address(host))]
    except ValueError:
        return [x509.DNSName(host)]


def _load(directory: Path, host: str) -> Certificate | None:
    try:
        cert_pem = (directory / CERT_FILE).read_text(encoding="ascii")
        key_pem = (directory / KEY_FILE).read_text(encoding="ascii")
        cert = x509.load_pem_x509_certificate(cert_pem.encode())
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, UnicodeDecodeError, x509.ExtensionNotFound):
        return None
    now = datetime.datetime.now(datetime.UTC)
    if cert.not_valid_after_utc - now < _RENEW_BEFORE or not set(_names(host)) <= set(names):
        return None
    der = cert.public_bytes(serialization.Encoding.DER)
    return Certificate(cert_pem, key_pem, fingerprint(der), made=False)


def ensure(directory: Path, host: str) -> Certificate:
    """The certificate for ``host`` kept in ``directory``; a new one (written 0600) when there is none
    that names ``host`` and stays valid for 30 days."""
    kept = _load(directory, host)
    if kept is not None:
        return kept
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"gpuless share {host}")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(_names(host)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    write_private(directory / KEY_FILE, key_pem)
    write_private(directory / CERT_FILE, cert_pem)
    return Certificate(cert_pem, key_pem, fingerprint(cert.public_bytes(serialization.Encoding.DER)), True)


def presented(host: str, port: int, timeout: float = 5.0) -> str:
    """The PEM of the certificate the server at ``host:port`` presents, read without trusting it."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # read only: the caller compares the fingerprint before trusting
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    except ssl.SSLError as error:
        raise UsageError(
            f"{host}:{port} does not speak HTTPS ({error.reason or error})",
            "Use http:// for a share started without --tls, or drop --fingerprint.",
        ) from None
    except OSError as error:
        raise GpulessError(f"cannot reach {host}:{port}: {error.strerror or error}") from None
    if not der:
        raise UsageError(f"{host}:{port} presented no certificate")
    return ssl.DER_cert_to_PEM_cert(der)


def pem_fingerprint(pem: str) -> str:
    """The fingerprint of a PEM certificate (as ``fingerprint`` computes it from DER)."""
    return fingerprint(ssl.PEM_cert_to_DER_cert(pem))
