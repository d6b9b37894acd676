"""At most one heavy render or export at a time on the request threads.

A report or comparison PDF (WeasyPrint), a keypoint CSV or a video's keypoints (a whole
session's keypoints through Python) each hold a core for seconds; the capture needs both cores.
Sixteen clicks on "report.pdf" were sixteen renders at once. Like the PIN check
(:class:`web.security.PinChecker`), the work is bounded: one runs, one may wait its turn for a
few seconds, and any other request is told at once that the station is busy (HTTP 503 with
``Retry-After``) without holding a request thread.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from flask import current_app

from web.errors import BusyError

EXTENSION = "gait_export_gate"
View = TypeVar("View", bound=Callable[..., Any])


class ExportGate:
    """``running`` heavy exports at once, ``waiting`` more queued for at most ``wait_s``."""

    def __init__(
        self, running: int = 1, waiting: int = 1, wait_s: float = 3.0, retry_after_s: int = 5
    ) -> None:
        self.wait_s = wait_s
        self.retry_after_s = retry_after_s
        self._admitted = threading.BoundedSemaphore(running + waiting)
        self._running = threading.BoundedSemaphore(running)

    def _busy(self) -> BusyError:
        return BusyError(
            f"the station is busy with another export: try again in {self.retry_after_s} s",
            self.retry_after_s,
        )

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a turn for one export; BusyError when none is free soon."""
        if not self._admitted.acquire(blocking=False):
            raise self._busy()
        try:
            if not self._running.acquire(timeout=self.wait_s):
                raise self._busy()
            try:
                yield
            finally:
                self._running.release()
        finally:
            self._admitted.release()


def gate() -> ExportGate:
    """The app's gate (``create_app`` installs one)."""
    gate: ExportGate = current_app.extensions[EXTENSION]
    return gate


def heavy(view: View) -> View:
    """Run the view (which builds its whole response body) in a turn of the app's gate."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with gate().slot():
            return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]
