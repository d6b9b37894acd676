"""Live cadence and stride count for the dashboard, one frame at a time.

What it is for: the number the runner and clinician watch during the capture. It is not the
analysis (that runs on the whole timeline afterwards); it must be cheap and steady:

- O(1) work per frame, fixed-size ring buffers, no allocation that grows with the run;
- steps are the peaks of the distance between the two ankles (largest once per step, in side
  and rear views alike, and immune to the model swapping left/right);
- peaks are found with hysteresis against a slowly decaying amplitude, so noise and small
  wobbles don't count as steps;
- cadence = 60 / mean of the last :data:`STEP_WINDOW` step intervals that lie within 20% of
  their median (None until enough plausible steps); strides = steps // 2;
- checked against a second estimate the live pose model's rate cannot halve: the ankles'
  fore-aft swing (relative to the hips) over the last :data:`SPECTRUM_WINDOW_S`, whose spectral
  peak is the stride rate (``cadence.ankle_spectrum_spm``, the analysis's own). A Pi 4 infers
  about 10 frames a second (docs/capture.md, published figure); at that rate a step lasts 3–4
  samples, the moment the feet pass is often not sampled, and the step peaks of the labelled
  clip merged in pairs: the live number read as low as 72–94 steps/min for 169, more than 10 %
  off in 29–100 % of its readings (by which frames were inferred); now in none, at 8–30 fps.
  The steps' figure is shown where the two agree, else the swing's; the steps' alone only where
  the rate is at least :data:`MIN_PEAK_FPS`. Decided every :data:`SPECTRUM_EVERY_S` of frames.

``hints()`` gives capture-quality hint codes (:class:`Hint`; their words for the dashboard in
:data:`HINT_WORDS`) from the last ~:data:`HINT_FRAMES` frames.
"""

from __future__ import annotations

import math
from enum import StrEnum

import numpy as np

from device.gait.cadence import AGREE_FRAC, ankle_spectrum_spm
from device.keypoints import KP

STEP_WINDOW = 8  # step intervals in the cadence median
HINT_FRAMES = 60  # frames the quality hints look back over
MIN_STEP_S, MAX_STEP_S = 0.2, 1.0  # 60..300 steps/min
MIN_SCORE = 0.25
#: The ankles' swing is read over this much of the recent run (7+ strides at any running
#: cadence), once it spans MIN_SPECTRUM_S; the cadence shown is decided every SPECTRUM_EVERY_S.
SPECTRUM_WINDOW_S = 6.0
MIN_SPECTRUM_S = 4.0
SPECTRUM_EVERY_S = 0.25
#: samples kept for it (6 s up to 85 frames a second; faster, the window is the last 512)
SPECTRUM_SAMPLES = 512
#: The step peaks alone (no swing spectrum: a view from behind) are shown from this rate up: on
#: the labelled clip they held at 30 fps, were off by over 10 % in 12–13 % of readings at 15.
MIN_PEAK_FPS = 20.0
_HIPS = (KP["left_hip"], KP["right_hip"])


class Hint(StrEnum):
    """A live capture-quality hint. The live view (``device.capture.live``) and the live cadence
    both raise them; the dashboard shows each code once, in :data:`HINT_WORDS`' words. Codes
    that name a capture problem the analysis also reports are the engine's issue codes
    (``no_runner``, ``feet_out_of_frame``, ``feet_unseen``, ``view_mismatch``: ``device.gait.evidence``)."""

    NO_RUNNER = "no_runner"
    CAMERA_TURNED = "camera_turned"
    FEET_OUT_OF_FRAME = "feet_out_of_frame"
    FEET_UNSEEN = "feet_unseen"
    HEAD_OUT_OF_FRAME = "head_out_of_frame"
    RUNNER_SMALL = "runner_small"
    VIEW_MISMATCH = "view_mismatch"
    NO_STEADY_STEPS = "no_steady_steps"


