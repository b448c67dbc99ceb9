"""A loopback HTTP server that misbehaves on demand (see ``server.py``)."""
