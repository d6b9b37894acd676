"""The recorder of one camera for one capture: countdown, pose spool, keypoints, live cadence.

Fed from two threads:

- the camera loop calls :meth:`Recorder.on_frame` for *every* frame: after the countdown the
  frame's sensor time and the model's picture go to the pose spool (all of them), a
  downscaled JPEG to the evidence spool (at most :data:`EVIDENCE_FPS`), and sensor-clock gaps
  (frame numbers the camera skipped) are counted;
- the live view calls :meth:`Recorder.on_keypoints` for the frames it inferred: those
  keypoints go to the store (background writer) and the live cadence, and the catch-up
  will not infer them again.

Time is the source's clock (``Frame.t``), so the auto-stop after ``duration_s`` is exact even
for sources faster than real time. That clock is checked first (:class:`CameraClock`): a frame
with an impossible time is left out and counted (:meth:`Recorder.warnings`), and a clock that
stays wrong ends the recording (:data:`FrameOutcome.CLOCK_FAULT`, :attr:`Recorder.clock_fault`),
what came before kept.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np

from device.camera.base import Frame
from device.capture.camera_clock import CameraClock, LeftOutFrames, MistimedFrame
from device.capture.pose_spool import PoseSpoolWriter
from device.capture.spool import FrameSpool
from device.gait.live import Hint, LiveCadence
from device.pose.pipeline import ModelImage
from device.store import KeypointWriter
from device.store.writer import is_disk_full

log = logging.getLogger(__name__)

EVIDENCE_FPS = 30.0  # evidence/video frames per second of capture (report pictures, not analysis)


class FrameOutcome(Enum):
    """What a frame meant for the capture (the controller acts on all but COUNTDOWN, RECORDED
    and IGNORED)."""

    COUNTDOWN = "countdown"
    BEGAN = "began"
    RECORDED = "recorded"
    DONE = "done"
    IGNORED = "ignored"
    CLOCK_FAULT = "clock fault"  # the camera's clock broke: nothing more is recorded
    SPOOL_FAILED = "spool failed"  # the pose spool could not be written: nothing more is recorded


@dataclass(frozen=True)
class RecorderFigures:
    """A recorder's counts (for the session's stats and the dashboard)."""

    frames_spooled: int
    frames_missed: int  # sensor-clock gaps: frames the camera did not deliver
    frames_live: int  # inferred by the live view
    t0: float | None
    t_last: float | None
    width: int | None
    height: int | None

    @property
    def elapsed_s(self) -> float | None:
        return None if self.t0 is None or self.t_last is None else self.t_last - self.t0


class Recorder:
    """Records one camera into ``spool_path`` and the store (``writer``)."""

    def __init__(
        self,
        spool_path: Path,
        writer: KeypointWriter,
        *,
        evidence: FrameSpool | None = None,
        countdown_s: float = 0.0,
        duration_s: float | None = None,
        live_cadence: bool = False,
        min_score: float = 0.3,
        clock: CameraClock | None = None,
    ) -> None:
        self.spool_path = spool_path
        self.writer = writer
        self.evidence = evidence
        self.countdown_s = float(countdown_s)
        self.duration_s = duration_s
        self._want_cadence = live_cadence
        self.min_score = min_score
        self.cadence: LiveCadence | None = None
        self.spool: PoseSpoolWriter | None = None
        self._lock = threading.Lock()
        self.closed = False
        self.t_press: float | None = None
        self.t0: float | None = None
        self.t_last: float | None = None
        self.first_index: int | None = None
        self.last_index: int | None = None
        self.width: int | None = None
        self.height: int | None = None
        self.frames = 0
        self.missed = 0
        self.live = 0
        self._live_t: float | None = None
        self._evidence_t: float | None = None
        self.countdown_left: float | None = self.countdown_s or None
        self.error: str | None = None
        self._spool_refused: OSError | None = None  # why the pose spool could not be created
        self.clock = clock or CameraClock()
        self.clock_fault: str | None = None  # why the recording stopped early: the camera's clock
        # frames left out for their time: the live view's keypoints of them are not kept
        self.left_out = LeftOutFrames()

    # -- camera thread -----------------------------------------------------------------------

    def on_frame(self, frame: Frame, picture: ModelImage) -> FrameOutcome:
        with self._lock:
            if self.closed or self.clock_fault is not None or self._spool_refused is not None:
                return FrameOutcome.IGNORED
            mistimed = self.clock.check(frame.index, frame.t)
            if mistimed is not None:
                return self._leave_out(mistimed)
            if self.t_press is None:
                self.t_press = frame.t
            if self.countdown_s and frame.t - self.t_press < self.countdown_s:
                self.countdown_left = self.countdown_s - (frame.t - self.t_press)
                return FrameOutcome.COUNTDOWN
            self.countdown_left = None
            began = self.spool is None
            if began:
                h, w = frame.image.shape[:2]
                self.width, self.height = w, h
                ph, pw = picture.image.shape[:2]
                try:
                    self.spool = PoseSpoolWriter(
                        self.spool_path,
                        {"width": w, "height": h, "picture": [pw, ph], "camera": self.writer.camera},
                    )
                except OSError as exc:
                    return self._spool_not_created(exc)
                self.t0 = frame.t
                self.first_index = frame.index
                if self._want_cadence:
                    # The pose path's threshold: keypoints below it are already unseen (NaN).
                    self.cadence = LiveCadence(min_score=self.min_score)
            if self.last_index is not None and frame.index > self.last_index + 1:
                self.missed += frame.index - self.last_index - 1
            spool = self.spool
            self.t_last = frame.t
            self.last_index = frame.index
        # Outside the lock: the live thread's keypoints never wait for an encode or the disk.
        if spool is None or not spool.put(frame.index, frame.t, picture.image, picture.scale):
            self.error = (spool.error if spool is not None else None) or "the pose spool stopped"
            return FrameOutcome.IGNORED
        with self._lock:
            self.frames += 1
        if self.evidence is not None and (
            self._evidence_t is None or frame.t - self._evidence_t >= 1.0 / EVIDENCE_FPS - 1e-6
        ):
            self._evidence_t = frame.t
            self.evidence.put(frame.index, frame.image)
        if began:
            return FrameOutcome.BEGAN
        if self.duration_s is not None and self.t0 is not None and frame.t - self.t0 >= self.duration_s:
            return FrameOutcome.DONE
        return FrameOutcome.RECORDED

    def _spool_not_created(self, exc: OSError) -> FrameOutcome:
        """The pose spool could not be created (under the lock): nothing is recorded, and the
        controller ends the capture with :attr:`error` (not one traceback per frame)."""
        self._spool_refused = exc  # no later frame tries again
        self.error = f"pose spool {self.spool_path.name} not created: {exc.strerror or exc}"
        log.error("camera %s: %s", self.writer.camera, self.error)
        return FrameOutcome.SPOOL_FAILED

    def _leave_out(self, frame: MistimedFrame) -> FrameOutcome:
        """A frame with an impossible time (under the lock): left out; a broken clock ends it."""
        when = self._when()
        if self.left_out.first is None:
            log.warning(
                "camera %s: frame %d left out: %s (%s)",
                self.writer.camera,
                frame.index,
                frame.describe(),
                when,
            )
        self.left_out.add(frame, when)
        first = self.clock.run_first
        if not self.clock.broken or first is None:
            return FrameOutcome.IGNORED
        self.clock_fault = self.error = (
            f"{first.why.value} {when}: a frame {first.describe()} and the {self.clock.in_a_row - 1} "
            "after it; recording stopped there"
        )
        log.error("%s", self.clock_fault)
        return FrameOutcome.CLOCK_FAULT

    def _when(self) -> str:
        """Where the capture is, on the dashboard's clock ('at 2.0 s')."""
        if self.t0 is None or self.t_last is None:
            return "at the start" if self.t_press is None else "during the countdown"
        return f"at {self.t_last - self.t0:.1f} s"

    # -- live-view thread ------------------------------------------------------------------------

    def on_keypoints(self, frame: Frame, keypoints: np.ndarray) -> None:
        """Keypoints the live view inferred for ``frame`` (kept if that frame was recorded)."""
        with self._lock:
            if (
                self.closed
                or self.first_index is None
                or self.last_index is None
                or not self.first_index <= frame.index <= self.last_index
                or frame.index in self.left_out
                or (self._live_t is not None and frame.t <= self._live_t)
            ):
                return
            self._live_t = frame.t
            self.live += 1
            row = keypoints.copy()  # the estimator reuses its buffer
            self.writer.append(frame.t, row, frame.index)
            cadence = self.cadence
        if cadence is not None:
            try:
                cadence.update(frame.t, row)
            except Exception:
                log.exception("live cadence failed; disabled for this capture")
                self.cadence = None

    # -- end ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop recording: no frame or keypoint is taken after this; the spool is flushed."""
        with self._lock:
            already, self.closed = self.closed, True
            spool = self.spool
            left_out = self.left_out
        if left_out.count and not already:
            log.warning(
                "camera %s: %d frame(s) left out for an impossible time: frames %s",
                self.writer.camera,
                left_out.count,
                left_out.numbers(),
            )
        if spool is not None:
            spool.close()

    @property
    def began(self) -> bool:
        return self.spool is not None

    @property
    def disk_full(self) -> bool:
        return (
            (self._spool_refused is not None and is_disk_full(self._spool_refused))
            or self.writer.disk_full
            or (self.spool is not None and self.spool.disk_full)
        )

    def figures(self) -> RecorderFigures:
        with self._lock:
            return RecorderFigures(
                self.frames, self.missed, self.live, self.t0, self.t_last, self.width, self.height
            )

    def warnings(self) -> list[str]:
        """What the session's analysis should say about this recording (frames left out)."""
        with self._lock:
            note = self.left_out.warning()
        return [] if note is None else [note]

    def live_cadence(self) -> tuple[float | None, int | None]:
        """(steps per minute, strides) of the live cadence; (None, None) before it has any."""
        lc = self.cadence
        if lc is None:
            return None, None
        spm = lc.cadence_spm
        return (float(spm) if spm is not None and np.isfinite(spm) else None), int(lc.strides)

    def live_hints(self) -> list[Hint]:
        lc = self.cadence
        return lc.hints() if lc is not None else []
