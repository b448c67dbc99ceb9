"""The stand-in server sets TCP_NODELAY on each connection, as Ollama's Go server does.

Ollama serves HTTP through Go's net package, which sets TCP_NODELAY on every TCP connection it makes or
accepts (``newTCPConn`` in src/net/tcpsock.go: ``setNoDelay(fd, true)``). Python's http.server does not
unless asked, and then each streamed chunk can wait on Nagle's algorithm and the client's delayed ACK, which
made the gateway benchmark (scripts/bench_gateway.py) measure Python's socket defaults, not the gateway.
"""

from __future__ import annotations

import socket

import pytest

pytestmark = pytest.mark.engine


def test_each_accepted_connection_has_tcp_nodelay_as_go_sets_it() -> None:
    from tests.ollama_server.api import Handler

    listener = socket.create_server(("127.0.0.1", 0))
    with listener, socket.create_connection(listener.getsockname()[:2]):
        conn, _ = listener.accept()
        with conn:
            assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0  # the kernel's default
            handler = Handler.__new__(Handler)
            handler.request = conn
            handler.setup()  # what socketserver runs for each accepted connection
            assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
            handler.finish()
