"""A USB webcam through OpenCV (dev machines; a Pi without a CSI camera).

A missing webcam is tried again every 2 s by the camera loop (``SOURCE_RETRY_S``); OpenCV's own
log would print its warnings ("can't open camera by index") on every try, all day, into the
journal. It is silenced while a webcam is opened: the station says once that the webcam is
missing, and once that it is back (:class:`device.capture.camera_loop.CameraLoop`).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from device.camera.base import Frame, FrameSource
from device.errors import SourceError

_OPENCV_LOG = threading.Lock()  # OpenCV's log level is the process's: one opener changes it at a time


def opencv_log_level() -> tuple[Callable[[], int], Callable[[int], object]] | None:
    """OpenCV's (get, set) of its log level, or None when this build has neither. OpenCV 4.x's
    wheels (the Pi's, under numpy < 2) have ``cv2.setLogLevel``, 5.x ``cv2.utils.logging``; a
    third-party module, so it is asked which it has."""
    import cv2

    try:
        return cv2.utils.logging.getLogLevel, cv2.utils.logging.setLogLevel
    except AttributeError:
        try:
            return cv2.getLogLevel, cv2.setLogLevel  # type: ignore[attr-defined]  # 4.x only
        except AttributeError:
            return None


@contextlib.contextmanager
def _opencv_quiet() -> Iterator[None]:
    """OpenCV's log silent meanwhile (its level as it was afterwards)."""
    api = opencv_log_level()
    if api is None:  # no way to quiet it: its warnings are only noise
        yield
        return
    get_level, set_level = api
    with _OPENCV_LOG:
        level = get_level()
        set_level(0)  # silent, in both APIs
        try:
            yield
        finally:
            set_level(level)


class DriverClock:
    """The capture time of each frame: the driver's timestamp (CAP_PROP_POS_MSEC, ms) while it
    gives sane, increasing values; once it does not (many drivers report 0, -1 or stale values)
    the monotonic clock at grab time for good, continuing from the last time so the timeline
    stays increasing."""

    def __init__(self, fps: float = 30.0) -> None:
        self.reset(fps)

    def reset(self, fps: float) -> None:
        self.fps = float(fps)
        self.frames = 0
        self.last_t = float("-inf")
        self.uses_driver = True
        self._t0: float | None = None

    def time(self, pos_msec: float, grabbed_at: float) -> float:
        """The time of the frame grabbed now (``grabbed_at``: the monotonic clock)."""
        t = self._time(pos_msec, grabbed_at)
        self.frames += 1
        self.last_t = t
        return t

    def _time(self, pos_msec: float, grabbed_at: float) -> float:
        if self.uses_driver:
            t = pos_msec / 1000.0
            if pos_msec > 0 and t > self.last_t:
                return t
            self.uses_driver = False
            if self.frames > 0:
                self._t0 = grabbed_at - self.last_t - 1.0 / (self.fps or 30.0)
        if self._t0 is None:
            self._t0 = grabbed_at
        t = grabbed_at - self._t0
        return t if t > self.last_t else self.last_t + 1e-6


class WebcamSource(FrameSource):
    """``cv2.VideoCapture(index)``. ``t`` comes from :class:`DriverClock`. The driver buffer is
    kept at one frame so a slow reader gets the newest frame."""

    is_live = True

    def __init__(self, index: int = 0, width: int = 1280, height: int = 720, fps: float = 30.0) -> None:
        self.index = index
        self.name = f"webcam:{index}"
        self._want = (int(width), int(height), float(fps))
        self._cap: Any = None
        self._size = (int(width), int(height))
        self._fps = float(fps)
        self._count = 0
        self.clock = DriverClock(fps)

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    @property
    def nominal_fps(self) -> float:
        return self._fps

    def open(self) -> None:
        import cv2

        with _opencv_quiet():  # the reason is ours to say, once (see the module's docstring)
            cap = cv2.VideoCapture(self.index)
            if not cap.isOpened():
                cap.release()
                raise SourceError(f"webcam {self.index} not found or busy")
        w, h, fps = self._want
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, w)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, h)
        cap.set(cv2.CAP_PROP_FPS, fps)
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        self._size = (
            int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) or w,
            int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) or h,
        )
        self._fps = float(cap.get(cv2.CAP_PROP_FPS) or fps)
        self._cap = cap
        self._count = 0
        self.clock.reset(self._fps)

    def read(self) -> Frame | None:
        import cv2

        cap = self._cap
        if cap is None:
            raise SourceError(f"{self.name}: read before open")
        if not cap.grab():
            raise SourceError(f"{self.name}: stopped delivering frames (unplugged?)")
        grabbed_at = time.monotonic()
        ok, image = cap.retrieve()
        if not ok or image is None:
            raise SourceError(f"{self.name}: stopped delivering frames (unplugged?)")
        t = self.clock.time(cap.get(cv2.CAP_PROP_POS_MSEC), grabbed_at)
        frame = Frame(image=image, t=t, index=self._count)
        self._count += 1
        return frame

    def close(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            cap.release()
