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


#: "Runner small in the picture" below this height (highest seen keypoint to lowest) in the pose
#: model's picture, not in the frame: the model sees that picture (1.25× its input along the short
#: side in a capture: 240 px high for a 1280×720 landscape frame, 426 for the same camera turned
#: portrait), so it is what decides whether the feet are resolved. The labelled treadmill clip
#: with its runner shrunk (docs/validation.md, engine 2.8): 127 px tall found 31 of 33 contacts,
#: 105 px 28, 83 px 24–27. Half of a landscape frame's height; was 35 % of the frame's height,
#: which let a landscape runner of 84 px through.
MIN_RUNNER_PICTURE_PX = 120

#: A video file analysed after the fact is read the capture's way (the 1.25× picture) when its
#: runner stands at least MIN_RUNNER_PICTURE_PX tall in that picture over the first PROBE_S
#: seconds with a body in view, and from the frame as decoded when not (:func:`picture_for_file`):
#: the labelled treadmill clip's runner shrunk to half size (83 px) found 24–27 of 33 contacts
#: over four decodes from the 1.25× picture, 29–33 from the full frame (docs/validation.md,
#: engine 2.8). A runner who fills the frame keeps the capture's picture, on which the labelled
#: clip as filmed was measured over 13 decodes, x86 and arm64; from the full frame one arm64
#: decode put its far foot's contact time 37 ms short.
PROBE_S = 2.0
#: … and it looks at no more than the first PROBE_LIMIT_S seconds of the file: nobody in view
#: must not cost a second pass over the whole video.
PROBE_LIMIT_S = 10.0

#: A video file of at most this many frames a second (60 and phones' 59.94) is read twice per
#: frame, as it is and mirrored, the two readings fused (``MoveNetEstimator(with_mirror=True)``,
#: :func:`device.pose.movenet.fuse_mirrored`): the model's frame-to-frame jitter is the limit of
#: a video's timing. On the labelled 30 fps clip (docs/validation.md) the plain decode's
#: contacts and toe-offs within one frame of the labels went from 68.7 to 85.1 % (contacts alone
#: 84.8 → 97.0 %), over 10 noise draws from 68.7–78.4–88.1 to 77.6–83.6–92.5 %, with every
#: contact found on every draw. On the slow-motion clip, filmed at several times 30 fps, the
#: ankles' frame-to-frame jitter fell at the median and the 90th percentile (4.5 / 10.1 →
#: 3.5 / 8.8 px): the steadier reading is not one of 30 fps alone. No labelled 60 fps clip
#: measures its timing here; that clip resampled to 60 fps (docs/validation.md, unlabelled)
#: found more toe-offs read so (98 against 90 %) but scattered its contacts more. It costs a second inference per frame, which a file read after
#: the fact can spend (``gait-station analyze --read-once`` does not). Faster files (slow-motion
#: phones' 120–240 fps) are read once: many frames, and no gain measured for their rates. Nor
#: are captures: the live view's readings are the timeline's, and a Pi has no second inference
#: to spare while it films.
WITH_MIRROR_MAX_FPS = 61.0


def with_mirror_for(fps: float | None) -> bool:
    """Whether a video file at ``fps`` (its container's rate; None or 0 = not stated, read as
    the common 25–30 of phones and webcams) is read with its mirror."""
    return not fps or fps <= WITH_MIRROR_MAX_FPS


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


def picture_for_file(
    source: FrameSource, estimator: PoseEstimator, min_score: float
) -> tuple[float | None, float | None]:
    """How to read a video file (``source``, not yet opened; closed again): (oversample for
    :func:`run_pose`, the runner's median height in px in the capture's picture over the first
    :data:`PROBE_S` seconds with a body in view, None if no body was seen within
    :data:`PROBE_LIMIT_S`). The capture's
    picture (:data:`CAPTURE_OVERSAMPLE`) when that height is at least
    :data:`MIN_RUNNER_PICTURE_PX`, else the frame as decoded (None)."""
    estimator.reset()
    side = max(estimator.input_size) or 192
    out = new_keypoint_buffer()
    heights: list[float] = []
    t_first: float | None = None
    t_start: float | None = None
    try:
        with source:
            for frame in source:
                t_start = frame.t if t_start is None else t_start
                if frame.t - t_start > PROBE_LIMIT_S:
                    break
                picture = model_image(frame, side, CAPTURE_OVERSAMPLE)
                kp = estimate_image(estimator, picture, out, min_score)
                if not body_visible(kp[:, 2], min_score):
                    continue
                t_first = frame.t if t_first is None else t_first
                ys = kp[kp[:, 2] >= min_score, 1]
                heights.append(float(np.nanmax(ys) - np.nanmin(ys)) / picture.scale[1])
                if frame.t - t_first >= PROBE_S:
                    break
    except SourceError:
        pass  # a file damaged early: the main pass says so; judge by what was seen
    finally:
        estimator.reset()
    if not heights:
        return None, None  # nobody seen this way: the full frame gives the model the most to see
    height = float(np.median(heights))
    return (CAPTURE_OVERSAMPLE if height >= MIN_RUNNER_PICTURE_PX else None), height


