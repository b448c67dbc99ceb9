"""Signals that stop a command, raised as exceptions that are never lost.

SIGTERM and SIGHUP (a closed terminal) stop a command the way Ctrl-C does: the handler raises
``Terminated`` (a ``KeyboardInterrupt``) in the main thread, and the command's cleanup runs. Python runs
a handler between any two bytecodes, also inside a weakref callback or a ``__del__`` (the import
system's module locks have such a callback). An exception raised there is printed as "Exception ignored"
and dropped, and the command would run on to the end as if it had never been stopped. So ``install``
also hooks ``sys.unraisablehook``: a dropped interrupt (Ctrl-C's too) is raised again a moment later
(``REDELIVERY_S``, by SIGALRM) in whatever the main thread runs next, and nothing is printed. Where
there is no SIGALRM (Windows) a dropped interrupt stays dropped, as it would without this module.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Callable
from types import FrameType

#: The signals that stop a command (where the platform has them).
STOPPING = tuple(
    number for name in ("SIGINT", "SIGTERM", "SIGHUP") if (number := getattr(signal, name, None)) is not None
)
#: The signal that carries a dropped interrupt again; held back with ``STOPPING`` in critical sections.
REDELIVERY = getattr(signal, "SIGALRM", None)
#: How long after it was dropped an interrupt is raised again (s): long enough for the code that
#: dropped it (a callback) to return, short enough that nobody waits on it.
REDELIVERY_S = 0.01


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where Ctrl-C would be, so every command cleans up the same way."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def named(stop: KeyboardInterrupt) -> str:
    """What stopped a command, for its one line: the signal's name, or Ctrl-C."""
    return signal.Signals(stop.signum).name if isinstance(stop, Terminated) else "Ctrl-C"


def exit_code(stop: KeyboardInterrupt) -> int:
    """The shell's exit code for a stop: 128 + N for signal N, 130 for Ctrl-C."""
    return 128 + stop.signum if isinstance(stop, Terminated) else 130


_dropped: list[BaseException] = []  # the interrupt waiting to be raised again (at most one)
_chained: list[Callable[[sys.UnraisableHookArgs], object]] = []  # the hook that was there before


def _raise_terminated(signum: int, _frame: FrameType | None) -> None:
    raise Terminated(signum)


def _raise_dropped(_signum: int, _frame: FrameType | None) -> None:
    if _dropped:
        raise _dropped.pop()


def _unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    error = unraisable.exc_value
    if not isinstance(error, KeyboardInterrupt):
        (_chained[0] if _chained else sys.__unraisablehook__)(unraisable)
        return
    _dropped[:] = [error.with_traceback(None)]  # raised afresh, without the finaliser's frames
    with contextlib.suppress(ValueError, OSError, AttributeError):  # not the main thread, or no timers
        signal.setitimer(signal.ITIMER_REAL, REDELIVERY_S)


def install() -> None:
    """SIGTERM and SIGHUP raise ``Terminated``; an interrupt dropped by a callback is raised again.

    Outside the main thread (tests calling ``main`` from a worker) signals cannot be handled: nothing
    changes there."""
    try:
        for number in STOPPING:
            if number != signal.SIGINT:  # Ctrl-C keeps Python's own KeyboardInterrupt
                signal.signal(number, _raise_terminated)
        if REDELIVERY is not None:
            signal.signal(REDELIVERY, _raise_dropped)
    except (ValueError, OSError):
        return
    if sys.unraisablehook is not _unraisable:
        _chained[:] = [sys.unraisablehook]
        sys.unraisablehook = _unraisable
