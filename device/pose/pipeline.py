"""Run a pose estimator over frames: one frame into a reused buffer (live loop), or a whole
finite source into a :class:`~device.keypoints.Timeline` (analyse a video).

Keypoints scoring below ``min_score`` are marked unseen (x, y = NaN); their raw score is kept
so later stages can still see how unsure the model was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from device.camera.base import Frame, FrameSource
from device.errors import SourceError
from device.keypoints import KP, Timeline, TimelineBuilder
from device.pose.base import PoseEstimator, new_keypoint_buffer

log = logging.getLogger(__name__)

_SHOULDERS = [KP["left_shoulder"], KP["right_shoulder"]]
_HIPS = [KP["left_hip"], KP["right_hip"]]
_LEGS = [KP["left_knee"], KP["right_knee"], KP["left_ankle"], KP["right_ankle"]]


def estimate_frame(estimator: PoseEstimator, frame: Frame, out: np.ndarray, min_score: float) -> np.ndarray:
    """Keypoints of ``frame`` written into ``out`` ((17, 3) float32, reused by the caller),
    in full-frame pixels; x, y NaN where the score is below ``min_score``.

    A frame carrying a camera's low-res copy (``frame.lores``) is estimated on that copy and
    scaled back to the full frame.
    """
    lores = getattr(frame, "lores", None)
    if lores is not None:
        estimator.estimate(lores, out=out, scale=frame.lores_scale)  # type: ignore[attr-defined]
    else:
        estimator.estimate(frame.image, out=out)
    out[out[:, 2] < min_score, :2] = np.nan
    return out


def body_visible(score: np.ndarray, min_score: float) -> np.ndarray:
    """Per frame (…, 17 scores): a shoulder, a hip and a knee or ankle all seen confidently —
    enough of a body to call it a person."""
    return (
        (score[..., _SHOULDERS] >= min_score).any(axis=-1)
        & (score[..., _HIPS] >= min_score).any(axis=-1)
        & (score[..., _LEGS] >= min_score).any(axis=-1)
    )


def run_pose(
    source: FrameSource,
    estimator: PoseEstimator,
    min_score: float = 0.3,
    progress: Callable[[int], None] | None = None,
    max_frames: int | None = None,
) -> Timeline:
    """Estimate every frame of an opened, finite ``source`` into a Timeline.

    ``progress(n)`` is called after each frame with the number done. Frames whose time does
    not increase (duplicate pts in a damaged file) are skipped and counted in
    ``meta['frames_skipped']``. The estimator's crop state is reset first.
    """
    estimator.reset()
    width, height = source.size
    builder = TimelineBuilder(width=width, height=height)
    buf = new_keypoint_buffer()
    read = skipped = 0
    last_t = -np.inf
    damaged: str | None = None
    frames = iter(source)
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            break
        except SourceError as exc:
            if read == 0:
                raise
            # A file damaged part-way: keep what decoded, say where it stopped.
            damaged = str(exc)
            log.warning("%s", damaged)
            break
        read += 1
        if frame.t <= last_t:
            skipped += 1
        else:
            estimate_frame(estimator, frame, buf, min_score)
            builder.append(frame.t, buf, frame.index)
            last_t = frame.t
        if progress is not None:
            progress(read)
        if max_frames is not None and read >= max_frames:
            break
    if skipped:
        log.warning("%s: skipped %d frame(s) whose time did not increase", source.name, skipped)
    tl = builder.build()
    tl.meta.update(
        {
            "source": source.name,
            "frames_read": read,
            "damaged": damaged,
            "frames_skipped": skipped,
            "nominal_fps": float(source.nominal_fps),
            "min_score": float(min_score),
        }
    )
    return tl
