"""Wait for something another thread does, without guessing a sleep."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.support.timing import scaled


def eventually(predicate: Callable[[], object], timeout: float = 5.0, interval: float = 0.01) -> bool:
    """Poll ``predicate`` until it is truthy (True) or ``timeout`` seconds have passed (False).

    Use as ``assert eventually(lambda: ...)``: the test fails only if the condition never holds."""
    deadline = time.monotonic() + scaled(timeout)  # stretched under emulation (GAIT_TEST_TIME_SCALE)
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
