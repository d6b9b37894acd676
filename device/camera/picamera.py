"""Raspberry Pi camera through Picamera2, with sensor timestamps and a low-res stream for the model.

Picamera2 needs libcamera (Raspberry Pi OS), so it is imported only when a camera is opened.
Two streams are configured: ``main`` at full resolution (preview, evidence frames) and
``lores`` sized for the pose model, so the ISP does the resize for free. ``t`` is the frame's
``SensorTimestamp`` (start of exposure, ns on the kernel's monotonic clock), not the time
Python read it. Picamera2 (queue mode) keeps only the newest completed frame: a slow reader
gets the latest frame and older ones are recycled (visible as gaps in ``Frame.index``, which
counts sensor frame periods).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from device.camera.base import Frame, FrameSource, LoresFrame
from device.errors import SourceError

log = logging.getLogger(__name__)


def picamera_available() -> bool:
    """True when Picamera2 imports and at least one camera is connected."""
    try:
        from picamera2 import Picamera2
    except Exception:  # ImportError, or libcamera failing to load: either way no Pi camera
        return False
    try:
        return bool(Picamera2.global_camera_info())
    except Exception:
        return False


def lores_size_for(main: tuple[int, int], model_input: int = 192) -> tuple[int, int]:
    """A low-res stream a bit larger than the model input along the short side (the runner's
    crop is most of the frame height), same aspect as ``main``, even sizes as the ISP wants."""
    w, h = main
    short = min(w, h)
    target = min(short, int(model_input * 1.25))
    k = target / short
    lw, lh = int(round(w * k / 2) * 2), int(round(h * k / 2) * 2)
    return max(lw, 2), max(lh, 2)


class PicameraSource(FrameSource):
    """Camera ``index`` (0 = first CSI camera) at ``width``×``height`` and ``fps``."""

    is_live = True

    def __init__(
        self,
        index: int = 0,
        width: int = 1280,
        height: int = 720,
        fps: float = 30.0,
        lores_size: tuple[int, int] | None = None,
        timeout_s: float = 2.0,
    ) -> None:
        self.index = index
        self.name = f"picamera:{index}"
        self._size = (int(width), int(height))
        self._fps = float(fps)
        self._lores_size = lores_size or lores_size_for(self._size)
        self._timeout_s = timeout_s
        self._cam: Any = None
        self._count = 0
        self._t0_ns: int | None = None

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    @property
    def nominal_fps(self) -> float:
        return self._fps

    def open(self) -> None:
        try:
            from picamera2 import Picamera2
        except Exception as exc:
            raise SourceError(f"Pi camera support is not installed (python3-picamera2): {exc}") from None
        try:
            cameras = Picamera2.global_camera_info()
        except Exception as exc:
            raise SourceError(f"cannot list Pi cameras: {exc}") from None
        if self.index >= len(cameras):
            raise SourceError(
                f"Pi camera {self.index} not found ({len(cameras)} connected): check the ribbon cable"
            )
        try:
            cam = Picamera2(self.index)
            # RGB888 is B,G,R in memory: OpenCV's BGR order, no conversion needed.
            config = cam.create_video_configuration(
                main={"size": self._size, "format": "RGB888"},
                lores={"size": self._lores_size, "format": "YUV420"},
                controls={"FrameRate": self._fps},
                buffer_count=4,
            )
            cam.configure(config)
            cam.start()
        except Exception as exc:
            raise SourceError(f"Pi camera {self.index} failed to start: {exc}") from None
        self._cam = cam
        self._count = 0
        self._t0_ns = None

    def read(self) -> Frame | None:
        cam = self._cam
        if cam is None:
            raise SourceError(f"{self.name}: read before open")
        try:
            # wait=<seconds>: Picamera2 raises TimeoutError when no frame comes (cable pulled).
            request = cam.capture_request(wait=self._timeout_s)
        except TimeoutError:
            raise SourceError(
                f"{self.name}: no frame for {self._timeout_s:g} s (camera unplugged?)"
            ) from None
        except Exception as exc:
            raise SourceError(f"{self.name}: camera stopped ({exc})") from None
        try:
            meta = request.get_metadata()
            image = request.make_array("main")
            yuv = request.make_array("lores")
        finally:
            request.release()
        ts = meta.get("SensorTimestamp")
        if ts is None:
            raise SourceError(f"{self.name}: the camera gives no sensor timestamps")
        import cv2

        # lores YUV420 arrives as a (h*3/2, w) plane stack; the ISP may pad the width (stride).
        lw, lh = self._lores_size
        lores = cv2.cvtColor(np.ascontiguousarray(yuv[:, :lw]), cv2.COLOR_YUV2BGR_I420)
        h, w = image.shape[:2]
        # Index from the sensor clock, so frames we were too slow for show up as gaps.
        period_ns = float(meta.get("FrameDuration") or 0) * 1000.0 or 1e9 / self._fps
        if self._t0_ns is None:
            self._t0_ns = ts
        index = max(self._count, round((ts - self._t0_ns) / period_ns))
        frame = LoresFrame(
            image=image,
            t=ts / 1e9,
            index=index,
            lores=lores,
            lores_scale=(w / lores.shape[1], h / lores.shape[0]),
        )
        self._count = index + 1
        return frame

    def close(self) -> None:
        cam, self._cam = self._cam, None
        if cam is not None:
            try:
                cam.stop()
            finally:
                cam.close()
