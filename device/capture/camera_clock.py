"""The camera's clock, checked frame by frame: a capture is timed by it (its length, the frame
rate, every stride), so a frame time that cannot be true must not reach the recording.

A frame's time is believed when it is a number, later than the last believed frame's, and not
further ahead than the wall clock allows: a camera cannot stamp a frame seconds into the future
(a real pause — the camera delivered nothing for a while — is matched by the wall clock), and a
source read faster than real time (a file) has no reason for a jump over :data:`MAX_LEAP_S`
either. Dropped frames leave gaps of a few frame periods: well inside.

"Ahead" is measured against the camera's lead on the wall clock (frame time minus the time it
was read), the largest any believed frame had: the promptly read frames. After a busy spell
the camera hands over its queued frames late and then, its buffers full meanwhile, a frame taken
well after them; measured from the last late-read frame, that true frame looked a leap ahead
and was left out.

One mistimed frame is a glitch (left out, counted); :data:`BROKEN_AFTER` in a row is a broken
clock (a step backwards or forwards that stays), and the recording cannot go on by it.

A smaller step ahead — more than a few frame periods beyond the wall time, under
:data:`MAX_LEAP_S` — is believed only when the next frame goes on from it. Believed at once, one
frame stamped 0.1–1 s ahead made every true frame after it look "backwards", and the capture
ended for a broken clock; now that frame alone is left out.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

#: How far a frame may run ahead of the last believed one beyond the wall time between them. The
#: analysis splits a recording at a gap of this size (device.gait.analysis.MAX_TIME_GAP_S).
MAX_LEAP_S = 1.0
#: Mistimed frames in a row that make a broken clock rather than a glitch: a third of a second at
#: 30 fps, 83 ms at 120 fps; an out-of-order frame is one or two.
BROKEN_AFTER = 10
#: Left-out frame numbers remembered, the latest ones: the live view's keypoints of a frame arrive
#: an inference later (a few frames; 256 are 2 s at 120 fps), and older ones are only counted.
RECENT_LEFT_OUT = 256
#: Left-out frame numbers named in the log, at each end: the first and the last this many.
NAMED_LEFT_OUT = 5
#: A step ahead by more than this many frame periods (or SUSPECT_MIN_S) beyond the wall time is
#: believed only when the next frame goes on from it. Dropped frames at 30 fps leave gaps of 2–4
#: periods, and are matched by the wall time anyway on a live camera.
SUSPECT_PERIODS = 5
SUSPECT_MIN_S = 0.05
#: Real time a live capture may take beyond twice its length and its countdown before its
#: camera's clock is judged slow: slack for a slow start or a busy machine, not for a clock
#: stamping in the wrong unit (1000 times slow: its 120 s would take 33 hours).
SLOW_MARGIN_S = 5.0


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
        self.in_a_row = 0  # mistimed frames since the last believed one
        self.run_first: MistimedFrame | None = None  # the first of them: where the clock went wrong
        self._period: float | None = None  # the frame period, smoothed over believed steps
        self._pending: tuple[float, float] | None = None  # (t, wall) of a step ahead not yet believed
        # the largest (frame time - wall time) of a believed frame: a frame read at once
        self._lead = -math.inf

    def check(self, index: int, t: float) -> MistimedFrame | None:
        """None when ``t`` is believed (it becomes the last time), else what is wrong with it."""
        now = self._wall()
        pending, self._pending = self._pending, None
        if pending is not None and self._goes_on_from(pending, t, now):
            why = None  # the step ahead held: the clock did move (the frame that made it stays out)
        else:
            why = self._mistiming(t, now)
            if why is None and self._suspect(t, now):
                why = Mistiming.LEAP
                self._pending = (t, now)
        if why is None:
            if self.last_t is not None and t - now <= self._lead + self._allowance():
                step = t - self.last_t
                self._period = step if self._period is None else 0.9 * self._period + 0.1 * step
            self.last_t, self.in_a_row, self.run_first = t, 0, None
            self._lead = max(self._lead, t - now)
            return None
        mistimed = MistimedFrame(index, t, self.last_t, why)
        self.in_a_row += 1
        self.run_first = self.run_first or mistimed
        return mistimed

    @property
    def broken(self) -> bool:
        return self.in_a_row >= BROKEN_AFTER

    def _allowance(self) -> float:
        """How far a frame may run ahead of the wall time and be believed at once."""
        return max(SUSPECT_PERIODS * (self._period or 0.0), SUSPECT_MIN_S)

    def _suspect(self, t: float, now: float) -> bool:
        # no period known yet (the first step): nothing to judge a step by
        if self.last_t is None or self._period is None:
            return False
        return t - now > self._lead + self._allowance()

    def _goes_on_from(self, pending: tuple[float, float], t: float, now: float) -> bool:
        t0, wall0 = pending
        return math.isfinite(t) and t0 < t <= t0 + (now - wall0) + self._allowance()

    def _mistiming(self, t: float, now: float) -> Mistiming | None:
        if not math.isfinite(t):
            return Mistiming.NOT_A_TIME
        if self.last_t is None:
            return None
        if t <= self.last_t:
            return Mistiming.BACKWARDS
        if t - now > self._lead + MAX_LEAP_S:
            return Mistiming.LEAP
        return None


@dataclass(frozen=True)
class RealTimeLimit:
    """How long in real time a capture timed by a live camera's clock may run. Every frame of a
    clock that runs slow is believed (each a little later than the last), but the capture's
    length is never reached on it: the real time ends it, what was recorded kept."""

    duration_s: float
    countdown_s: float

    @property
    def limit_s(self) -> float:
        return 2.0 * self.duration_s + self.countdown_s + SLOW_MARGIN_S

    def overrun(self, wall_s: float, recorded_s: float | None) -> str | None:
        """The line that ends a capture after ``wall_s`` of real time in which the camera's clock
        gave ``recorded_s`` of recording (None: the countdown never ended); None while in time."""
        if wall_s <= self.limit_s:
            return None
        if recorded_s is None:
            return f"camera clock runs slow: the countdown did not end in {wall_s:.0f} s; nothing recorded"
        return (
            f"camera clock runs slow: {recorded_s:.2g} s of a {self.duration_s:g} s capture in "
            f"{wall_s:.0f} s of real time; recording stopped there"
        )


class LeftOutFrames:
    """The frames one recording left out for their time: counted, the first one described, the
    first and last few numbered (:meth:`numbers`). Bounded: a camera that glitches all day
    without ever breaking (fewer than :data:`BROKEN_AFTER` in a row) grows no list all day."""

    def __init__(self) -> None:
        self.count = 0
        self.first: tuple[str, MistimedFrame] | None = None  # (when, frame): the warning's example
        self.last_when: str | None = None
        self._first_numbers: list[int] = []
        self._last_numbers: deque[int] = deque(maxlen=NAMED_LEFT_OUT)
        self._recent: deque[int] = deque(maxlen=RECENT_LEFT_OUT)
        self._recent_set: set[int] = set()

    def add(self, frame: MistimedFrame, when: str) -> None:
        """``frame`` was left out ``when`` ("at 2.0 s") in the recording."""
        self.count += 1
        self.last_when = when
        if self.first is None:
            self.first = (when, frame)
        if len(self._first_numbers) < NAMED_LEFT_OUT:
            self._first_numbers.append(frame.index)
        else:
            self._last_numbers.append(frame.index)
        if len(self._recent) == self._recent.maxlen:
            self._recent_set.discard(self._recent[0])
        self._recent.append(frame.index)
        self._recent_set.add(frame.index)

    def __contains__(self, index: object) -> bool:
        """Whether frame ``index`` was left out (of the :data:`RECENT_LEFT_OUT` latest)."""
        return index in self._recent_set

    @property
    def remembered(self) -> int:
        """How many frame numbers are held (bounded, whatever :attr:`count` grows to)."""
        return len(self._recent) + len(self._first_numbers) + len(self._last_numbers)

    def numbers(self) -> str:
        """The first and last few numbers: "61, 62, 90, 91, 95 … 1480, 1500"."""
        first = ", ".join(str(i) for i in self._first_numbers)
        if not self._last_numbers:
            return first
        skipped = self.count - len(self._first_numbers) - len(self._last_numbers)
        gap = " … " if skipped else ", "
        return first + gap + ", ".join(str(i) for i in self._last_numbers)

    def warning(self) -> str | None:
        """What the session's analysis says about them, None when no frame was left out."""
        if self.first is None:
            return None
        when, frame = self.first
        last = f"; the last {self.last_when}" if self.count > 1 and self.last_when != when else ""
        return (
            f"{self.count} frame(s) left out for an impossible camera time "
            f"(the first {when}: {frame.describe()}{last})"
        )
