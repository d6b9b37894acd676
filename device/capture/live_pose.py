"""The live view's inference: the newest frame, as often as the pose model keeps up.

The camera loop offers every frame (:meth:`LivePose.offer`, a one-slot mailbox: a newer frame
replaces an older one that was not started yet); this thread infers the newest, updates the
preview (skeleton drawn), the capture-quality hints and the inference rate, and hands the
keypoints to ``on_keypoints`` (the recorder: live cadence and the keypoints it need not infer
again after the capture). A slow model therefore means a slower live view, never a lost frame.

Paused while the catch-up uses the cores (and the estimator) after a capture.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import numpy as np

from device.camera.base import Frame
from device.capture.live import QualityMonitor, render_preview
from device.gait.live import Hint
from device.pose.base import PoseEstimator, new_keypoint_buffer
from device.pose.pipeline import ModelImage, estimate_image

log = logging.getLogger(__name__)

KeypointCallback = Callable[[Frame, np.ndarray], None]


#: No preview is drawn when nobody has asked for one for this long (no tablet on the live page):
#: the downscale and JPEG encode are the live thread's largest cost after the model.
PREVIEW_IDLE_S = 5.0


class LivePose:
    """Newest-frame inference for one camera's live view."""

    def __init__(
        self,
        name: str,
        estimator: PoseEstimator,
        min_score: float,
        preview_fps: float,
        *,
        on_keypoints: KeypointCallback | None = None,
        on_tick: Callable[[], None] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.name = name
        self.estimator = estimator
        self.min_score = min_score
        self._preview_period = 1.0 / max(0.5, preview_fps)
        self._on_keypoints = on_keypoints
        self._on_tick = on_tick
        self._on_error = on_error
        self._cond = threading.Condition()
        self._pending: tuple[Frame, ModelImage] | None = None
        self._paused = False
        self._busy = False
        self._reset_wanted = False
        self._stop = False
        self._thread: threading.Thread | None = None
        self._kp = new_keypoint_buffer()
        self._times: list[float] = []
        self.quality = QualityMonitor(min_score)
        self.inference_fps = 0.0
        self.frames_inferred = 0
        self.frame_t: float | None = None
        self.frame_size: tuple[int, int] | None = None
        self._preview: tuple[int, bytes] | None = None
        self._last_preview = 0.0
        self._asked_at = time.monotonic()  # the start counts as asked: a dashboard opens with it
        self.previews_drawn = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"live-pose-{self.name}", daemon=True)
            self._thread.start()

    def close(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def offer(self, frame: Frame, picture: ModelImage) -> None:
        """The newest frame (camera thread; never blocks on inference)."""
        with self._cond:
            self._pending = (frame, picture)
            self._cond.notify()

    def reset(self) -> None:
        """Forget the estimator's crop (the camera restarted): done before the next frame."""
        with self._cond:
            self._reset_wanted = True

    def pause(self) -> None:
        """Stop inferring and wait until the frame in hand is done: the estimator is free."""
        with self._cond:
            self._paused = True
            self._pending = None
            while self._busy:
                self._cond.wait(0.1)
        self._times.clear()
        self.inference_fps = 0.0

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify()

    @property
    def paused(self) -> bool:
        return self._paused

    def latest_preview(self) -> tuple[int, bytes] | None:
        """The newest preview. Asking keeps previews coming: after :data:`PREVIEW_IDLE_S`
        without a caller the newest one may be that old, and the next is drawn within a frame."""
        self._asked_at = time.monotonic()
        return self._preview

    def hints(self) -> list[Hint]:
        return self.quality.hints(self.inference_fps)

    # -- the thread -------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stop and (self._paused or self._pending is None):
                    self._cond.wait(0.5)
                if self._stop:
                    return
                item = self._pending
                self._pending = None
                self._busy = True
                reset, self._reset_wanted = self._reset_wanted, False
            try:
                if item is not None:
                    if reset:
                        self.estimator.reset()
                    self._infer(*item)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _infer(self, frame: Frame, picture: ModelImage) -> None:
        try:
            kp = estimate_image(self.estimator, picture, self._kp, self.min_score)
        except Exception as exc:
            log.exception("%s: pose estimation failed", self.name)
            if self._on_error is not None:
                self._on_error(f"pose estimation failed: {exc}")
            return
        now = time.monotonic()
        self.frames_inferred += 1
        self.frame_t = frame.t
        h, w = frame.image.shape[:2]
        self.frame_size = (w, h)
        self._track_rate(now)
        self.quality.add(kp, (w, h), picture.scale[1])
        if self._on_keypoints is not None:
            self._on_keypoints(frame, kp)
        if now - self._last_preview >= self._preview_period and now - self._asked_at < PREVIEW_IDLE_S:
            self._last_preview = now
            try:
                jpeg = render_preview(frame.image, kp, self.min_score)
            except Exception:
                log.exception("%s: preview failed", self.name)
                jpeg = b""
            if jpeg:
                self.previews_drawn += 1
                self._preview = (self.previews_drawn, jpeg)
        if self._on_tick is not None:
            self._on_tick()

    def _track_rate(self, now: float) -> None:
        ts = self._times
        ts.append(now)
        if len(ts) > 30:
            del ts[0]
        if len(ts) >= 2 and ts[-1] > ts[0]:
            self.inference_fps = (len(ts) - 1) / (ts[-1] - ts[0])
