"""Run a pose estimator over frames: one frame into a reused buffer (live loop), or a whole
finite source into a :class:`~device.keypoints.Timeline` (analyse a video).

Keypoints scoring below ``min_score`` are marked unseen (x, y = NaN); their raw score is kept
so later stages can still see how unsure the model was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from device.camera.base import Frame, FrameSource, LoresFrame
from device.errors import SourceError
from device.keypoints import KP, Timeline, TimelineBuilder
from device.pose.base import PoseEstimator, new_keypoint_buffer

log = logging.getLogger(__name__)

_SHOULDERS = [KP["left_shoulder"], KP["right_shoulder"]]
_HIPS = [KP["left_hip"], KP["right_hip"]]
_LEGS = [KP["left_knee"], KP["right_knee"], KP["left_ankle"], KP["right_ankle"]]


@dataclass(frozen=True, slots=True)
class ModelImage:
    """The picture the pose model gets for one frame: ``image`` (BGR, about the model's input
    size) and ``scale`` (sx, sy) mapping its pixels back to full-frame pixels."""

    image: np.ndarray
    scale: tuple[float, float]


def model_image_size(frame_size: tuple[int, int], model_side: int = 192) -> tuple[int, int]:
    """A low-res size a bit larger than the model input along the short side (the runner's crop
    is most of the frame height), same aspect as the frame, even sizes as the Pi's ISP wants;
    never larger than the frame."""
    w, h = frame_size
    short = min(w, h)
    target = min(short, int(model_side * 1.25))
    k = target / short
    lw, lh = int(round(w * k / 2) * 2), int(round(h * k / 2) * 2)
    return max(min(lw, w), 2), max(min(lh, h), 2)


def model_image(frame: Frame, model_side: int = 192) -> ModelImage:
    """The model's picture of ``frame``: the camera's own low-res copy when it made one (Pi
    camera ISP, free), else the frame downscaled to :func:`model_image_size` (one resize)."""
    if isinstance(frame, LoresFrame) and frame.lores is not None:
        return ModelImage(frame.lores, frame.lores_scale)
    h, w = frame.image.shape[:2]
    lw, lh = model_image_size((w, h), model_side)
    if (lw, lh) == (w, h):
        return ModelImage(frame.image, (1.0, 1.0))
    import cv2

    # Linear, not area: ~1 ms for 1280×720 → 426×240 where INTER_AREA takes 11–17 ms here.
    small = cv2.resize(frame.image, (lw, lh), interpolation=cv2.INTER_LINEAR)
    return ModelImage(small, (w / lw, h / lh))


def mask_unseen(keypoints: np.ndarray, min_score: float) -> np.ndarray:
    """x, y := NaN where the score is below ``min_score`` (in place; the score is kept)."""
    keypoints[keypoints[:, 2] < min_score, :2] = np.nan
    return keypoints


def estimate_image(
    estimator: PoseEstimator, picture: ModelImage, out: np.ndarray, min_score: float
) -> np.ndarray:
    """THE pose path: live view, catch-up after a capture and ``gait-station analyze`` all come
    through here, so one run gives one set of keypoints whichever way it was analysed.
    Keypoints go into ``out`` ((17, 3) float32) in full-frame pixels, unseen ones masked."""
    estimator.estimate(picture.image, out=out, scale=picture.scale)
    return mask_unseen(out, min_score)


def estimate_frame(estimator: PoseEstimator, frame: Frame, out: np.ndarray, min_score: float) -> np.ndarray:
    """Keypoints of ``frame`` written into ``out`` ((17, 3) float32, reused by the caller),
    in full-frame pixels; x, y NaN where the score is below ``min_score``.

    The model sees :func:`model_image` of the frame (the camera's low-res copy, or the frame
    downscaled), exactly as in a live capture.
    """
    side = max(estimator.input_size) or 192
    return estimate_image(estimator, model_image(frame, side), out, min_score)


def body_visible(score: np.ndarray, min_score: float) -> np.ndarray:
    """Per frame (…, 17 scores): a shoulder, a hip and a knee or ankle all seen confidently —
    enough of a body to call it a person."""
    return np.asarray(
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
            # A file damaged part-way: keep what decoded, say where it stopped (in the meta: the
            # caller tells the person once, `gait-station analyze` as a warning line).
            damaged = str(exc)
            log.debug("%s", damaged)
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
    if skipped:  # the caller tells the person (`gait-station analyze`: a warning line)
        log.debug("%s: skipped %d frame(s) whose time did not increase", source.name, skipped)
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
