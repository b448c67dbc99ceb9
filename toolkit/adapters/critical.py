"""Sections a signal must not cut in two: an engine call and the record of what it created; a restore.

``gpuless up`` removes what it created when Ctrl-C, SIGTERM or SIGHUP stops it. A signal that lands after
the engine created a container but before gpuless noted its id would leave that container behind; a
second Ctrl-C during tune's restore would leave the container removed and not yet made again. Inside
``signals_deferred`` those signals are held back and delivered as the block ends. Two mechanisms, since
either alone leaks: the signal mask (``pthread_sigmask``) is per thread, and a process signal goes to
any thread that does not block it (a worker a library started), after which Python runs the handler in
the main thread anyway; so the Python-level handlers are replaced too, by one that only notes the
signal. Outside the main thread (the wizard's workers) handlers cannot be replaced: the mask alone is
used there. Where signal masks do not exist (Windows) only the handlers are. A child process inherits its
parent's mask, so a server started inside such a block (a native Ollama restarted by tune) clears it first
(``unblock_in_child``), or it would ignore the SIGTERM that later stops it.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from toolkit.adapters.interrupts import REDELIVERY, STOPPING

# The re-delivery of an interrupt a callback dropped is held back too: it stops a command as they do.
_HELD = STOPPING if REDELIVERY is None else (*STOPPING, REDELIVERY)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP (and a re-delivery of one) until the block ends, then deliver
    the first that came (its handler runs as the block ends)."""
    held: list[int] = []

    def note(signum: int, _frame: FrameType | None) -> None:
        held.append(signum)

    previous: dict[int, Any] = {}
    try:
        for number in _HELD:
            previous[number] = signal.signal(number, note)
    except ValueError:  # not the main thread: handlers stay as they are
        for number, handler in previous.items():
            signal.signal(number, handler)
        previous = {}
    try:
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    except (AttributeError, ValueError, OSError):  # no masks here
        mask = None
    try:
        yield
    finally:
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # what was held arrives now, at `note`
        for number, handler in previous.items():
            signal.signal(number, handler)
        if held and held[0] in previous:
            _deliver(held[0], previous[held[0]])


def unblock_in_child() -> None:
    """Unblock the held signals: run in a child process between fork and exec (``preexec_fn``), so a
    process started inside ``signals_deferred`` answers SIGINT, SIGTERM and SIGHUP as any other does."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)


def _deliver(signum: int, handler: Callable[[int, FrameType | None], Any] | int | None) -> None:
    """Run the handler the signal would have met (raising its exception here), or its default action."""
    if callable(handler):
        handler(signum, None)
    elif handler == signal.SIG_DFL:
        signal.raise_signal(signum)
