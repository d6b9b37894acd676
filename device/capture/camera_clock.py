"""The camera's clock, checked frame by frame: a capture is timed by it (its length, the frame
rate, every stride), so a frame time that cannot be true must not reach the recording.

A frame's time is believed when it is a number, later than the last believed frame's, and not
further ahead of it than the wall clock allows: a camera cannot stamp a frame seconds into the
future (a real pause — the camera delivered nothing for a while — is matched by the wall clock),
and a source read faster than real time (a file) has no reason for a jump over
:data:`MAX_LEAP_S` either. Dropped frames leave gaps of a few frame periods: well inside.

One mistimed frame is a glitch (left out, counted); :data:`BROKEN_AFTER` in a row is a broken
clock (a step backwards or forwards that stays), and the recording cannot go on by it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

#: How far a frame may run ahead of the last believed one beyond the wall time between them. The
#: analysis splits a recording at a gap of this size (device.gait.analysis.MAX_TIME_GAP_S).
MAX_LEAP_S = 1.0
#: Mistimed frames in a row that make a broken clock rather than a glitch: a third of a second at
#: 30 fps, 83 ms at 120 fps; an out-of-order frame is one or two.
BROKEN_AFTER = 10


class Mistiming(Enum):
    """Why a frame's time was not believed; the value is the headline of a broken clock."""

    NOT_A_TIME = "camera gave frames without a valid time"
    BACKWARDS = "camera clock went backwards"
    LEAP = "camera clock jumped ahead"


@dataclass(frozen=True)
class MistimedFrame:
    """A frame whose time ``t`` was not believed, after the last believed time ``last_t``."""

    index: int
    t: float
    last_t: float | None
    why: Mistiming

    def describe(self) -> str:
        """What was wrong with its time, for a person (a clause: 'timed 1000 s before ...')."""
        if self.why is Mistiming.NOT_A_TIME or self.last_t is None:
            return f"timed {self.t}"
        step = self.t - self.last_t
        if self.why is Mistiming.BACKWARDS:
            return (
                f"timed {-step:.4g} s before the last good frame" if step else "timed as the last good frame"
            )
        return f"timed {step:.4g} s after the last good frame"


class CameraClock:
    """Believes or rejects each frame's time (:meth:`check`); ``wall`` is the real-time clock."""

    def __init__(self, wall: Callable[[], float] = time.monotonic) -> None:
        self._wall = wall
        self.last_t: float | None = None
        self._last_wall = 0.0
        self.in_a_row = 0  # mistimed frames since the last believed one
        self.run_first: MistimedFrame | None = None  # the first of them: where the clock went wrong

    def check(self, index: int, t: float) -> MistimedFrame | None:
        """None when ``t`` is believed (it becomes the last time), else what is wrong with it."""
        now = self._wall()
        why = self._mistiming(t, now)
        if why is None:
            self.last_t, self._last_wall, self.in_a_row, self.run_first = t, now, 0, None
            return None
        mistimed = MistimedFrame(index, t, self.last_t, why)
        self.in_a_row += 1
        self.run_first = self.run_first or mistimed
        return mistimed

    @property
    def broken(self) -> bool:
        return self.in_a_row >= BROKEN_AFTER

    def _mistiming(self, t: float, now: float) -> Mistiming | None:
        if not math.isfinite(t):
            return Mistiming.NOT_A_TIME
        if self.last_t is None:
            return None
        if t <= self.last_t:
            return Mistiming.BACKWARDS
        if t - self.last_t > MAX_LEAP_S + (now - self._last_wall):
            return Mistiming.LEAP
        return None
