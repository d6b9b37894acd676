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

from device.camera.base import CAPTURE_OVERSAMPLE, Frame, FrameSource, LoresFrame, model_image_size
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


#: The model's picture for a video file analysed after the fact (a capture's is
#: ``camera.base.CAPTURE_OVERSAMPLE`` × the model input), where the time per frame matters less:
#: the frame as decoded (None), the smart crop cutting the runner out of it at full resolution and
#: averaging it down into the model input. A runner who does not fill the frame then keeps the
#: detail the model needs. Measured on the labelled treadmill clip and copies of it with the
#: runner shrunk (docs/validation.md, engine 2.8): with the capture's 1.25× picture a runner
#: shrunk to half size lost a fifth of the contacts (24–27 of 33 found over four decodes, 46–55 %
#: of events within one frame); from the full frame 29–33 and 67–82 %.
FILE_OVERSAMPLE: float | None = None


def model_image(
    frame: Frame, model_side: int = 192, oversample: float | None = CAPTURE_OVERSAMPLE
) -> ModelImage:
    """The model's picture of ``frame``: the camera's own low-res copy when it made one (Pi
    camera ISP, free), else the frame downscaled to :func:`model_image_size` (one resize), or
    the frame itself when ``oversample`` is None."""
    if isinstance(frame, LoresFrame) and frame.lores is not None:
        return ModelImage(frame.lores, frame.lores_scale)
    if oversample is None:
        return ModelImage(frame.image, (1.0, 1.0))
    h, w = frame.image.shape[:2]
    lw, lh = model_image_size((w, h), model_side, oversample)
    if (lw, lh) == (w, h):
        return ModelImage(frame.image, (1.0, 1.0))
    import cv2

    # Linear, not area: ~1 ms for 1280×720 → 426×240 where INTER_AREA takes 11–17 ms here (the
    # crop into the model input averages properly where it shrinks: MoveNetEstimator.prepare).
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


def estimate_frame(
    estimator: PoseEstimator,
    frame: Frame,
    out: np.ndarray,
    min_score: float,
    oversample: float | None = CAPTURE_OVERSAMPLE,
) -> np.ndarray:
    """Keypoints of ``frame`` written into ``out`` ((17, 3) float32, reused by the caller),
    in full-frame pixels; x, y NaN where the score is below ``min_score``.

    The model sees :func:`model_image` of the frame (the camera's low-res copy, or the frame
    downscaled to ``oversample`` × its input: :data:`CAPTURE_OVERSAMPLE` as in a live capture;
    None: the frame as decoded).
    """
    side = max(estimator.input_size) or 192
    return estimate_image(estimator, model_image(frame, side, oversample), out, min_score)


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
    oversample: float | None = FILE_OVERSAMPLE,
) -> Timeline:
    """Estimate every frame of an opened, finite ``source`` into a Timeline, the model's crop
    taken from the frame as decoded (:data:`FILE_OVERSAMPLE`: a file is not spooled).

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
            estimate_frame(estimator, frame, buf, min_score, oversample)
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
