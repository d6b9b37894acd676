"""Status LED patterns, observed on the mock pin's state history (timestamps included)."""

from __future__ import annotations

import time

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from device.config import GpioConfig
from device.controls import PATTERNS, StationControls
from tests.support.clock import ManualClock
from tests.support.eventually import eventually

LED = 22


def on_durations(pin) -> list[float]:
    """Durations of completed "on" spells from a MockPin history (timestamp = time since last change)."""
    states = pin.states
    return [states[i + 1].timestamp for i in range(len(states) - 1) if states[i].state == 1]


def observe(c: StationControls, factory: MockFactory, state: str, seconds: float):
    pin = factory.pin(LED)
    c.set_state(state)
    pin.clear_states()
    time.sleep(seconds)
    return pin


def observe_until(c: StationControls, factory: MockFactory, state: str, on_spells: int):
    """The pin once the pattern has completed ``on_spells`` "on" spells (waited for, not
    assumed within a fixed time: gpiozero's pattern thread runs late on a loaded machine)."""
    pin = factory.pin(LED)
    c.set_state(state)
    pin.clear_states()
    assert eventually(lambda: len(on_durations(pin)) >= on_spells, 10), on_durations(pin)
    return pin


@pytest.fixture
def controls():
    factory = MockFactory()
    c = StationControls(GpioConfig(), pin_factory=factory)
    yield c, factory
    c.close()


def test_every_controller_state_has_a_pattern() -> None:
    for state in ("idle", "ready", "countdown", "capturing", "analysing", "done", "failed"):
        assert state in PATTERNS


def test_capturing_is_steady_on(controls) -> None:
    c, factory = controls
    pin = observe(c, factory, "capturing", 0.3)
    assert pin.state == 1
    assert len(pin.states) == 1  # no change at all while capturing


def test_analysing_blinks_fast(controls) -> None:
    c, factory = controls
    pin = observe_until(c, factory, "analysing", 2)
    ons = on_durations(pin)
    assert len(ons) >= 2
    assert all(0.05 <= d <= 0.25 for d in ons), ons  # 0.1 s (slack for a loaded CI machine)


def test_ready_blinks_slowly_and_differs_from_analysing(controls) -> None:
    c, factory = controls
    pin = observe(c, factory, "ready", 0.4)
    assert pin.state == 1 and len(pin.states) == 1  # first second of a 1 s on / 1 s off blink


def test_failed_plays_sos(controls) -> None:
    c, factory = controls
    pin = observe_until(c, factory, "failed", 4)
    ons = on_durations(pin)
    assert len(ons) >= 4, ons
    assert all(d < 0.3 for d in ons[:3]), ons  # three dots (0.15 s)
    assert 0.35 < ons[3] < 0.7, ons  # then a dash (0.45 s)


def test_state_aliases_and_unknown_state(controls) -> None:
    c, factory = controls
    c.set_state("capturing")
    c.set_state("interrupted")  # store status word: shown as idle
    assert c.status()["led_pattern"] == "idle"
    c.set_state("bogus")
    assert c.state == "idle"


def test_idle_breathes_on_a_pwm_pin() -> None:
    factory = MockFactory(pin_class=MockPWMPin)
    with StationControls(GpioConfig(), pin_factory=factory) as c:
        assert c.led is not None and c.led.pwm
        pin = factory.pin(LED)
        pin.clear_states()
        time.sleep(0.4)
        levels = {round(s.state, 2) for s in pin.states}
        assert any(0.05 < v < 0.95 for v in levels), levels  # fading, not just on/off


def test_idle_blips_without_pwm(controls) -> None:
    c, factory = controls
    assert c.led is not None and not c.led.pwm
    pin = observe_until(c, factory, "idle", 1)
    ons = on_durations(pin)
    assert ons and ons[0] < 0.2  # a short blip, then off
    assert pin.state == 0


def test_a_refused_start_shows_failed_for_the_hold_time_then_the_state_again() -> None:
    """A refused start changes no state: nothing else would ever take "failed" off the LED."""
    clock = ManualClock()
    with StationControls(GpioConfig(), pin_factory=MockFactory(), clock=clock) as c:
        assert c.led is not None
        c.set_state("ready")
        c.show_refusal(20.0)
        assert c.state == "failed" and c.led.pattern_name == "failed"
        clock.advance(19.0)
        c.show_refusal(20.0)  # pressed again: held anew, and still back to "ready" after it
        clock.advance(19.0)
        assert c.led.pattern_name == "failed"
        clock.advance(1.5)
        assert c.state == "ready" and c.led.pattern_name == "ready"
        c.show_refusal(20.0)
        c.set_state("capturing")  # the station moved on (the camera came back, a start)
        clock.advance(30.0)
        assert c.state == "capturing" and c.led.pattern_name == "capturing"
