"""A station push button: debounced in software, with press, short-press and hold events.

Why software debouncing: gpiozero leaves ``bounce_time`` to the pin library, and the libraries
differ (the mock pins ignore it entirely), so a cheap arcade button could start two captures.
:class:`DebouncedButton` accepts the first edge at once (no added latency), ignores further
edges for ``bounce_s``, then re-reads the pin so a tap shorter than the bounce window is still
seen as released. Holds are timed here too, on the debounced state.

Events (each optional, each run on the shared :class:`CallbackRunner`, never on gpiozero's thread):

- ``when_pressed``: the button went down.
- ``when_short_press``: it came up again before ``hold_s`` (use this when a hold means something else).
- ``when_held``: it has been down for ``hold_s``; the release that follows is not a short press.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

from device.controls.callbacks import CallbackRunner
from device.controls.clock import SYSTEM_CLOCK, Clock, Timer

log = logging.getLogger(__name__)

Callback = Callable[[], object]


class DebouncedButton:
    """One physical button on a GPIO pin (wired to ground, internal pull-up: pressed = low)."""

    def __init__(
        self,
        pin: int,
        *,
        runner: CallbackRunner,
        bounce_s: float = 0.05,
        hold_s: float | None = None,
        pin_factory: Any = None,
        name: str = "button",
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        from gpiozero import DigitalInputDevice

        self.name = name
        self._clock = clock
        self.bounce_s = float(bounce_s)
        self.hold_s = hold_s
        self.when_pressed: Callback | None = None
        self.when_short_press: Callback | None = None
        self.when_held: Callback | None = None
        self._runner = runner
        self._lock = threading.RLock()
        self._pressed = False  # debounced state
        self._last_accept = -1e9
        self._press_id = 0
        self._held = False
        self._reconcile: Timer | None = None
        self._hold_timer: Timer | None = None
        self._closed = False
        # A plain input rather than gpiozero's Button: holds are timed here (Button's hold thread
        # would make close() wait out hold_time), and bounce_time=None because we debounce ourselves.
        self._button = DigitalInputDevice(pin, pull_up=True, bounce_time=None, pin_factory=pin_factory)
        self._pressed = bool(self._button.is_active)
        self._button.when_activated = self._edge
        self._button.when_deactivated = self._edge

    @property
    def pin(self) -> Any:
        """The underlying gpiozero pin (tests drive mock pins through it)."""
        return self._button.pin

    @property
    def is_pressed(self) -> bool:
        """The debounced state."""
        return self._pressed

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for timer in (self._reconcile, self._hold_timer):
                if timer is not None:
                    timer.cancel()
        self._button.close()

    # -- edges -----------------------------------------------------------------------------

    def _edge(self) -> None:
        """Any raw edge from gpiozero (its thread): accept now, or re-check after the bounce window."""
        now = self._clock.monotonic()
        with self._lock:
            if self._closed:
                return
            wait = self._last_accept + self.bounce_s - now
            if wait <= 0:
                self._sample(now)
            elif self._reconcile is None:
                self._reconcile = self._clock.call_later(wait, self._reconcile_now)

    def _reconcile_now(self) -> None:
        with self._lock:
            self._reconcile = None
            if not self._closed:
                self._sample(self._clock.monotonic())

    def _sample(self, now: float) -> None:
        """Adopt the pin's current level if it differs from the debounced state (lock held)."""
        actual = bool(self._button.is_active)
        if actual == self._pressed:
            return
        self._pressed = actual
        self._last_accept = now
        if actual:
            self._press_id += 1
            self._held = False
            self._emit(self.when_pressed, "pressed")
            if self.hold_s is not None:
                hold = functools.partial(self._hold_elapsed, self._press_id)
                self._hold_timer = self._clock.call_later(self.hold_s, hold)
        else:
            if self._hold_timer is not None:
                self._hold_timer.cancel()
                self._hold_timer = None
            if not self._held:
                self._emit(self.when_short_press, "short press")

    def _hold_elapsed(self, press_id: int) -> None:
        with self._lock:
            if self._closed or press_id != self._press_id or not self._pressed or self._held:
                return
            self._held = True
            self._hold_timer = None
            self._emit(self.when_held, "held")

    def _emit(self, callback: Callback | None, what: str) -> None:
        if callback is None:
            return
        log.debug("%s %s", self.name, what)
        self._runner.submit(callback, f"{self.name} {what}")
