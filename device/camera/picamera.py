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

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from device.camera.base import Frame, FrameSource, LoresFrame, model_image_size
from device.errors import SourceError

log = logging.getLogger(__name__)

#: Per sensor, the fastest mode that still frames the whole runner at treadmill distance (the
#: Raspberry Pi camera documentation's mode list: Camera Module 3 / imx708 1536×864 at 120 fps,
#: HQ camera / imx477 1332×990 at 120 fps).
WHOLE_RUNNER_MODES: dict[str, tuple[int, int]] = {"imx708": (1536, 864), "imx477": (1332, 990)}
#: Other sensors: a mode narrower than this is a small centre crop (e.g. the v2 camera's 640×480
#: at 200 fps) that cuts off the runner's head or feet.
MIN_MODE_WIDTH = 1280
#: Buffers in flight: at 120 fps, 12 buffers are 100 ms of slack for the camera loop.
BUFFER_COUNT = 12


@dataclass(frozen=True, slots=True)
class CameraMode:
    """The sensor mode a Pi camera runs in and the frame rate asked of it."""

    sensor: str
    size: tuple[int, int]
    max_fps: float
    bit_depth: int
    fps: float

    def describe(self) -> str:
        w, h = self.size
        return f"{self.sensor} sensor mode {w}×{h} {self.bit_depth}-bit, {self.fps:g} fps (mode max {self.max_fps:.1f})"


def pick_mode(sensor: str, sensor_modes: list[dict[str, Any]], want_fps: float = 0.0) -> CameraMode:
    """The sensor mode to use. Whole-runner modes are the sensor's :data:`WHOLE_RUNNER_MODES`
    one and larger (unknown sensors: at least :data:`MIN_MODE_WIDTH` wide). ``want_fps`` 0 = the
    fastest of them at its full rate; otherwise the largest that reaches ``want_fps`` (or, if
    none does, the fastest, at its own rate)."""
    modes = [m for m in sensor_modes if "size" in m and "fps" in m]
    if not modes:
        raise SourceError(f"the {sensor} camera lists no sensor modes")
    known = WHOLE_RUNNER_MODES.get(sensor.split("_")[0])  # "imx708_wide" is an imx708 too
    min_width = known[0] if known else MIN_MODE_WIDTH
    whole = [m for m in modes if int(m["size"][0]) >= min_width] or modes
    if want_fps > 0:
        fast_enough = [m for m in whole if float(m["fps"]) >= want_fps - 0.5]
        chosen = (
            max(fast_enough, key=lambda m: (int(m["size"][0]) * int(m["size"][1]), float(m["fps"])))
            if fast_enough
            else max(whole, key=lambda m: float(m["fps"]))
        )
    else:
        chosen = max(whole, key=lambda m: (float(m["fps"]), int(m["size"][0]) * int(m["size"][1])))
    max_fps = float(chosen["fps"])
    fps = min(want_fps, max_fps) if want_fps > 0 else max_fps
    return CameraMode(
        sensor,
        (int(chosen["size"][0]), int(chosen["size"][1])),
        max_fps,
        int(chosen.get("bit_depth", 10)),
        fps,
    )


#: The longest run of frames the station can have missed between two reads: more sensor time
#: than this between frames is a clock fault, not missed frames (the capture's stall watchdog
#: ends a capture long before).
MAX_GAP_S = 10.0


def picamera_installed() -> bool:
    """True when Picamera2 imports: a Raspberry Pi with its camera stack, camera connected or not."""
    try:
        from picamera2 import Picamera2  # noqa: F401
    except Exception:  # ImportError, or libcamera failing to load: either way no Pi camera
        return False
    return True


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


def _turned(upside_down: bool) -> Any:
    """libcamera's transform for the sensor: 180° (both flips) for a camera mounted upside
    down, applied by the ISP to every stream (the model's low-res one too), so no frame is
    copied to turn it."""
    import libcamera  # installed with Picamera2 (python3-libcamera)

    return libcamera.Transform(hflip=1, vflip=1) if upside_down else libcamera.Transform()


class PicameraSource(FrameSource):
    """Camera ``index`` (0 = first CSI camera), main stream ``width``×``height``, at ``fps``
    (0 = the fastest mode that frames the whole runner, :func:`pick_mode`). The sensor mode is
    set explicitly and the frame time pinned with ``FrameDurationLimits``; :attr:`mode` says
    which mode is in use once open."""

    is_live = True

    def __init__(
        self,
        index: int = 0,
        width: int = 1280,
        height: int = 720,
        fps: float = 0.0,
        lores_size: tuple[int, int] | None = None,
        timeout_s: float = 2.0,
        upside_down: bool = False,
    ) -> None:
        self.index = index
        self.upside_down = upside_down
        self.name = f"picamera:{index}"
        self._size = (int(width), int(height))
        self._want_fps = float(fps)
        self._fps = float(fps) or 120.0  # until open() knows the mode
        self.mode: CameraMode | None = None
        self._lores_size = lores_size or model_image_size(self._size)
        self._timeout_s = timeout_s
        self._cam: Any = None
        self._count = 0
        self._last_ts_ns: int | None = None  # the previous frame's sensor time

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
        sensor = str(cameras[self.index].get("Model", "unknown"))
        try:
            cam = Picamera2(self.index)
        except Exception as exc:
            raise SourceError(f"Pi camera {self.index} failed to start: {exc}") from None
        try:
            mode = pick_mode(sensor, list(cam.sensor_modes), self._want_fps)
            frame_us = round(1e6 / mode.fps)
            # RGB888 is B,G,R in memory: OpenCV's BGR order, no conversion needed.
            config = cam.create_video_configuration(
                main={"size": self._size, "format": "RGB888"},
                lores={"size": self._lores_size, "format": "YUV420"},
                sensor={"output_size": mode.size, "bit_depth": mode.bit_depth},
                controls={"FrameDurationLimits": (frame_us, frame_us)},
                buffer_count=BUFFER_COUNT,
                transform=_turned(self.upside_down),
            )
            cam.configure(config)
            cam.start()
        except Exception as exc:
            with contextlib.suppress(Exception):
                cam.close()
            raise SourceError(f"Pi camera {self.index} failed to start: {exc}") from None
        self.mode = mode
        self._fps = mode.fps
        log.info("Pi camera %d: %s", self.index, mode.describe())
        self._cam = cam
        self._count = 0
        self._last_ts_ns = None

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
        index = 0
        if self._last_ts_ns is not None:
            # From the previous frame, not the first: a sensor time that leaps (a driver fault;
            # the recorder leaves that frame out) must not number every later frame in millions.
            periods = round((ts - self._last_ts_ns) / period_ns)
            index = self._count - 1 + (periods if 1 <= periods <= MAX_GAP_S * 1e9 / period_ns else 1)
        self._last_ts_ns = ts
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
