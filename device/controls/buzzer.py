"""Sound cues: countdown beeps before a capture, and a cadence metronome the runner can follow.

- :class:`Beeper` owns the gpiozero ``Buzzer`` (an active piezo: on = sound) and knows the cues.
- :class:`Metronome` is only a clock: it calls ``click`` at a steps-per-minute rate, on a timing
  thread with drift-free scheduling (tick *k* is due at ``start + k * period`` on
  ``time.monotonic``, so a late wake-up never shifts later ticks). The rate can change while it
  runs; the next tick then comes one new period after the last one.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from device.errors import InputError

log = logging.getLogger(__name__)

METRONOME_SPM_RANGE = (60.0, 240.0)  # walking to sprint cadence


class Beeper:
    """The station buzzer: short clicks, countdown beeps and alerts; one cue at a time."""

    CLICK_S = 0.03
    TICK_S = 0.08
    GO_S = 0.4

    def __init__(self, pin: int, pin_factory: Any = None) -> None:
        from gpiozero import Buzzer

        self._buzzer = Buzzer(pin, pin_factory=pin_factory)
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._countdown: threading.Thread | None = None

    @property
    def pin(self) -> Any:
        return self._buzzer.pin

    def _sound(self, seconds: float) -> None:
        with self._lock:
            self._buzzer.on()
        try:
            self._cancel.wait(seconds) if seconds > 0.05 else time.sleep(seconds)
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
        self._cancel.clear()
        t0 = time.monotonic()

        def run() -> None:
            for k in range(int(seconds) + 1):
                wait = t0 + k * interval_s - time.monotonic()
                if wait > 0 and self._cancel.wait(wait):
                    return
                self._sound(self.GO_S if k == seconds else self.TICK_S)
                if self._cancel.is_set():
                    return

        self._countdown = threading.Thread(target=run, name="gait-countdown", daemon=True)
        self._countdown.start()

    def stop(self) -> None:
        """Silence: cancel a countdown or background beep."""
        self._cancel.set()
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

    def __init__(self, click: Callable[[], object]) -> None:
        self._click = click
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
            self._next = time.monotonic()
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
            self._next = max(self._last_tick + self._period, time.monotonic())
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
                now = time.monotonic()
                if now < self._next:
                    self._cond.wait(self._next - now)
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
                    late = time.monotonic() - nxt
                    if late > 0:
                        # Stalled past whole beats: skip them rather than burst to catch up.
                        nxt += math.ceil(late / self._period) * self._period
                    self._next = nxt
