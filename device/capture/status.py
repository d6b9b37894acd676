"""The status hub: one status dict fanned out to every viewer (SSE streams, tablets).

Each viewer has a :class:`Subscription`, a small bounded queue where the newest update wins
(a slow tablet never holds the capture back, nor builds a backlog). The hub builds the status
once per publish, whatever the number of viewers, and limits publishing to
:data:`STATUS_RATE_HZ` unless the change matters (a state change: ``force``).
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

STATUS_RATE_HZ = 4.0

Status = dict[str, Any]


class Subscription:
    """A bounded queue of status dicts for one viewer; the oldest update is dropped when full.
    ``None`` is put when the hub closes."""

    def __init__(self, hub: StatusHub, maxsize: int = 16) -> None:
        self._hub = hub
        self._q: queue.Queue[Status | None] = queue.Queue(maxsize)

    def put(self, item: Status | None) -> None:
        while True:
            try:
                self._q.put_nowait(item)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._q.get_nowait()

    def get(self, timeout: float | None = None) -> Status | None:
        return self._q.get(timeout=timeout)

    def get_nowait(self) -> Status | None:
        return self._q.get_nowait()

    def pending(self) -> int:
        """Updates waiting to be read (at most the queue size)."""
        return self._q.qsize()

    def close(self) -> None:
        self._hub.unsubscribe(self)


class StatusHub:
    """Publishes ``make_status()`` to subscribers."""

    def __init__(self, make_status: Callable[[], Status], rate_hz: float = STATUS_RATE_HZ) -> None:
        self._make = make_status
        self._period = 1.0 / rate_hz
        self._lock = threading.Lock()
        # One publish at a time, so viewers get statuses in the order they were made (a status
        # made earlier but put later would show an older count last, e.g. the catch-up's).
        self._publishing = threading.Lock()
        self._subs: list[Subscription] = []
        self._last = 0.0

    def subscribe(self, maxsize: int = 16) -> Subscription:
        sub = Subscription(self, maxsize)
        with self._lock:
            self._subs.append(sub)
        sub.put(self._make())
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._subs.remove(sub)

    @property
    def viewers(self) -> int:
        return len(self._subs)

    def subscribers(self) -> list[Subscription]:
        with self._lock:
            return list(self._subs)

    def publish(self, force: bool = True) -> None:
        """Send the current status to every viewer (``force=False``: at most at the hub's rate)."""
        now = time.monotonic()
        if not force and now - self._last < self._period:
            return
        self._last = now
        with self._lock:
            subs = list(self._subs)
        if not subs:
            return
        # An optional update skips while another publish is under way (optional updates are
        # rate-limited anyway: the next tick carries it); a forced one waits, then sends what is
        # current.
        if not self._publishing.acquire(blocking=force):
            return
        try:
            st = self._make()
            for s in subs:
                s.put(st)
        finally:
            self._publishing.release()

    def close(self) -> None:
        with self._lock:
            subs, self._subs = self._subs, []
        for s in subs:
            s.put(None)