# The one wording of the live hints, phrased for the person placing the camera (in this order:
# the first one is the dashboard's "fix this first").
HINT_WORDS: dict[Hint, str] = {
    Hint.NO_RUNNER: "no runner in view: step into the frame",
    Hint.CAMERA_TURNED: "runner not upright in the picture: mount the camera level and the right way up"
    " (or set [camera] upside_down = true)",
    Hint.FEET_OUT_OF_FRAME: "feet leave the frame: move the camera back or lower",
    Hint.FEET_UNSEEN: "feet not seen clearly: more light on the feet and the belt",
    Hint.HEAD_OUT_OF_FRAME: "head out of the frame: move the camera back or higher",
    Hint.RUNNER_SMALL: "runner small in the picture: move the camera closer",
    Hint.VIEW_MISMATCH: "camera not side-on: film the runner from the side",
    Hint.NO_STEADY_STEPS: "no steady steps yet",
}


def merge_hints(*sources: list[Hint]) -> list[Hint]:
    """Hints from several producers: each code once, in :data:`HINT_WORDS` order; with no runner
    in view that is the only hint (the others would describe nobody), and so is a turned camera
    (the others would describe a body the pose model garbled)."""
    seen = {h for src in sources for h in src}
    for alone in (Hint.NO_RUNNER, Hint.CAMERA_TURNED):
        if alone in seen:
            return [alone]
    return [h for h in HINT_WORDS if h in seen]


