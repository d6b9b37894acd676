"""The controls' real clock (what the station runs on) and the tests' manual clock behave alike:
delayed calls fire once unless cancelled, timed waits end at their deadline or when notified."""

from __future__ import annotations

import threading
import time

from device.controls.clock import SYSTEM_CLOCK, Clock
from tests.support.clock import ManualClock
from tests.support.eventually import eventually


def test_system_clock_calls_later_on_another_thread_and_can_cancel() -> None:
    fired: list[str] = []
    SYSTEM_CLOCK.call_later(0.01, lambda: fired.append(threading.current_thread().name))
    cancelled = SYSTEM_CLOCK.call_later(0.01, lambda: fired.append("cancelled one"))
    cancelled.cancel()
    assert eventually(lambda: len(fired) == 1, 2.0)
    time.sleep(0.05)  # the cancelled call would have fired by now
    assert len(fired) == 1 and fired[0] not in ("cancelled one", threading.current_thread().name)


def test_system_clock_wait_ends_at_the_deadline_or_on_notify() -> None:
    cond = threading.Condition()
    t0 = SYSTEM_CLOCK.monotonic()
    with cond:
        SYSTEM_CLOCK.wait_until(cond, t0 + 0.05)
    assert SYSTEM_CLOCK.monotonic() - t0 >= 0.05
    threading.Timer(0.02, lambda: _notify(cond)).start()
    t0 = SYSTEM_CLOCK.monotonic()
    with cond:
        SYSTEM_CLOCK.wait_until(cond, t0 + 5.0)
    assert SYSTEM_CLOCK.monotonic() - t0 < 2.0  # woken, not timed out


def _notify(cond: threading.Condition) -> None:
    with cond:
        cond.notify_all()


def test_manual_clock_runs_due_calls_in_order_at_their_own_time() -> None:
    clock: Clock = ManualClock(10.0)
    seen: list[tuple[str, float]] = []
    clock.call_later(0.3, lambda: seen.append(("b", clock.monotonic())))
    clock.call_later(0.1, lambda: seen.append(("a", clock.monotonic())))
    clock.call_later(0.5, lambda: seen.append(("c", clock.monotonic()))).cancel()
    assert isinstance(clock, ManualClock)
    clock.advance(0.2)
    assert seen == [("a", 10.1)]
    clock.advance(1.0)
    assert seen == [("a", 10.1), ("b", 10.3)] and clock.monotonic() == 11.2


def test_manual_clock_wakes_a_sleeper_only_at_its_deadline() -> None:
    clock = ManualClock()
    cond = threading.Condition()
    woke: list[float] = []

    def sleeper() -> None:
        with cond:
            while clock.monotonic() < 1.0:
                clock.wait_until(cond, 1.0)
            woke.append(clock.monotonic())

    t = threading.Thread(target=sleeper, daemon=True)
    t.start()
    assert eventually(lambda: clock.sleepers == 1)
    clock.advance(0.5)
    assert eventually(lambda: clock.sleepers == 1) and woke == []
    clock.advance(0.5)
    t.join(2.0)
    assert woke == [1.0] and clock.sleepers == 0
