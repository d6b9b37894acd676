"""The station's physical controls composed: buttons, status LED, buzzer and metronome.

:class:`StationControls` turns button presses into four intents — start, stop, cancel, print —
and shows the capture controller's state on the LED. Whether an intent makes sense right now
(start while capturing, print with no session) is the controller's business: the controls call
the handler and the controller ignores or logs it.

Wiring (``[gpio]`` in the config; pin 0 = not fitted):

- ``start_pin`` != ``stop_pin``: start button acts on press; stop button stops on a short press
  and cancels (discards the run) when held ``hold_to_cancel_s``.
- ``start_pin`` == ``stop_pin``: one button; a short press starts, or stops while capturing or
  counting down; holding it cancels.
- ``print_pin``: prints the summary of the last session on press.
- ``led_pin``: status LED (see :mod:`device.controls.led`).
- ``buzzer_pin``: countdown beeps and the cadence metronome (``controls.metronome``).

Without GPIO (``enabled = false``, or a machine with no pin factory: a laptop, CI without
``GPIOZERO_PIN_FACTORY=mock``) the controls log why and do nothing; the dashboard still works.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Callable
from typing import Any

from device.capture.states import StationState
from device.config import GpioConfig
from device.controls.buttons import DebouncedButton
from device.controls.buzzer import Beeper, Metronome
from device.controls.callbacks import CallbackRunner
from device.controls.clock import SYSTEM_CLOCK, Clock, Timer
from device.controls.led import PATTERNS, StatusLed
from device.errors import ConfigError

log = logging.getLogger(__name__)

Handler = Callable[[], object] | None

# Capture-controller / store words that share a pattern with a canonical state.
STATE_ALIASES = {"interrupted": "idle", "cancelled": "idle", "error": "failed", "stopping": "analysing"}
# States in which a single start/stop button means "stop".
STOPPABLE_STATES = frozenset({StationState.COUNTDOWN, StationState.CAPTURING})
# The metronome is a cue for the run itself; it stops on its own when the run is over.
METRONOME_OFF_STATES = frozenset(
    {StationState.IDLE, StationState.ANALYSING, StationState.DONE, StationState.FAILED}
)


def check_pins(cfg: GpioConfig) -> None:
    """Refuse a wiring where two jobs share a pin (except start == stop: the single button)."""
    used: dict[int, str] = {}
    jobs = [
        ("start_pin", cfg.start_pin),
        ("print_pin", cfg.print_pin),
        ("led_pin", cfg.led_pin),
        ("buzzer_pin", cfg.buzzer_pin),
    ]
    if cfg.stop_pin != cfg.start_pin:
        jobs.insert(1, ("stop_pin", cfg.stop_pin))
    for name, pin in jobs:
        if pin == 0:
            continue
        if pin in used:
            raise ConfigError(f"config [gpio] {name}: GPIO{pin} is already used by {used[pin]}")
        used[pin] = name


class StationControls:
    """Buttons, LED and buzzer of one station; handlers may be (re)assigned after construction."""

    def __init__(
        self,
        gpio_cfg: GpioConfig,
        pin_factory: Any = None,
        on_start: Handler = None,
        on_stop: Handler = None,
        on_cancel: Handler = None,
        on_print: Handler = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.cfg = gpio_cfg
        self.clock = clock  # buttons, beeper and metronome time themselves on it (tests step it)
        self.on_start = on_start
        self.on_stop = on_stop
        self.on_cancel = on_cancel
        self.on_print = on_print
        self.state = "idle"
        self.available = False
        self.reason = ""  # why GPIO is not in use ("" when it is)
        self.buttons: dict[str, DebouncedButton] = {}
        self.led: StatusLed | None = None
        self.beeper: Beeper | None = None
        self.metronome: Metronome | None = None  # None without a buzzer
        self._runner = CallbackRunner()
        self._shown = threading.Lock()  # a state and the end of a refusal's hold: one at a time
        self._hold: Timer | None = None  # a refused start's "failed", until the state comes back
        self._held_state = "idle"  # what the LED showed before the refusal
        self._holds = 0  # refusals shown: only the latest one's hold ends it
        if not gpio_cfg.enabled:
            self.reason = "GPIO disabled in the config ([gpio] enabled = false)"
            log.info("controls: %s", self.reason)
            return
        check_pins(gpio_cfg)
        from gpiozero.exc import GPIOZeroError

        try:
            with warnings.catch_warnings():
                # gpiozero warns once per pin library it cannot load; the outcome is logged below.
                warnings.simplefilter("ignore")
                self._build(pin_factory)
        except (GPIOZeroError, OSError, ImportError) as exc:
            self._close_devices()
            self.reason = _gpio_failure(exc)
            log.warning("controls: running without buttons/LED/buzzer: %s", self.reason)
            return
        self.available = True
        self.set_state("idle")

    def _build(self, pin_factory: Any) -> None:
        c = self.cfg
        kw = {"runner": self._runner, "bounce_s": c.bounce_s, "pin_factory": pin_factory, "clock": self.clock}
        if c.start_pin and c.stop_pin == c.start_pin:
            b = DebouncedButton(c.start_pin, hold_s=c.hold_to_cancel_s, name="start/stop", **kw)
            b.when_short_press = self._start_or_stop
            b.when_held = self._cancel
            self.buttons["start_stop"] = b
        else:
            if c.start_pin:
                b = DebouncedButton(c.start_pin, name="start", **kw)
                b.when_pressed = self._start
                self.buttons["start"] = b
            if c.stop_pin:
                b = DebouncedButton(c.stop_pin, hold_s=c.hold_to_cancel_s, name="stop", **kw)
                b.when_short_press = self._stop
                b.when_held = self._cancel
                self.buttons["stop"] = b
        if c.print_pin:
            b = DebouncedButton(c.print_pin, name="print", **kw)
            b.when_pressed = self._print
            self.buttons["print"] = b
        if c.led_pin:
            self.led = StatusLed(c.led_pin, pin_factory=pin_factory)
        if c.buzzer_pin:
            self.beeper = Beeper(c.buzzer_pin, pin_factory=pin_factory, clock=self.clock)
            self.metronome = Metronome(self.beeper.click, clock=self.clock)

    # -- intents (run on the callback thread) -----------------------------------------------

    @staticmethod
    def _call(handler: Handler, intent: str) -> None:
        if handler is None:
            log.info("controls: %s pressed, but no handler is connected", intent)
            return
        handler()

    # Each reads its handler when the press comes: handlers may be connected after construction.
    def _start(self) -> None:
        self._call(self.on_start, "start")

    def _stop(self) -> None:
        self._call(self.on_stop, "stop")

    def _cancel(self) -> None:
        self._call(self.on_cancel, "cancel")

    def _print(self) -> None:
        self._call(self.on_print, "print")

    def _start_or_stop(self) -> None:
        if self.state in STOPPABLE_STATES:
            self._stop()
        else:
            self._start()

    # -- outputs ------------------------------------------------------------------------------

    def set_state(self, state: str) -> None:
        """Show a capture-controller state (idle, ready, countdown, capturing, analysing, done,
        failed) on the LED, and stop the metronome once the run is over."""
        canonical = STATE_ALIASES.get(state, state)
        if canonical not in PATTERNS:
            log.warning("controls: unknown state %r; LED unchanged", state)
            return
        with self._shown:
            self._end_hold()  # the station moved on: its own state is what the LED shows
            self._show(canonical)

    def show_refusal(self, hold_s: float) -> None:
        """A refused start (camera down, disk full): "failed" on the LED for ``hold_s``, then the
        state it showed before. A refusal changes no state, so no state change would take the
        fault off the LED again; one that comes in the meantime ends the hold."""
        with self._shown:
            if self._hold is None:
                self._held_state = self.state
            self._end_hold()
            self._show(StationState.FAILED)
            self._holds += 1
            n = self._holds
            self._hold = self.clock.call_later(hold_s, lambda: self._hold_over(n))

    def _hold_over(self, n: int) -> None:
        with self._shown:
            if self._hold is None or n != self._holds:
                return  # ended by a state, or replaced by a later refusal
            self._hold = None
            self._show(self._held_state)

    def _end_hold(self) -> None:
        if self._hold is not None:
            self._hold.cancel()
            self._hold = None

    def _show(self, canonical: str) -> None:
        self.state = canonical
        if self.led is not None:
            self.led.show(canonical)
        if self.metronome is not None and canonical in METRONOME_OFF_STATES:
            self.metronome.stop()

    def countdown(self, seconds: int) -> None:
        """Countdown beeps before a capture (no-op without a buzzer)."""
        if self.beeper is not None and seconds > 0:
            self.beeper.countdown(seconds)

    def status(self) -> dict[str, Any]:
        """What is fitted and working (for `doctor` and the settings page)."""
        return {
            "gpio": self.available,
            "reason": self.reason,
            "buttons": sorted(self.buttons),
            "led": self.led is not None,
            "led_pattern": self.led.pattern_name if self.led is not None else None,
            "buzzer": self.beeper is not None,
            "metronome_spm": self.metronome.spm if self.metronome is not None else 0.0,
        }

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until queued button handlers have run (tests, orderly shutdown)."""
        return self._runner.wait_idle(timeout)

    def close(self) -> None:
        """Stop sounds and patterns, release the pins, stop the handler thread. Idempotent."""
        with self._shown:
            self._end_hold()
        self._close_devices()
        self._runner.close()

    def __enter__(self) -> StationControls:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _close_devices(self) -> None:
        if self.metronome is not None:
            self.metronome.stop()
        parts: list[Any] = [*self.buttons.values(), self.led, self.beeper]
        for part in parts:
            if part is None:
                continue
            try:
                part.close()
            except Exception:  # closing must go on for the other pins
                log.exception("controls: closing %r failed", part)
        self.buttons = {}
        self.led = None
        self.beeper = None
        self.metronome = None
        self.available = False


def _gpio_failure(exc: Exception) -> str:
    """A one-line reason for running without GPIO."""
    try:
        from gpiozero.exc import BadPinFactory
    except ImportError:  # pragma: no cover - gpiozero is a dependency
        return f"gpiozero is not installed ({exc})"
    if isinstance(exc, BadPinFactory):
        return f"no GPIO on this machine ({exc}); on a Raspberry Pi install lgpio"
    if isinstance(exc, PermissionError):
        return f"no permission to use GPIO ({exc}); add the user to the gpio group"
    return f"GPIO unavailable: {type(exc).__name__}: {exc}"
