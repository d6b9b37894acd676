"""A USB webcam through OpenCV (dev machines; a Pi without a CSI camera)."""

from __future__ import annotations

import time
from typing import Any

from device.camera.base import Frame, FrameSource
from device.errors import SourceError


class WebcamSource(FrameSource):
    """``cv2.VideoCapture(index)``. ``t`` is the driver's timestamp (CAP_PROP_POS_MSEC) when it
    gives sane, increasing values, else the monotonic clock at grab time. The driver buffer is
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
        self._last_t = float("-inf")
        self._use_driver_clock = True
        self._t0: float | None = None

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    @property
    def nominal_fps(self) -> float:
        return self._fps

    def open(self) -> None:
        import cv2

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
        t = self._time(cap.get(cv2.CAP_PROP_POS_MSEC), grabbed_at)
        frame = Frame(image=image, t=t, index=self._count)
        self._count += 1
        self._last_t = t
        return frame

    def _time(self, pos_msec: float, grabbed_at: float) -> float:
        if self._use_driver_clock:
            t = pos_msec / 1000.0
            if pos_msec > 0 and t > self._last_t:
                return t
            # Many drivers report 0, -1 or stale values: switch to our clock for good, continuing
            # from the last time so the timeline stays increasing.
            self._use_driver_clock = False
            if self._count > 0:
                self._t0 = grabbed_at - self._last_t - 1.0 / (self._fps or 30.0)
        if self._t0 is None:
            self._t0 = grabbed_at
        t = grabbed_at - self._t0
        return t if t > self._last_t else self._last_t + 1e-6

    def close(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            cap.release()
