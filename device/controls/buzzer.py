"""Sound cues: countdown beeps before a capture, and a cadence metronome the runner can follow.

- :class:`Beeper` owns the gpiozero ``Buzzer`` (an active piezo: on = sound) and knows the cues.
- :class:`Metronome` is only a clock: it calls ``click`` at a steps-per-minute rate, on a timing
  thread with drift-free scheduling (tick *k* is due at ``start + k * period`` on the controls'
  clock, so a late wake-up never shifts later ticks). The rate can change while it
  runs; the next tick then comes one new period after the last one.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from typing import Any

from device.controls.clock import SYSTEM_CLOCK, Clock
from device.errors import InputError

log = logging.getLogger(__name__)

METRONOME_SPM_RANGE = (60.0, 240.0)  # walking to sprint cadence


class Beeper:
    """The station buzzer: short clicks, countdown beeps and alerts; one cue at a time."""

    CLICK_S = 0.03
    TICK_S = 0.08
    GO_S = 0.4

    def __init__(self, pin: int, pin_factory: Any = None, clock: Clock = SYSTEM_CLOCK) -> None:
        from gpiozero import Buzzer

        self._buzzer = Buzzer(pin, pin_factory=pin_factory)
        self._clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Condition()  # notified by stop(): a countdown ends at once
        self._cancelled = False
        self._countdown: threading.Thread | None = None

    @property
    def pin(self) -> Any:
        return self._buzzer.pin

    def _pause_until(self, deadline: float, cancellable: bool = True) -> bool:
        """Wait until ``deadline`` on the clock; True when stop() cut a cancellable pause short."""
        with self._wake:
            while self._clock.monotonic() < deadline:
                if cancellable and self._cancelled:
                    return True
                self._clock.wait_until(self._wake, deadline)
            return cancellable and self._cancelled

    def _sound(self, seconds: float) -> None:
        with self._lock:
            self._buzzer.on()
        try:
            # A click is too short to be worth cancelling; a countdown beep stops with stop().
            self._pause_until(self._clock.monotonic() + seconds, cancellable=seconds > 0.05)
        finally:
            with self._lock:
                self._buzzer.off()

    def click(self) -> None:
        """One short click (blocks for ~30 ms; called from the metronome's thread)."""
        self._sound(self.CLICK_S)

    def beep(self, on_s: float = 0.15, n: int = 1, off_s: float = 0.15) -> None:
        """``n`` beeps in the background (alerts: e.g. capture stopped, print failed)."""
        with self._lock:
            self._buzzer.beep(on_time=on_s, off_time=off_s, n=n, background=True)

    def countdown(self, seconds: int, interval_s: float = 1.0) -> None:
        """Beep once per second for ``seconds``, then a long "go" beep; returns at once.

        Beeps are scheduled from one start time, so the "go" lands ``seconds * interval_s`` after
        the call, in step with the capture controller's own countdown.
        """
        self.stop()
        with self._wake:
            self._cancelled = False
        t0 = self._clock.monotonic()

        def run() -> None:
            for k in range(int(seconds) + 1):
                if self._pause_until(t0 + k * interval_s):
                    return
                self._sound(self.GO_S if k == seconds else self.TICK_S)
                if self._cancelled:
                    return

        self._countdown = threading.Thread(target=run, name="gait-countdown", daemon=True)
        self._countdown.start()

    def stop(self) -> None:
        """Silence: cancel a countdown or background beep."""
        with self._wake:
            self._cancelled = True
            self._wake.notify_all()
        if self._countdown is not None and self._countdown is not threading.current_thread():
            self._countdown.join(1.0)
        self._countdown = None
        with self._lock:
            self._buzzer.off()

    def close(self) -> None:
        self.stop()
        self._buzzer.close()


class Metronome:
    """Calls ``click()`` at ``spm`` clicks per minute on its own thread until stopped."""

    def __init__(self, click: Callable[[], object], clock: Clock = SYSTEM_CLOCK) -> None:
        self._click = click
        self._clock = clock
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stop = False
        self._period = 60.0 / 180.0
        self._spm = 0.0
        self._next = 0.0
        self._last_tick: float | None = None
        self.ticks = 0  # clicks since start (for status/tests)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def spm(self) -> float:
        """The current rate; 0 when stopped."""
        return self._spm if self.running else 0.0

    @staticmethod
    def _check(spm: float) -> float:
        lo, hi = METRONOME_SPM_RANGE
        if not isinstance(spm, int | float) or not math.isfinite(spm) or not lo <= spm <= hi:
            raise InputError(f"metronome: cadence must be between {lo:g} and {hi:g} steps/min; got {spm!r}")
        return float(spm)

    def start(self, spm: float) -> None:
        """Start clicking at ``spm`` (first click now); if already running, just change the rate."""
        spm = self._check(spm)
        with self._cond:
            if self.running:
                self._set_locked(spm)
                return
            self._spm = spm
            self._period = 60.0 / spm
            self._stop = False
            self._last_tick = None
            self._next = self._clock.monotonic()
            self.ticks = 0
            self._thread = threading.Thread(target=self._run, name="gait-metronome", daemon=True)
            self._thread.start()

    def set_spm(self, spm: float) -> None:
        """Change the rate on the fly (starts the metronome if it is not running)."""
        self.start(spm)

    def _set_locked(self, spm: float) -> None:
        self._spm = spm
        self._period = 60.0 / spm
        if self._last_tick is not None:
            # Keep the beat continuous: the next click comes one *new* period after the last.
            self._next = max(self._last_tick + self._period, self._clock.monotonic())
        self._cond.notify_all()

    def stop(self) -> None:
        """Stop clicking (returns after the timing thread has finished)."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(2.0)
        self._thread = None

    def _run(self) -> None:
        with self._cond:
            while not self._stop:
                if self._clock.monotonic() < self._next:
                    self._clock.wait_until(self._cond, self._next)
                    continue
                due = self._next
                self._last_tick = due  # before releasing: a rate change during the click plans from here
                self._cond.release()
                try:
                    self._click()
                except Exception:
                    log.exception("metronome click failed")
                finally:
                    self._cond.acquire()
                self.ticks += 1
                if self._next == due:  # not re-planned by set_spm during the click
                    nxt = due + self._period
                    late = self._clock.monotonic() - nxt
                    if late > 0:
                        # Stalled past whole beats: skip them rather than burst to catch up.
                        nxt += math.ceil(late / self._period) * self._period
                    self._next = nxt