#: A video in which most frames show no upright body is looked at turned a quarter, half and
#: three quarters (:func:`picture_turn`): a clip filmed upside down, or saved without the phone's
#: rotation, shows its runner upside down or lying, and the pose model then finds no body or a
#: garbled one. This many frames from the start of the file, every TURN_STEP-th, read as a
#: capture is (the model's crop follows the body from frame to frame: on single frames of the
#: labelled clip, upright, it found a body in 4 of 12).
TURN_SAMPLES = 30
TURN_STEP = 2
#: A turn is named when it shows an upright body (shoulders above hips above knees or ankles) in
#: at least this share of those frames, and in this much more of them than the picture as it is.
TURN_MIN_SHARE = 0.6
TURN_MIN_GAIN = 0.3
#: A video or capture with an upright body in fewer of its frames than this is looked at turned.
#: Upright, the sample clips show one in 68–100 % of their frames (the overground clip, its
#: runner entering and leaving, 68 %); turned, the labelled clip in 12 % (180°) but 50 % (90°:
#: the model's garbled lying body often has its shoulders above its hips). The check costs 120
#: inferences and finds no turn in an upright clip.
TURN_CHECK_BELOW = 0.8


def upright(keypoints: np.ndarray, min_score: float) -> np.ndarray:
    """Per frame (…, 17, 3 keypoints, image y down): a body standing upright, its shoulders,
    hips and legs seen, in that order from the top."""
    score, y = keypoints[..., 2], keypoints[..., 1]
    seen = (score >= min_score) & np.isfinite(y)
    levels = []
    for part in (_SHOULDERS, _HIPS, _LEGS):
        n = seen[..., part].sum(axis=-1)
        total = np.where(seen[..., part], y[..., part], 0.0).sum(axis=-1)
        levels.append(np.where(n > 0, total / np.maximum(n, 1), np.nan))
    top, mid, low = levels
    return np.asarray(body_visible(score, min_score) & (top < mid) & (mid < low))


#: The live view hints that the camera is turned when fewer of the recent frames with a body than
#: this show it upright with its trunk within 45° of the picture's up (:func:`standing_up`). Over
#: 60-frame windows of the sample clips through MoveNet: upright 0.44–1.00 (the lowest: a walker
#: entering the picture), turned 90/180/270° 0.00–0.31 (:func:`upright` alone: a lying body the
#: model garbles often has its shoulders above its hips, 0.39–0.60 on the labelled clip at 90°).
LIVE_TURNED_BELOW = 0.35


def standing_up(keypoints: np.ndarray, min_score: float) -> np.ndarray:
    """Per frame: :func:`upright`, and the trunk (hips' middle to shoulders' middle) within 45°
    of the picture's up."""
    score, xy = keypoints[..., 2], keypoints[..., :2]
    seen = (score >= min_score) & np.isfinite(xy).all(axis=-1)

    def middle(part: list[int]) -> np.ndarray:
        w = seen[..., part, None]
        return np.where(w, xy[..., part, :], 0.0).sum(axis=-2) / np.maximum(w.sum(axis=-2), 1)

    trunk = middle(_SHOULDERS) - middle(_HIPS)
    return upright(keypoints, min_score) & (np.abs(trunk[..., 0]) < -trunk[..., 1])


def upright_share(timeline: Timeline, min_score: float) -> float:
    """Share of the timeline's frames with a confident body standing upright (0 for none)."""
    n = len(timeline)
    kp = np.concatenate([timeline.xy, timeline.score[..., None]], axis=-1)
    return float(upright(kp, min_score).sum()) / n if n else 0.0


def picture_turn(source: FrameSource, estimator: PoseEstimator, min_score: float) -> int | None:
    """The clockwise turn (90, 180 or 270°) that shows an upright body in most of
    :data:`TURN_SAMPLES` frames of a video file (``source``, not yet opened; closed again) where
    the picture as it is shows none; None when no turn does clearly better. For the message that
    tells someone why no runner was found, not to analyse the turned video."""
    side = max(estimator.input_size) or 192
    # the model's picture of each frame (a few hundred px: 30 full frames would be ~80 MB)
    pictures: list[np.ndarray] = []
    try:
        with source:
            for i, frame in enumerate(source):
                if i % TURN_STEP == 0:
                    pictures.append(model_image(frame, side, CAPTURE_OVERSAMPLE).image.copy())
                if len(pictures) >= TURN_SAMPLES:
                    break
    except SourceError:
        pass  # a damaged file: judge by the frames read
    return turn_of_pictures(pictures, estimator, min_score)


def turn_of_pictures(pictures: list[np.ndarray], estimator: PoseEstimator, min_score: float) -> int | None:
    """The clockwise turn (90, 180 or 270°) that shows an upright body in at least
    :data:`TURN_MIN_SHARE` of ``pictures`` (model pictures of consecutive or spread frames)
    and in :data:`TURN_MIN_GAIN` more of them than as they are; None when none does (or no
    pictures). The estimator's crop is reset before and after each turn."""
    import cv2

    if not pictures:
        return None
    turns = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    out = new_keypoint_buffer()
    counts: dict[int, int] = {}
    try:
        for turn in (0, *turns):
            estimator.reset()
            counts[turn] = 0
            for image in pictures:
                turned = ModelImage(image if turn == 0 else cv2.rotate(image, turns[turn]), (1.0, 1.0))
                counts[turn] += int(upright(estimate_image(estimator, turned, out, min_score), min_score))
    finally:
        estimator.reset()
    best = max(turns, key=lambda k: counts[k])
    share, as_is = counts[best] / len(pictures), counts[0] / len(pictures)
    return best if share >= TURN_MIN_SHARE and share - as_is >= TURN_MIN_GAIN else None


def run_pose(
    source: FrameSource,
    estimator: PoseEstimator,
    min_score: float = 0.3,
    progress: Callable[[int], None] | None = None,
    max_frames: int | None = None,
    oversample: float | None = CAPTURE_OVERSAMPLE,
) -> Timeline:
    """Estimate every frame of an opened, finite ``source`` into a Timeline, the model seeing
    each frame at ``oversample`` × its input (None: the frame as decoded; a video file's choice
    is :func:`picture_for_file`'s).

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
