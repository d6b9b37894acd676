"""A manual clock for the GPIO controls (:class:`device.controls.clock.Clock`): time moves only
when the test calls :meth:`ManualClock.advance`, so timing is checked exactly and nothing sleeps.

- ``call_later`` callbacks run on the thread that advances the clock, in deadline order, each at
  its own deadline (``monotonic()`` reads that deadline while it runs).
- ``wait_until`` sleepers (the metronome and countdown threads) are woken once their deadline
  has come; :attr:`ManualClock.sleepers` says how many threads are parked on the clock, so a test
  can wait until a worker thread is idle before moving time on.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(order=True)
class _Call:
    due: float
    seq: int
    fn: Callable[[], object] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()
        self._calls: list[_Call] = []
        self._seq = itertools.count()
        self._sleeping: dict[int, tuple[threading.Condition, float]] = {}

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    @property
    def sleepers(self) -> int:
        """Threads parked in :meth:`wait_until`."""
        with self._lock:
            return len(self._sleeping)

    @property
    def pending_calls(self) -> int:
        with self._lock:
            return sum(not c.cancelled for c in self._calls)

    def wait_until(self, cond: threading.Condition, deadline: float) -> None:
        key = threading.get_ident()
        with self._lock:
            if self._now >= deadline:
                return
            self._sleeping[key] = (cond, deadline)
        try:
            # Woken by advance() (deadline reached) or by the owner's notify; the caller re-checks.
            # The real-time bound only keeps a broken test from hanging forever.
            cond.wait(30.0)
        finally:
            with self._lock:
                self._sleeping.pop(key, None)

    def call_later(self, delay_s: float, fn: Callable[[], object]) -> _Call:
        with self._lock:
            call = _Call(self._now + max(0.0, delay_s), next(self._seq), fn)
            heapq.heappush(self._calls, call)
        return call

    def advance(self, seconds: float) -> None:
        """Move time on by ``seconds``: run due calls at their deadlines, then wake due sleepers."""
        with self._lock:
            target = self._now + seconds
        while True:
            with self._lock:
                if not self._calls or self._calls[0].due > target:
                    self._now = max(self._now, target)
                    break
                call = heapq.heappop(self._calls)
                self._now = max(self._now, call.due)
            if not call.cancelled:
                call.fn()
        self._wake_due()

    def advance_to(self, t: float) -> None:
        self.advance(max(0.0, t - self.monotonic()))

    def _wake_due(self) -> None:
        with self._lock:
            due = [cond for cond, deadline in self._sleeping.values() if deadline <= self._now]
        for cond in due:
            with cond:
                cond.notify_all()
