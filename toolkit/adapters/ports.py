"""Whether an address and port can be listened on: a plain socket bind, checked before a server starts.

Both runtimes need it (the Docker one before it swaps containers, the native one before it spawns
``ollama serve``), so it lives apart from the Docker adapter: the native runtime needs no docker-py.
"""

from __future__ import annotations

import errno
import socket

from toolkit.errors import PortInUseError, UsageError


def check_address(address: str) -> None:
    """Raise UsageError when this machine has no interface with ``address`` (nothing could bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address, 0))
        except OSError as error:
            if error.errno == errno.EADDRNOTAVAIL:
                raise UsageError(
                    f"cannot listen on {address}: no network interface of this machine has that address",
                    "Write 127.0.0.1 (loopback), 0.0.0.0 (every address) or one `ip -4 addr` lists.",
                ) from None
            raise


def check_port_free(address: str, port: int) -> None:
    """Raise PortInUseError when something already listens on ``address:port``."""
    check_address(address)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                raise PortInUseError(
                    f"port {port} on {address} is already in use",
                    f"Stop whatever listens there (another Ollama? `ss -ltnp 'sport = :{port}'`), "
                    f"or choose another port with --port.",
                ) from None
            raise
