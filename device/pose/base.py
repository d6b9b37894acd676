"""The pose estimator seam: one image in, 17 keypoints out (full-frame pixels).

:class:`PoseEstimator` is a Protocol: the CPU LiteRT plugin (:class:`device.pose.movenet.
MoveNetEstimator`) implements it today; an accelerator plugin (Coral Edge TPU, Hailo) would be
one more class with the same four members (see docs/accelerators.md). The capture pipeline
never asks what kind of estimator it holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from device.keypoints import N_KEYPOINTS


class PoseEstimator(Protocol):
    """Finds one person's 17 COCO keypoints in an image.

    :meth:`estimate` returns a (17, 3) float32 array of ``x, y, score`` in the pixels of the
    full camera frame. Implementations may keep state between frames (e.g. where to crop);
    :meth:`reset` forgets it (call it between clips or after a camera restart). One estimator
    is used by one thread at a time.
    """

    name: str
    #: (width, height) of the model input: lets a camera size its low-res stream for the model.
    input_size: tuple[int, int]

    def estimate(
        self,
        image_bgr: np.ndarray,
        out: np.ndarray | None = None,
        scale: tuple[float, float] = (1.0, 1.0),
    ) -> np.ndarray:
        """Keypoints of the person in ``image_bgr`` (H×W×3 uint8, BGR).

        ``out``: optional preallocated (17, 3) float32 buffer written in place (the live loop
        reuses one). ``scale``: (sx, sy) multiplied into x and y — when ``image_bgr`` is a
        downscaled copy of the full frame (a camera's low-res stream), the factors that map it
        back to full-frame pixels.
        """
        ...

    def reset(self) -> None:
        """Forget state carried between frames."""
        ...

    def close(self) -> None:
        """Release the runtime (safe to call twice)."""
        ...


#: Makes a new, independent estimator (the catch-up runs one per core).
EstimatorFactory = Callable[[], PoseEstimator]


def new_keypoint_buffer() -> np.ndarray:
    """A (17, 3) float32 buffer for :meth:`PoseEstimator.estimate`'s ``out``."""
    return np.zeros((N_KEYPOINTS, 3), np.float32)