class LiveCadence:
    """Incremental cadence from per-frame keypoints.

    ``LiveCadence(min_score=...)``; call :meth:`update` with ``(t, keypoints)`` — t in seconds,
    keypoints (17, 3) x, y, score in full-frame pixels — once per frame. Read
    :attr:`cadence_spm` (float or None), :attr:`strides`, :attr:`steps`, and :meth:`hints` (the
    steps' own: no runner, no steady steps; how the runner is framed is the live view's
    :class:`device.capture.live.QualityMonitor`).
    """

    def __init__(self, *, min_score: float = MIN_SCORE) -> None:
        self.min_score = min_score
        self._step_t = np.zeros(STEP_WINDOW + 1)  # ring of step times
        self._n_steps = 0
        self._intervals = np.zeros(STEP_WINDOW)
        self._amp = 0.0  # decaying upper envelope of the ankle distance
        self._lo_env = 0.0  # decaying lower envelope
        self._level = 0.0  # smoothed ankle distance
        self._armed = True  # waiting for a rise above the upper threshold
        self._peak_v = -1.0
        self._peak_t = 0.0
        self._prev: tuple[float, float] | None = None
        self._left: tuple[float, float] | None = None
        self._right: tuple[float, float] | None = None
        self._last_t: float | None = None
        # body seen in the last HINT_FRAMES frames (a ring, as uint8) and its running sum
        self._q = np.zeros(HINT_FRAMES, np.uint8)
        self._q_sum = 0
        self._q_i = 0
        self._frames = 0
        # the ankles' fore-aft place relative to the hips (NaN = not seen), a ring of samples
        self._swing_t = np.full(SPECTRUM_SAMPLES, np.nan)
        self._swing = np.full((SPECTRUM_SAMPLES, 2), np.nan)
        self._swing_n = 0
        # steps counted at the shown cadence (the peaks alone undercount at a slow inference
        # rate): from the first step peak to when a cadence was first known at that cadence,
        # then cadence × time
        self._first_step_t: float | None = None
        self._first_steps: int | None = None
        self._step_sum = 0.0
        self._shown: float | None = None  # the cadence shown, decided in update()
        self._shown_at = -math.inf

    # ------------------------------------------------------------------ per frame
    def update(self, t: float, keypoints: np.ndarray) -> None:
        """Feed one frame."""
        t = float(t)
        if self._last_t is not None and t <= self._last_t:
            return  # out-of-order or repeated frame: ignore
        dt = 0.0 if self._last_t is None else t - self._last_t
        self._last_t = t
        kp = keypoints
        s = kp[:, 2]
        la, ra = KP["left_ankle"], KP["right_ankle"]
        ok_l = s[la] >= self.min_score and math.isfinite(kp[la, 0]) and math.isfinite(kp[la, 1])
        ok_r = s[ra] >= self.min_score and math.isfinite(kp[ra, 0]) and math.isfinite(kp[ra, 1])
        body = any(
            s[KP[k]] >= self.min_score for k in ("left_hip", "right_hip", "left_shoulder", "right_shoulder")
        )
        self._push_body(body)
        self._push_swing(t, kp, s, ok_l, ok_r)
        self._count(t, dt)
        if not (ok_l and ok_r) or dt <= 0 and self._frames > 1:
            return
        d = math.hypot(float(kp[la, 0] - kp[ra, 0]), float(kp[la, 1] - kp[ra, 1]))
        # one-pole low-pass at ~6 Hz: keeps the once-per-step peak, drops pose jitter
        alpha = 1.0 - math.exp(-2 * math.pi * 6.0 * dt) if dt > 0 else 1.0
        self._level += alpha * (d - self._level)
        # decaying envelope (max and min) of the distance: thresholds follow zoom and stride
        k = math.exp(-dt / 3.0) if dt > 0 else 1.0
        if self._frames <= 1 or self._lo_env > self._amp:
            self._amp = self._lo_env = self._level
        self._amp = max(self._level, self._level + (self._amp - self._level) * k)
        self._lo_env = min(self._level, self._level + (self._lo_env - self._level) * k)
        span = self._amp - self._lo_env
        hi, lo = self._lo_env + 0.65 * span, self._lo_env + 0.35 * span
        lv = self._level
        if self._armed:
            if lv > hi:
                self._armed = False
                self._set_peak(t, lv)
        else:
            if lv > self._peak_v:
                self._set_peak(t, lv)
            elif self._right is None:
                self._right = (t, lv)
            if lv < lo:
                self._step(self._vertex())
                self._armed = True
        self._prev = (t, lv)

    def _set_peak(self, t: float, v: float) -> None:
        self._left = self._prev
        self._peak_t, self._peak_v = t, v
        self._right = None

    def _vertex(self) -> float:
        """Peak time refined by a parabola through the peak sample and its neighbours (steps
        are 4–8 frames apart at 15–30 fps: whole-frame peak times would jitter the cadence)."""
        if self._left is None or self._right is None:
            return self._peak_t
        (t0, v0), (t1, v1), (t2, v2) = self._left, (self._peak_t, self._peak_v), self._right
        d1, d2 = t1 - t0, t2 - t1
        if d1 <= 0 or d2 <= 0:
            return t1
        # derivative of the parabola through the three points, set to zero
        s1, s2 = (v1 - v0) / d1, (v2 - v1) / d2
        curv = (s2 - s1) / ((d1 + d2) / 2)
        if curv >= 0:
            return t1
        tm = (t0 + t1) / 2 - s1 / curv
        return float(min(max(tm, t0), t2))

    def _push_swing(self, t: float, kp: np.ndarray, s: np.ndarray, ok_l: bool, ok_r: bool) -> None:
        hips = [float(kp[i, 0]) for i in _HIPS if s[i] >= self.min_score and math.isfinite(kp[i, 0])]
        i = self._swing_n % SPECTRUM_SAMPLES
        self._swing_t[i] = t
        hip = sum(hips) / len(hips) if hips else math.nan
        self._swing[i, 0] = float(kp[KP["left_ankle"], 0]) - hip if ok_l else math.nan
        self._swing[i, 1] = float(kp[KP["right_ankle"], 0]) - hip if ok_r else math.nan
        self._swing_n += 1

    def _count(self, t: float, dt: float) -> None:
        # decided here, in the thread that feeds the frames, and only read elsewhere: the
        # dashboard's thread reads the cadence while this one writes the rings
        if t - self._shown_at >= SPECTRUM_EVERY_S:
            self._shown, self._shown_at = self._decide(), t
            if self._shown is not None and self._first_steps is None and self._first_step_t is not None:
                since = max(0.0, t - self._first_step_t)
                self._first_steps = max(self._n_steps, 1 + int(self._shown * since / 60.0))
        if self._shown is not None and dt > 0:
            self._step_sum += self._shown * dt / 60.0

    def _push_body(self, body: bool) -> None:
        self._q_sum += int(body) - int(self._q[self._q_i])
        self._q[self._q_i] = body
        self._q_i = (self._q_i + 1) % HINT_FRAMES
        self._frames += 1

    def _step(self, t_peak: float) -> None:
        if self._n_steps:
            prev = self._step_t[(self._n_steps - 1) % self._step_t.shape[0]]
            iv = t_peak - prev
            if iv < MIN_STEP_S:
                return  # a double peak of one step
            self._intervals[(self._n_steps - 1) % STEP_WINDOW] = iv
        self._step_t[self._n_steps % self._step_t.shape[0]] = t_peak
        self._n_steps += 1
        if self._first_step_t is None:
            self._first_step_t = t_peak

    # ------------------------------------------------------------------ readings
    @property
    def steps(self) -> int:
        """Steps so far: until a cadence is known, those the peaks counted; then, from the first
        step peak on, the cadence shown times the time (at 10 inferences a second the peaks miss
        steps)."""
        if self._first_steps is None:
            return self._n_steps
        return self._first_steps + int(self._step_sum)

    @property
    def strides(self) -> int:
        return self.steps // 2

    @property
    def cadence_spm(self) -> float | None:
        """Steps per minute: the recent steps' where the ankles' swing agrees, else the swing's
        (see the module doc); None until 4 plausible step intervals, or once steps stopped.
        Decided as frames are fed, at most :data:`SPECTRUM_EVERY_S` of frames ago."""
        return self._shown

    def _decide(self) -> float | None:
        if self._n_steps < 5 or self._last_t is None:
            return None
        last = self._step_t[(self._n_steps - 1) % self._step_t.shape[0]]
        if self._last_t - last > 2 * MAX_STEP_S:
            return None  # steps stopped (runner left, or stood still)
        steps = self._steps_cadence()
        swing, rate = self._swing_cadence()
        if swing is not None:
            return steps if steps is not None and abs(steps - swing) <= AGREE_FRAC * swing else swing
        return steps if rate >= MIN_PEAK_FPS else None

    def _swing_cadence(self) -> tuple[float | None, float]:
        """(steps per minute from the ankles' swing over the last SPECTRUM_WINDOW_S, or None;
        samples per second there)."""
        n = min(self._swing_n, SPECTRUM_SAMPLES)
        if n < 10 or self._last_t is None:
            return None, 0.0
        order = (np.arange(self._swing_n - n, self._swing_n)) % SPECTRUM_SAMPLES
        t = self._swing_t[order]
        keep = t > self._last_t - SPECTRUM_WINDOW_S
        t = t[keep]
        span = float(t[-1] - t[0]) if t.size > 1 else 0.0
        rate = (t.size - 1) / span if span > 0 else 0.0
        if span < MIN_SPECTRUM_S:
            return None, rate
        # onto an even grid of as many samples (the camera's clock may be uneven); a sample
        # unseen stays unseen there (ankle_spectrum_spm bridges, or declines, what is missing)
        grid = np.linspace(t[0], t[-1], t.size)
        swing = []
        for a in self._swing[order][keep].T:
            seen = np.isfinite(a)
            on_grid = np.interp(grid, t[seen], a[seen]) if seen.sum() >= 2 else np.full(t.size, np.nan)
            swing.append(np.where(seen, on_grid, np.nan))
        return ankle_spectrum_spm(grid, swing, rate), rate

    def _steps_cadence(self) -> float | None:
        """Steps per minute from the recent step intervals alone (None: fewer than 4, or no
        typical one)."""
        n = min(self._n_steps - 1, STEP_WINDOW)
        if n < 4:
            return None
        iv = self._intervals[:n] if self._n_steps - 1 < STEP_WINDOW else self._intervals
        good = iv[(iv >= MIN_STEP_S) & (iv <= MAX_STEP_S)]
        if good.size < 4:
            return None
        med = float(np.median(good))
        near = good[np.abs(good - med) < 0.2 * med]  # mean of the typical ones: no frame quantisation
        if near.size < 2:
            return None  # intervals disagree (e.g. alternate steps missed): no stable cadence yet
        return float(60.0 / near.mean())

    def hints(self) -> list[Hint]:
        """Capture-quality hints from the last frames (empty: all fine)."""
        n = min(self._frames, HINT_FRAMES)
        if n < 10:
            return []
        if self._q_sum / n < 0.5:
            return [Hint.NO_RUNNER]
        if self.cadence_spm is None and self._frames > 3 * HINT_FRAMES:
            return [Hint.NO_STEADY_STEPS]
        return []
