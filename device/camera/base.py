"""The frame source interface: frames plus the capture time the camera (or container) gives.

Every source — Picamera2 on a Pi, a video file, a webcam, the synthetic runner — yields
:class:`Frame` objects with ``t`` in seconds on the source's own clock (camera sensor
timestamp, container presentation time), never the time Python happened to read it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(slots=True)
class Frame:
    """One image: ``image`` is H×W×3 uint8 BGR (OpenCV order); ``t`` capture time in seconds;
    ``index`` the source's frame counter (gaps mean frames the source dropped)."""

    image: np.ndarray
    t: float
    index: int


@dataclass(slots=True)
class LoresFrame(Frame):
    """A frame that also carries the camera's low-res copy (BGR) for the pose model;
    ``lores_scale`` = (sx, sy) maps lores pixels to full-frame pixels."""

    lores: np.ndarray | None = None
    lores_scale: tuple[float, float] = (1.0, 1.0)


class FrameSource(ABC):
    """A stream of frames. Use as a context manager; iterate or call :meth:`read`.

    ``is_live``: a live camera keeps running whether or not we read (slow readers get the
    newest frame, older ones are dropped at the source); a file yields every frame.
    """

    is_live: bool = False
    name: str = "source"

    @property
    @abstractmethod
    def size(self) -> tuple[int, int]:
        """(width, height) of the frames in pixels."""

    @property
    @abstractmethod
    def nominal_fps(self) -> float:
        """The rate the source claims (container or configured camera rate)."""

    @abstractmethod
    def open(self) -> None:
        """Acquire the device/file. Raises :class:`device.errors.SourceError` with a clear message."""

    @abstractmethod
    def read(self) -> Frame | None:
        """The next frame, or None at the end of a finite source. Raises SourceError on failure
        (camera unplugged, corrupt stream)."""

    @abstractmethod
    def close(self) -> None:
        """Release the device/file; safe to call twice."""

    def __enter__(self) -> FrameSource:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Frame]:
        while True:
            frame = self.read()
            if frame is None:
                return
            yield frame


#: The model picture's short side, × the model input, for a live capture: every frame's picture
#: is JPEG-encoded into the pose spool at up to 120 fps (docs/capture.md), so it stays small.
#: The Pi camera's ISP makes its low-res stream this size. A video file of a small runner is read
#: from the frame as decoded (``device.pose.pipeline.picture_for_file``).
CAPTURE_OVERSAMPLE = 1.25


def model_image_size(
    frame_size: tuple[int, int], model_side: int = 192, oversample: float = CAPTURE_OVERSAMPLE
) -> tuple[int, int]:
    """The model picture's size: ``oversample`` × the model input along the short side (the
    runner's crop is most of the frame height), same aspect as the frame, even sizes as the
    Pi's ISP wants; never larger than the frame."""
    w, h = frame_size
    short = min(w, h)
    target = min(short, int(model_side * oversample))
    k = target / short
    lw, lh = int(round(w * k / 2) * 2), int(round(h * k / 2) * 2)
    return max(min(lw, w), 2), max(min(lh, h), 2)
