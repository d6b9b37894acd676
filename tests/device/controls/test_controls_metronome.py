"""Metronome timing (drift-free at 180 spm), rate changes, buzzer countdown."""

from __future__ import annotations

import time

import pytest
from gpiozero.pins.mock import MockFactory

from device.config import GpioConfig
from device.controls import Beeper, Metronome, StationControls
from device.errors import InputError

BUZZER = 6


def run_metronome(spm: float, seconds: float, click_s: float = 0.0) -> list[float]:
    times: list[float] = []

    def click() -> None:
        times.append(time.monotonic())
        if click_s:
            time.sleep(click_s)  # the real click holds the buzzer on ~30 ms

    m = Metronome(click)
    m.start(spm)
    time.sleep(seconds)
    m.stop()
    return times


def test_ticks_at_180_spm_stay_on_the_grid() -> None:
    times = run_metronome(180, 2.05, click_s=0.03)
    period = 60 / 180
    assert len(times) == 7  # t = 0, 1/3, ... 2.0 s
    errors = [t - (times[0] + k * period) for k, t in enumerate(times)]
    # Absolute scheduling: no accumulating drift even though each click takes 30 ms (relative
    # scheduling would be 180 ms late by the last tick). Bounds leave room for a loaded CI box.
    assert sorted(abs(e) for e in errors)[len(errors) // 2] < 0.010, errors
    assert max(abs(e) for e in errors) < 0.030, errors
    assert abs(errors[-1]) < 0.030, errors


def test_rate_change_on_the_fly() -> None:
    times: list[float] = []
    m = Metronome(lambda: times.append(time.monotonic()))
    m.start(180)
    time.sleep(0.5)  # ticks at 0, 0.333
    m.set_spm(120)
    assert m.spm == 120
    time.sleep(1.2)
    m.stop()
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert abs(gaps[0] - 1 / 3) < 0.03, gaps
    assert all(abs(g - 0.5) < 0.03 for g in gaps[1:]), gaps  # the beat continues at the new rate
    assert not m.running and m.spm == 0


def test_stop_is_prompt_and_start_again_works() -> None:
    times: list[float] = []
    m = Metronome(lambda: times.append(time.monotonic()))
    m.start(60)
    t0 = time.monotonic()
    m.stop()
    assert time.monotonic() - t0 < 0.2  # not waiting out a 1 s beat
    n = len(times)
    time.sleep(0.1)
    assert len(times) == n
    m.start(240)
    time.sleep(0.3)
    m.stop()
    assert len(times) >= n + 2


def test_failing_click_does_not_stop_the_beat() -> None:
    count = [0]

    def click() -> None:
        count[0] += 1
        raise OSError("buzzer gone")

    m = Metronome(click)
    m.start(240)
    time.sleep(0.6)
    m.stop()
    assert count[0] >= 2


@pytest.mark.parametrize("bad", [0, 30, 400, float("nan")])
def test_out_of_range_rate_refused(bad: float) -> None:
    with pytest.raises(InputError, match="between 60 and 240"):
        Metronome(lambda: None).start(bad)


def test_metronome_sounds_the_buzzer_and_stops_when_run_ends() -> None:
    factory = MockFactory()
    with StationControls(GpioConfig(buzzer_pin=BUZZER), pin_factory=factory) as c:
        assert c.metronome is not None
        pin = factory.pin(BUZZER)
        pin.clear_states()
        c.set_state("capturing")
        c.metronome.start(180)
        time.sleep(0.75)  # clicks at 0, 0.333, 0.667
        c.set_state("analysing")  # run over: metronome stops by itself
        assert not c.metronome.running
        rises = [s for s in pin.states[1:] if s.state]
        assert len(rises) == 3
        ons = [pin.states[i + 1].timestamp for i, s in enumerate(pin.states[:-1]) if s.state]
        assert all(0.02 <= d <= 0.1 for d in ons), ons  # 30 ms clicks
        assert pin.state == 0


def test_countdown_beeps_then_go() -> None:
    factory = MockFactory()
    beeper = Beeper(BUZZER, pin_factory=factory)
    try:
        pin = factory.pin(BUZZER)
        pin.clear_states()
        beeper.countdown(2, interval_s=0.2)
        time.sleep(1.0)  # ticks at 0 and 0.2 s, "go" 0.4-0.8 s
        ons = [pin.states[i + 1].timestamp for i, s in enumerate(pin.states[:-1]) if s.state]
        assert len(ons) == 3, pin.states
        assert ons[0] < 0.16 and ons[1] < 0.16  # two short ticks (80 ms)
        assert 0.35 < ons[2] < 0.6  # the long "go" (400 ms)
    finally:
        beeper.close()


def test_countdown_can_be_cancelled() -> None:
    factory = MockFactory()
    beeper = Beeper(BUZZER, pin_factory=factory)
    try:
        pin = factory.pin(BUZZER)
        beeper.countdown(5, interval_s=0.2)
        time.sleep(0.05)
        beeper.stop()
        pin.clear_states()
        time.sleep(0.3)
        assert pin.state == 0 and len(pin.states) == 1
    finally:
        beeper.close()
