"""The controls' clock: "now", timed waits and delayed calls, injectable so tests step time by hand.

Buttons (debounce and hold timers), the beeper (countdown beeps) and the metronome (drift-free
ticks) ask only these three things of time. :data:`SYSTEM_CLOCK` answers with ``time.monotonic``
and :mod:`threading`; the tests pass a manual clock (``tests/support/clock.py``) and advance it,
so they check the timing exactly and never sleep.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class Timer(Protocol):
    """A pending delayed call."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def wait_until(self, cond: threading.Condition, deadline: float) -> None:
        """With ``cond`` held: release it until it is notified or ``deadline`` (on this clock) has
        come, then hold it again. May return early: callers re-check their own predicate."""
        ...

    def call_later(self, delay_s: float, fn: Callable[[], object]) -> Timer:
        """Run ``fn`` once, ``delay_s`` from now, on another thread than the caller's."""
        ...


class SystemClock:
    """The real clock: ``time.monotonic``, ``Condition.wait`` and daemon ``threading.Timer``."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wait_until(self, cond: threading.Condition, deadline: float) -> None:
        timeout = deadline - time.monotonic()
        if timeout > 0:
            cond.wait(timeout)

    def call_later(self, delay_s: float, fn: Callable[[], object]) -> Timer:
        timer = threading.Timer(delay_s, fn)
        timer.daemon = True
        timer.start()
        return timer


SYSTEM_CLOCK: Clock = SystemClock()
