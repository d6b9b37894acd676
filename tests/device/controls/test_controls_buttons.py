"""Buttons on gpiozero's MockFactory: presses map to start/stop/cancel/print, debounced.

Debounce and hold times run on a manual clock (``clock``): the tests move time, never sleep."""

from __future__ import annotations

import logging

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from device.config import GpioConfig
from device.controls import StationControls
from device.errors import ConfigError
from tests.support.clock import ManualClock

START, STOP, PRINT, LED, BUZZER = 17, 27, 5, 22, 6


class Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def handlers(self) -> dict[str, object]:
        return {f"on_{k}": (lambda k=k: self.calls.append(k)) for k in ("start", "stop", "cancel", "print")}


@pytest.fixture
def factory() -> MockFactory:
    return MockFactory()


def make(factory: MockFactory, rec: Recorder, **gpio: object) -> StationControls:
    cfg = GpioConfig(**{"bounce_s": 0.05, "hold_to_cancel_s": 0.5, **gpio})  # type: ignore[arg-type]
    return StationControls(cfg, pin_factory=factory, clock=ManualClock(), **rec.handlers())  # type: ignore[arg-type]


def settle(c: StationControls, s: float = 0.0) -> None:
    """Let ``s`` seconds pass on the controls' clock, then wait for the handlers to have run."""
    assert isinstance(c.clock, ManualClock)
    if s:
        c.clock.advance(s)
    assert c.wait_idle(2.0)


def test_start_press_calls_on_start_once(factory: MockFactory) -> None:
    rec = Recorder()
    with make(factory, rec) as c:
        pin = factory.pin(START)
        pin.drive_low()
        settle(c, 0.02)
        assert rec.calls == ["start"]  # on press, not on release
        pin.drive_high()
        settle(c, 0.08)
        assert rec.calls == ["start"]


def test_bounce_within_bounce_time_ignored(factory: MockFactory) -> None:
    rec = Recorder()
    with make(factory, rec) as c:
        pin = factory.pin(START)
        for _ in range(4):  # contact chatter: ~8 edges inside a few ms
            pin.drive_low()
            pin.drive_high()
        pin.drive_low()
        settle(c, 0.1)  # past the bounce window: reconciled to "pressed", still one press
        assert rec.calls == ["start"]
        assert c.buttons["start"].is_pressed
        pin.drive_high()
        settle(c, 0.1)
        pin.drive_low()  # a real second press, after the window, counts
        settle(c, 0.02)
        assert rec.calls == ["start", "start"]


def test_tap_shorter_than_bounce_window_is_seen_released(factory: MockFactory) -> None:
    rec = Recorder()
    with make(factory, rec, stop_pin=START) as c:  # single button: acts on release
        pin = factory.pin(START)
        pin.drive_low()
        pin.drive_high()  # released within a few µs: the edge is inside the bounce window
        settle(c, 0.15)
        assert not c.buttons["start_stop"].is_pressed
        assert rec.calls == ["start"]
        settle(c, 0.5)  # the hold timer must not fire for a released button
        assert rec.calls == ["start"]


def test_single_button_short_press_starts_then_stops(factory: MockFactory) -> None:
    rec = Recorder()
    with make(factory, rec, stop_pin=START) as c:
        pin = factory.pin(START)
        pin.drive_low()
        settle(c, 0.1)
        assert rec.calls == []  # a press might become a hold: nothing until release
        pin.drive_high()
        settle(c, 0.1)
        c.set_state("capturing")
        pin.drive_low()
        settle(c, 0.1)
        pin.drive_high()
        settle(c, 0.02)
        assert rec.calls == ["start", "stop"]


def test_single_button_hold_cancels_not_stops(factory: MockFactory) -> None:
    rec = Recorder()
    with make(factory, rec, stop_pin=START) as c:
        c.set_state("capturing")
        pin = factory.pin(START)
        pin.drive_low()
        settle(c, 0.7)  # hold_to_cancel_s = 0.5
        assert rec.calls == ["cancel"]  # fires while still held: the clinician feels it work
        pin.drive_high()
        settle(c, 0.1)
        assert rec.calls == ["cancel"]


def test_stop_button_short_press_stops_and_hold_cancels(factory: MockFactory) -> None:
    rec = Recorder()
    with make(factory, rec) as c:
        pin = factory.pin(STOP)
        pin.drive_low()
        settle(c, 0.1)
        pin.drive_high()
        settle(c, 0.1)
        assert rec.calls == ["stop"]
        pin.drive_low()
        settle(c, 0.7)
        pin.drive_high()
        settle(c, 0.05)
        assert rec.calls == ["stop", "cancel"]


def test_print_button(factory: MockFactory) -> None:
    rec = Recorder()
    with make(factory, rec, print_pin=PRINT) as c:
        factory.pin(PRINT).drive_low()
        settle(c, 0.02)
        assert rec.calls == ["print"]


def test_failing_handler_is_logged_and_buttons_keep_working(
    factory: MockFactory, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def boom() -> None:
        calls.append(1)
        raise RuntimeError("camera busy")

    cfg = GpioConfig(bounce_s=0.01)
    with (
        StationControls(cfg, pin_factory=factory, on_start=boom, clock=ManualClock()) as c,
        caplog.at_level(logging.ERROR),
    ):
        pin = factory.pin(START)
        pin.drive_low()
        settle(c, 0.05)
        pin.drive_high()
        settle(c, 0.05)
        pin.drive_low()
        settle(c, 0.05)
    assert calls == [1, 1]
    assert "camera busy" in caplog.text


def test_handlers_can_be_connected_later_and_missing_ones_are_harmless(factory: MockFactory) -> None:
    with StationControls(GpioConfig(bounce_s=0.01), pin_factory=factory, clock=ManualClock()) as c:
        pin = factory.pin(START)
        pin.drive_low()
        settle(c, 0.05)
        pin.drive_high()
        got: list[str] = []
        c.on_start = lambda: got.append("start")
        settle(c, 0.05)
        pin.drive_low()
        settle(c, 0.05)
        assert got == ["start"]


def test_close_releases_pins(factory: MockFactory) -> None:
    rec = Recorder()
    c = make(factory, rec, print_pin=PRINT, buzzer_pin=BUZZER)
    c.close()
    c.close()  # idempotent
    # The same pins can be claimed again (reservations were released).
    with make(factory, rec, print_pin=PRINT, buzzer_pin=BUZZER) as c2:
        assert c2.available


def test_disabled_gpio_runs_without_devices() -> None:
    with StationControls(GpioConfig(enabled=False)) as c:
        assert not c.available
        assert "disabled" in c.reason
        c.set_state("capturing")  # no LED: still fine
        c.countdown(3)
        assert c.metronome is None


def test_no_pin_factory_falls_back_gracefully(monkeypatch: pytest.MonkeyPatch) -> None:
    # What a laptop without GPIO sees: gpiozero cannot load any pin factory.
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "no-such-factory")
    monkeypatch.setattr(Device, "pin_factory", None)
    with StationControls(GpioConfig(buzzer_pin=BUZZER)) as c:
        assert not c.available
        assert "no GPIO" in c.reason
        assert c.buttons == {} and c.led is None and c.metronome is None
        c.set_state("done")


def test_pin_conflict_is_a_config_error(factory: MockFactory) -> None:
    with pytest.raises(ConfigError, match="GPIO22 is already used by led_pin"):
        StationControls(GpioConfig(buzzer_pin=LED), pin_factory=factory)
