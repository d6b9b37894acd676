"""Metronome timing (drift-free at 180 spm), rate changes, buzzer countdown: on a manual clock,
so the times are exact and the tests never sleep."""

from __future__ import annotations

import pytest
from gpiozero.pins.mock import MockFactory

from device.config import GpioConfig
from device.controls import Beeper, Metronome, StationControls
from device.errors import InputError
from tests.support.clock import ManualClock
from tests.support.eventually import eventually

BUZZER = 6


def parked(clock: ManualClock, n: int = 1) -> None:
    """Wait until ``n`` worker threads sleep on the clock (so moving time on is seen by them)."""
    assert eventually(lambda: clock.sleepers == n), "worker thread never went back to waiting"


def step_to(clock: ManualClock, t: float, ticks: list[float], expect: int) -> None:
    clock.advance_to(t)
    assert eventually(lambda: len(ticks) == expect), (t, ticks)


def test_ticks_at_180_spm_stay_on_the_grid() -> None:
    clock = ManualClock(100.0)
    times: list[float] = []

    def click() -> None:
        times.append(clock.monotonic())
        clock.advance(0.03)  # the real click holds the buzzer on ~30 ms

    m = Metronome(click, clock=clock)
    m.start(180)
    period = 60 / 180
    try:
        assert eventually(lambda: len(times) == 1)
        for k in range(1, 7):
            parked(clock)
            assert len(times) == k  # nothing before the tick is due
            step_to(clock, 100.0 + k * period, times, k + 1)
    finally:
        m.stop()
    # Absolute scheduling: tick k at start + k * period although each click takes 30 ms
    # (relative scheduling would be 180 ms late by the last tick).
    assert times == pytest.approx([100.0 + k * period for k in range(7)], abs=1e-9)
    assert m.ticks == 7


def test_a_stalled_beat_is_skipped_not_burst() -> None:
    clock = ManualClock()
    times: list[float] = []
    m = Metronome(lambda: times.append(clock.monotonic()), clock=clock)
    m.start(120)  # 0.5 s period
    try:
        assert eventually(lambda: len(times) == 1)
        parked(clock)
        clock.advance(1.7)  # the thread was held up past three beats
        assert eventually(lambda: len(times) == 2)
        parked(clock)
        assert len(times) == 2  # one late click, no catch-up burst
        step_to(clock, 2.0, times, 3)  # back on the original grid
    finally:
        m.stop()
    assert times == pytest.approx([0.0, 1.7, 2.0])


def test_rate_change_on_the_fly() -> None:
    clock = ManualClock()
    times: list[float] = []
    m = Metronome(lambda: times.append(clock.monotonic()), clock=clock)
    m.start(180)
    assert eventually(lambda: len(times) == 1)
    parked(clock)
    step_to(clock, 1 / 3, times, 2)
    parked(clock)
    clock.advance_to(0.5)
    m.set_spm(120)
    assert m.spm == 120
    for k in range(1, 4):
        parked(clock)
        step_to(clock, 1 / 3 + 0.5 * k, times, 2 + k)
    m.stop()
    # the beat continues from the last tick at the new rate
    assert times == pytest.approx([0.0, 1 / 3, 1 / 3 + 0.5, 1 / 3 + 1.0, 1 / 3 + 1.5])
    assert not m.running and m.spm == 0


def test_stop_is_prompt_and_start_again_works() -> None:
    clock = ManualClock()
    times: list[float] = []
    m = Metronome(lambda: times.append(clock.monotonic()), clock=clock)
    m.start(60)
    assert eventually(lambda: len(times) == 1)
    parked(clock)
    m.stop()  # returns without the clock moving: not waiting out the 1 s beat
    assert not m.running and clock.sleepers == 0
    clock.advance(5.0)
    assert times == [0.0]
    m.start(240)
    assert eventually(lambda: len(times) == 2)
    parked(clock)
    step_to(clock, 5.25, times, 3)
    m.stop()
    assert times == pytest.approx([0.0, 5.0, 5.25])


def test_failing_click_does_not_stop_the_beat() -> None:
    clock = ManualClock()
    count = [0]

    def click() -> None:
        count[0] += 1
        raise OSError("buzzer gone")

    m = Metronome(click, clock=clock)
    m.start(240)
    try:
        assert eventually(lambda: count[0] == 1)
        parked(clock)
        clock.advance(0.25)
        assert eventually(lambda: count[0] == 2)
        assert m.running
    finally:
        m.stop()


@pytest.mark.parametrize("bad", [0, 30, 400, float("nan")])
def test_out_of_range_rate_refused(bad: float) -> None:
    with pytest.raises(InputError, match="between 60 and 240"):
        Metronome(lambda: None).start(bad)


def test_metronome_sounds_the_buzzer_and_stops_when_run_ends() -> None:
    factory = MockFactory()
    clock = ManualClock()
    with StationControls(GpioConfig(buzzer_pin=BUZZER), pin_factory=factory, clock=clock) as c:
        assert c.metronome is not None
        pin = factory.pin(BUZZER)
        c.set_state("capturing")
        c.metronome.start(180)
        ons: list[float] = []
        for k in range(3):  # clicks at 0, 1/3, 2/3 s, each 30 ms of buzzer
            clock.advance_to(k / 3)
            assert eventually(lambda: pin.state == 1), k
            ons.append(clock.monotonic())
            parked(clock)  # the click's 30 ms
            assert pin.state == 1
            clock.advance(0.03)
            assert eventually(lambda: pin.state == 0), k
            parked(clock)  # waiting for the next beat
        c.set_state("analysing")  # run over: metronome stops by itself
        assert not c.metronome.running
        clock.advance(1.0)
        assert pin.state == 0
        assert ons == pytest.approx([0.0, 1 / 3, 2 / 3])
        assert c.metronome.ticks == 3


def test_countdown_beeps_then_go() -> None:
    factory = MockFactory()
    clock = ManualClock()
    beeper = Beeper(BUZZER, pin_factory=factory, clock=clock)
    pin = factory.pin(BUZZER)
    seen: list[tuple[float, int]] = []

    def expect(state: int) -> None:
        assert eventually(lambda: pin.state == state), (clock.monotonic(), state)
        seen.append((round(clock.monotonic(), 9), state))
        parked(clock)

    try:
        beeper.countdown(2, interval_s=0.2)  # ticks at 0 and 0.2 s (80 ms), "go" at 0.4 s (400 ms)
        expect(1)
        for t, state in ((0.08, 0), (0.2, 1), (0.28, 0), (0.4, 1)):
            clock.advance_to(t)
            expect(state)
        clock.advance_to(0.79)
        assert pin.state == 1  # the go beep is still sounding
        clock.advance_to(0.8)
        assert eventually(lambda: pin.state == 0)
        seen.append((round(clock.monotonic(), 9), 0))
    finally:
        beeper.close()
    assert seen == [(0.0, 1), (0.08, 0), (0.2, 1), (0.28, 0), (0.4, 1), (0.8, 0)]


def test_countdown_can_be_cancelled() -> None:
    factory = MockFactory()
    clock = ManualClock()
    beeper = Beeper(BUZZER, pin_factory=factory, clock=clock)
    try:
        pin = factory.pin(BUZZER)
        beeper.countdown(5, interval_s=0.2)
        assert eventually(lambda: pin.state == 1)
        parked(clock)
        beeper.stop()  # mid-beep, without the clock moving
        assert pin.state == 0 and clock.sleepers == 0
        pin.clear_states()
        clock.advance(2.0)  # every later beep would have been due by now
        assert pin.state == 0 and len(pin.states) == 1
    finally:
        beeper.close()
