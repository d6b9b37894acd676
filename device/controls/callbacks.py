"""Runs the station's button callbacks away from gpiozero's event thread.

gpiozero calls ``when_pressed`` on the pin factory's own thread. A callback that is slow
(starting a capture opens the camera) would stall every other button, and one that raises
would be printed and forgotten. :class:`CallbackRunner` queues callbacks onto one worker thread:
presses keep their order, exceptions are logged with a traceback, and the worker keeps going.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class CallbackRunner:
    """One daemon thread that runs submitted callables in order; never dies on an exception."""

    def __init__(self, name: str = "gait-controls") -> None:
        self._queue: queue.Queue[tuple[Callable[[], object], str] | None] = queue.Queue()  # None: stop
        self._pending = 0
        self._idle = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[], object], label: str = "") -> None:
        """Queue ``fn`` to run on the worker thread (dropped with a log line once closed)."""
        if self._closed:
            log.debug("controls closed; dropping %s", label or fn)
            return
        with self._idle:
            self._pending += 1
        self._queue.put((fn, label))

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until every submitted callback has finished; False on timeout (tests, shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 2.0) -> None:
        """Finish what is queued, then stop the worker."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fn, label = item
            try:
                fn()
            except Exception:
                # A broken handler must not take the buttons down with it.
                log.exception("control callback %s failed", label or fn)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()
