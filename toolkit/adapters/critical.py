"""Sections a signal must not cut in two: an engine call and the record of what it created.

``gpuless up`` removes what it created when Ctrl-C, SIGTERM or SIGHUP stops it. A signal that lands after
the engine created a container but before gpuless noted its id would leave that container behind. Inside
``signals_deferred`` those signals are held back (``pthread_sigmask``) and delivered as the block ends,
when the id is on record. Where signal masks do not exist (Windows) the block runs as it is.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

from toolkit.adapters.interrupts import REDELIVERY, STOPPING

# The re-delivery of an interrupt a callback dropped is held back too: it stops a command as they do.
_HELD = STOPPING if REDELIVERY is None else (*STOPPING, REDELIVERY)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP (and a re-delivery of one) until the block ends, then deliver them."""
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    except (AttributeError, ValueError, OSError):  # no masks here, or not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
