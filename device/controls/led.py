"""The status LED: one light that tells the clinician what the station is doing.

Each station state has a :class:`LedPattern`; :class:`StatusLed` plays it in the background with
gpiozero (``blink``/``pulse`` with ``background=True``, or a ``source`` sequence for multi-flash
patterns). A PWM-capable pin breathes when idle; on a pin without PWM the LED falls back to a
short blip so "idle" still differs from "off" (station not running).

| state | pattern |
|---|---|
| idle | slow breathe (no PWM: 0.1 s blip every 2 s) |
| ready | slow blink 1 s on / 1 s off — runner entered, press start |
| countdown | blink 0.25 s / 0.25 s |
| capturing | steady on |
| analysing | fast blink 0.1 s / 0.1 s |
| done | long on, short off (1.8 s / 0.2 s) |
| failed | SOS: 3 short, 3 long, 3 short, pause |
"""

from __future__ import annotations

import itertools
import logging
import threading
from dataclasses import dataclass
from typing import Any, Literal

log = logging.getLogger(__name__)

PatternKind = Literal["off", "on", "blink", "pulse", "sequence"]


@dataclass(frozen=True)
class LedPattern:
    """How the LED shows one state. ``steps`` (1/0 per ``step_s``) only for kind "sequence"."""

    kind: PatternKind
    on_s: float = 0.0
    off_s: float = 0.0
    fade_s: float = 0.0
    steps: tuple[int, ...] = ()
    step_s: float = 0.0


_SOS_UNIT = 0.15
# dot = 1 unit on, dash = 3 units on, 1 unit between flashes, 7 units pause at the end.
_SOS = tuple([1, 0] * 3 + [1, 1, 1, 0] * 3 + [1, 0] * 3 + [0] * 6)

PATTERNS: dict[str, LedPattern] = {
    "off": LedPattern("off"),
    "idle": LedPattern("pulse", fade_s=1.5, on_s=0.1, off_s=1.9),
    "ready": LedPattern("blink", on_s=1.0, off_s=1.0),
    "countdown": LedPattern("blink", on_s=0.25, off_s=0.25),
    "capturing": LedPattern("on"),
    "analysing": LedPattern("blink", on_s=0.1, off_s=0.1),
    "done": LedPattern("blink", on_s=1.8, off_s=0.2),
    "failed": LedPattern("sequence", steps=_SOS, step_s=_SOS_UNIT),
}


class StatusLed:
    """A gpiozero PWMLED (or LED when the pin cannot do PWM) that plays :data:`PATTERNS`."""

    def __init__(self, pin: int, pin_factory: Any = None) -> None:
        from gpiozero import LED, PWMLED
        from gpiozero.exc import PinPWMUnsupported

        self._lock = threading.Lock()
        self.pattern_name = "off"
        try:
            self._led: Any = PWMLED(pin, pin_factory=pin_factory)
            self.pwm = True
        except PinPWMUnsupported:
            self._led = LED(pin, pin_factory=pin_factory)
            self.pwm = False

    @property
    def pin(self) -> Any:
        return self._led.pin

    @property
    def value(self) -> float:
        return float(self._led.value)

    def show(self, name: str) -> None:
        """Play the pattern for ``name`` (a key of :data:`PATTERNS`) until the next call."""
        pattern = PATTERNS.get(name)
        if pattern is None:
            log.warning("status LED: no pattern for state %r; leaving %r", name, self.pattern_name)
            return
        with self._lock:
            self.pattern_name = name
            self._play(pattern)

    def _play(self, p: LedPattern) -> None:
        led = self._led
        led.source = None  # stop a running sequence before anything else drives the pin
        led.off()  # also stops a background blink/pulse
        if p.kind == "on":
            led.on()
        elif p.kind == "blink":
            led.blink(on_time=p.on_s, off_time=p.off_s, background=True)
        elif p.kind == "pulse":
            if self.pwm:
                led.pulse(fade_in_time=p.fade_s, fade_out_time=p.fade_s, background=True)
            else:
                led.blink(on_time=p.on_s, off_time=p.off_s, background=True)
        elif p.kind == "sequence":
            led.source_delay = p.step_s
            led.source = itertools.cycle(p.steps)

    def close(self) -> None:
        with self._lock:
            try:
                self._led.source = None
                self._led.off()
            finally:
                self._led.close()
