"""The camera's clock check: which frame times are believed, and when the clock is broken."""

from __future__ import annotations

import math

import pytest

from device.capture.camera_clock import BROKEN_AFTER, SLOW_MARGIN_S, CameraClock, Mistiming, RealTimeLimit


class Wall:
    """A wall clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_frames_in_order_and_dropped_frames_are_believed() -> None:
    clock = CameraClock(Wall())
    # 30 fps with a few frame periods missing (a slow reader): gaps, not faults
    for i, t in enumerate([100.0, 100.033, 100.067, 100.2, 100.233]):
        assert clock.check(i, t) is None
    assert clock.last_t == 100.233 and clock.in_a_row == 0


@pytest.mark.parametrize("t", [math.inf, -math.inf, math.nan])
def test_a_time_that_is_not_a_number_is_never_believed(t: float) -> None:
    clock = CameraClock(Wall())
    first = clock.check(0, t)
    assert first is not None and first.why is Mistiming.NOT_A_TIME and first.describe() == f"timed {t}"
    assert clock.check(1, 100.0) is None
    assert clock.check(2, t) is not None and clock.last_t == 100.0


def test_a_frame_back_in_time_is_mistimed_and_the_next_in_order_is_believed() -> None:
    clock = CameraClock(Wall())
    assert clock.check(0, 100.0) is None
    assert clock.check(1, 100.033) is None
    back = clock.check(2, 99.5)
    assert back is not None and back.why is Mistiming.BACKWARDS
    assert back.describe() == "timed 0.533 s before the last good frame"
    same = clock.check(3, 100.033)
    assert same is not None and same.describe() == "timed as the last good frame"
    assert clock.in_a_row == 2 and not clock.broken
    assert clock.check(4, 100.1) is None and clock.in_a_row == 0


def test_a_leap_beyond_the_wall_clock_is_mistimed_but_a_real_pause_is_not() -> None:
    wall = Wall()
    clock = CameraClock(wall)
    assert clock.check(0, 100.0) is None
    leap = clock.check(1, 100.0 + 1e6)
    assert leap is not None and leap.why is Mistiming.LEAP
    assert leap.describe() == "timed 1e+06 s after the last good frame"
    assert clock.check(2, 101.5) is not None  # 1.5 s ahead in no wall time at all
    wall.now = 3.0  # the camera delivered nothing for 3 s of real time
    assert clock.check(3, 103.0) is None


def test_a_frame_taken_after_a_busy_spell_is_believed_though_the_queued_ones_were_read_late() -> None:
    # The reader stalls 0.5 s: the camera's four queued frames are read late, it drops what it
    # has no buffer for, and the next frame it takes is read at once, 0.37 s after the last
    # late one in camera time but 0.03 s in wall time. It was left out as a leap ahead.
    wall = Wall()
    clock = CameraClock(wall)
    for i in range(10):
        wall.now = i / 30
        assert clock.check(i, 100.0 + i / 30) is None
    for i in range(10, 14):
        wall.now = 0.8 + (i - 10) * 0.001
        assert clock.check(i, 100.0 + i / 30) is None
    for i in range(25, 40):
        wall.now = i / 30 + 0.001
        assert clock.check(i, 100.0 + i / 30) is None, i
    assert clock.in_a_row == 0


def test_a_clock_that_stays_wrong_is_broken_after_a_short_run() -> None:
    clock = CameraClock(Wall())
    assert clock.check(0, 100.0) is None
    for i in range(1, BROKEN_AFTER):
        assert clock.check(i, 100.0 - 1000 + i / 30) is not None
        assert not clock.broken
    assert clock.check(BROKEN_AFTER, 100.0 - 1000 + BROKEN_AFTER / 30) is not None
    assert clock.broken
    assert clock.run_first is not None and clock.run_first.index == 1  # where it went wrong
    assert clock.check(BROKEN_AFTER + 1, 100.1) is None and clock.run_first is None


@pytest.mark.parametrize(("fps", "ahead"), [(30.0, 0.8), (120.0, 0.09)])
def test_one_frame_stamped_a_little_ahead_is_left_out_and_the_true_ones_after_it_believed(
    fps: float, ahead: float
) -> None:
    # believed at once, it made every true frame after it "backwards": a broken clock
    wall = Wall()
    clock = CameraClock(wall)
    for i in range(30):
        wall.now = i / fps
        t = 100.0 + i / fps + (ahead if i == 10 else 0.0)
        mistimed = clock.check(i, t)
        assert (mistimed is not None) == (i == 10), i
    assert not clock.broken and clock.last_t == pytest.approx(100.0 + 29 / fps)


def test_a_step_ahead_that_holds_costs_one_frame() -> None:
    wall = Wall()
    clock = CameraClock(wall)
    for i in range(40):
        wall.now = i / 30
        t = 100.0 + i / 30 + (0.5 if i >= 10 else 0.0)  # the clock moved on by 0.5 s, for good
        assert (clock.check(i, t) is not None) == (i == 10), i
    assert clock.in_a_row == 0 and clock.last_t == pytest.approx(100.5 + 39 / 30)


def test_a_capture_is_given_twice_its_length_and_its_countdown_in_real_time() -> None:
    limit = RealTimeLimit(duration_s=60.0, countdown_s=3.0)
    assert limit.limit_s == 123.0 + SLOW_MARGIN_S
    assert limit.overrun(limit.limit_s, 59.9) is None  # a busy machine's slow start: in time
    assert limit.overrun(limit.limit_s + 1, 0.124) == (
        f"camera clock runs slow: 0.12 s of a 60 s capture in {limit.limit_s + 1:.0f} s of real time; "
        "recording stopped there"
    )
    assert limit.overrun(limit.limit_s + 1, None) == (
        f"camera clock runs slow: the countdown did not end in {limit.limit_s + 1:.0f} s; nothing recorded"
    )
