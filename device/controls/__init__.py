"""Physical controls (gpiozero): start/stop/print buttons, status LED, buzzer and cadence metronome.

``StationControls`` composes the small parts; see :mod:`device.controls.station`. They keep time
on a :class:`Clock` (:data:`SYSTEM_CLOCK` on the station; the tests step a manual one).
"""

from device.controls.buttons import DebouncedButton
from device.controls.buzzer import METRONOME_SPM_RANGE, Beeper, Metronome
from device.controls.callbacks import CallbackRunner
from device.controls.clock import SYSTEM_CLOCK, Clock, SystemClock
from device.controls.led import PATTERNS, LedPattern, StatusLed
from device.controls.station import StationControls, check_pins

__all__ = [
    "METRONOME_SPM_RANGE",
    "PATTERNS",
    "SYSTEM_CLOCK",
    "Beeper",
    "CallbackRunner",
    "Clock",
    "DebouncedButton",
    "LedPattern",
    "Metronome",
    "StationControls",
    "StatusLed",
    "SystemClock",
    "check_pins",
]
