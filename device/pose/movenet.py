"""MoveNet single-pose (Lightning or Thunder; int8/uint8 or float TFLite) with the smart crop.

The smart crop follows the official MoveNet tutorial's ``determine_crop_region``: the next
frame is cropped to a square around the hips that holds every keypoint seen in this frame
(feet included) with a margin, so the runner fills the model input; when the torso is not
visible (person lost, first frame) the whole frame is letterboxed into the input instead.

The per-frame path allocates nothing it can avoid: the crop is one ``cv2.resize`` into a view
of a preallocated buffer, the colour swap writes straight into the interpreter's input tensor.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from device.keypoints import KP, LEFT_RIGHT_PAIRS, N_KEYPOINTS
from device.pose.base import PoseEstimator
from device.pose.model import ModelError
from device.pose.runtime import load_interpreter

#: The tutorial's threshold for a keypoint to shape the next crop.
MIN_CROP_KEYPOINT_SCORE = 0.2
#: The crop into the model input averages pixels where it shrinks the picture by more than this:
#: a video file of a small runner read from the frame as decoded (device.pose.pipeline.
#: picture_for_file), where plain linear sampling skips detail. Never reached from the capture's
#: picture (1.25× the input: at most 2.2× when letterboxed), which stays as measured.
CROP_AREA_SHRINK = 2.5
#: A crop darker than this mean luma (0–255, over the part inside the image) is brightened to it
#: with a gamma curve before the model sees it. MoveNet loses a dark runner's feet: the labelled
#: clip darkened to a crop mean of 62 / 48 (the real overground and front-view samples' crops
#: are 50–93) found 3–30 / 3–23 of its 33 contacts over five decodes, some with ~40 spurious
#: ones at the wrong moment of the stride, against 31–33 lifted (docs/capture.md). Lit runners
#: (the labelled clip: 96–101) are not touched.
DARK_CROP_LUMA = 90
_LS, _RS, _LH, _RH = KP["left_shoulder"], KP["right_shoulder"], KP["left_hip"], KP["right_hip"]


def dark_lift_tables(target: int = DARK_CROP_LUMA) -> np.ndarray:
    """``tables[m]``: the gamma curve (a 256-entry lookup table) that takes a crop of mean luma
    ``m`` to about ``target``; the identity from ``target`` up (row 0 too: a black crop has
    nothing to lift)."""
    levels = np.arange(256) / 255.0
    tables = np.tile(np.arange(256, dtype=np.uint8), (256, 1))
    for m in range(1, target):
        gamma = math.log(target / 255.0) / math.log(m / 255.0)
        tables[m] = np.clip(np.rint(levels**gamma * 255.0), 0, 255).astype(np.uint8)
    return tables


def full_frame_crop(width: int, height: int) -> tuple[float, float, float]:
    """(x0, y0, side): the square centred on the frame holding all of it (letterbox)."""
    side = float(max(width, height))
    return (width - side) / 2.0, (height - side) / 2.0, side


def determine_crop_region(
    keypoints: np.ndarray, width: int, height: int, min_score: float = MIN_CROP_KEYPOINT_SCORE
) -> tuple[float, float, float]:
    """Square crop (x0, y0, side) in pixels for the next frame, from this frame's (17, 3)
    pixel keypoints; the full-frame letterbox when the torso is not visible."""
    # Plain Python on 17 points: ~4x faster than a dozen tiny numpy calls, once per frame.
    k = keypoints.tolist()
    lsh, rsh, lhip, rhip = k[_LS], k[_RS], k[_LH], k[_RH]
    if not ((lhip[2] > min_score or rhip[2] > min_score) and (lsh[2] > min_score or rsh[2] > min_score)):
        return full_frame_crop(width, height)
    cx = (lhip[0] + rhip[0]) / 2.0
    cy = (lhip[1] + rhip[1]) / 2.0
    torso = (lsh, rsh, lhip, rhip)
    torso_x = max(abs(p[0] - cx) for p in torso)
    torso_y = max(abs(p[1] - cy) for p in torso)
    seen = [p for p in k if p[2] >= min_score]
    body_x = max(abs(p[0] - cx) for p in seen)
    body_y = max(abs(p[1] - cy) for p in seen)
    half = max(torso_x * 1.9, torso_y * 1.9, body_x * 1.2, body_y * 1.2)
    half = min(half, max(cx, width - cx, cy, height - cy))
    if not math.isfinite(half) or half <= 1.0 or half > max(width, height) / 2.0:
        return full_frame_crop(width, height)
    return cx - half, cy - half, 2.0 * half


#: Two readings of a point further apart than this (normalised to the model's picture) have put it
#: on different things, mostly the two legs: a mean of them would be on neither. The hips, which
#: the two readings never confuse, lie at most 0.04 apart (99th percentile 0.035 on the
#: slow-motion clip, 0.039 on the labelled one); the ankles go beyond 0.05 in 5–14 % of frames.
MIRROR_DISAGREE = 0.05

_PAIRS = np.array(LEFT_RIGHT_PAIRS)
#: keypoint order with left and right exchanged: a mirrored picture's reading in the picture's labels
_MIRRORED = np.arange(N_KEYPOINTS)
_MIRRORED[_PAIRS] = _PAIRS[:, ::-1]


def fuse_mirrored(plain: np.ndarray, mirror: np.ndarray, expected: np.ndarray | None) -> np.ndarray:
    """One reading of a frame from the model's two: ``plain`` of the picture, ``mirror`` of it
    mirrored (mapped back, in the picture's labels), both (y, x, score) rows normalised to the
    picture; ``expected``: where the earlier frames put each point now (their score the last
    frame's), or None.

    Labels of a left/right pair follow the plain reading: in a side view the model's own
    left/right is unreliable, so each pair of the mirrored reading is taken in whichever order
    lies closer to it. Where the two agree (within :data:`MIRROR_DISAGREE`), positions are
    averaged weighted by score (a point the model barely saw in one reading counts less). Where
    they do not, one of them is on something else, mostly the other leg, and their mean would be
    on neither: the one nearer the expected place is kept (both averaged when there is none, or
    the last frame's score of the point was below :data:`MIN_CROP_KEYPOINT_SCORE`). Scores are
    averaged plainly. Tried and not kept (docs/validation.md): the mean everywhere (the ankles'
    frame-to-frame jumps doubled on the slow-motion clip), the plain reading where they
    disagree (lost contacts), the previous frame's place as the expected one (it lags: the
    labelled clip's far-foot contacts came out 0.9 frame late)."""
    mirror = np.array(mirror, np.float64)
    a, b = plain[_PAIRS, :2], mirror[_PAIRS, :2]  # (pairs, 2 sides, y/x)
    kept = np.linalg.norm(a - b, axis=2).sum(axis=1)
    crossed = np.linalg.norm(a - b[:, ::-1], axis=2).sum(axis=1)
    swap = _PAIRS[crossed < kept]
    mirror[swap] = mirror[swap[:, ::-1]]
    w_plain, w_mirror = plain[:, 2:], mirror[:, 2:]
    out = np.array(plain, np.float64)
    out[:, :2] = (plain[:, :2] * w_plain + mirror[:, :2] * w_mirror) / np.maximum(w_plain + w_mirror, 1e-6)
    out[:, 2] = 0.5 * (plain[:, 2] + mirror[:, 2])
    if expected is None:
        return out
    pick = (np.linalg.norm(plain[:, :2] - mirror[:, :2], axis=1) > MIRROR_DISAGREE) & (
        expected[:, 2] >= MIN_CROP_KEYPOINT_SCORE
    )
    if pick.any():
        d_plain = np.linalg.norm(plain[pick, :2] - expected[pick, :2], axis=1)
        d_mirror = np.linalg.norm(mirror[pick, :2] - expected[pick, :2], axis=1)
        out[pick, :2] = np.where((d_plain <= d_mirror)[:, None], plain[pick, :2], mirror[pick, :2])
    return out


class MoveNetEstimator(PoseEstimator):
    """MoveNet SinglePose from a ``.tflite`` file; input size and dtype are read from the model."""

    name = "movenet"

    def __init__(
        self, model_path: str | Path, num_threads: int = 2, quiet: bool = False, with_mirror: bool = False
    ) -> None:
        self.model_path = Path(model_path)
        #: each frame also read mirrored and the two readings fused (:func:`fuse_mirrored`):
        #: less of the model's frame-to-frame jitter for twice the inference (video files, where
        #: nothing has to keep up with a camera; see :data:`device.pose.pipeline.WITH_MIRROR_MAX_FPS`)
        self.with_mirror = with_mirror
        self._interp, self.runtime = load_interpreter(self.model_path, num_threads, quiet=quiet)
        inp = self._interp.get_input_details()
        out = self._interp.get_output_details()
        if len(inp) != 1 or len(inp[0]["shape"]) != 4 or inp[0]["shape"][3] != 3:
            raise ModelError(
                f"{self.model_path.name}: not a MoveNet model (expected one 1×H×W×3 image input)"
            )
        if len(out) != 1 or tuple(out[0]["shape"][-2:]) != (N_KEYPOINTS, 3):
            raise ModelError(
                f"{self.model_path.name}: not a single-pose MoveNet model (expected a 1×1×17×3 output)"
            )
        _, h, w, _ = (int(v) for v in inp[0]["shape"])
        self.input_size = (w, h)
        self.input_dtype = np.dtype(inp[0]["dtype"])
        self.num_threads = int(num_threads)
        self._in_idx = inp[0]["index"]
        self._out_idx = out[0]["index"]
        scale, zero = inp[0].get("quantization", (0.0, 0))
        self._quant = (float(scale), int(zero)) if self.input_dtype == np.int8 else None
        # Reused every frame: the crop (BGR), the RGB copy for non-uint8 inputs.
        self._crop_buf = np.empty((h, w, 3), np.uint8)
        self._rgb = np.empty((h, w, 3), np.uint8) if self.input_dtype != np.uint8 else None
        self._dark_lift = dark_lift_tables()
        self._map = (0.0, 1.0, 0.0, 1.0)  # input pixel → image pixel: (ax, bx, ay, by)
        self._prev = np.zeros((N_KEYPOINTS, 3), np.float64)
        # Post-processing constants, filled in per frame: (y, x, s) @ a + bias = (x, y, s) pixels.
        self._post_a = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
        self._post_bias = np.zeros(3)
        self._post_scale = np.ones(3)
        self._have_prev = False
        # with_mirror: the frame before self._prev, and how many frames of this same video (same
        # size, no reset) came before the one being read: 1 makes self._prev its last, 2 both
        self._prev2 = np.zeros((N_KEYPOINTS, 3), np.float64)
        self._earlier = 0
        self._frame_size: tuple[int, int] | None = None
        self.last_crop: tuple[float, float, float] | None = None

    def reset(self) -> None:
        self._have_prev = False
        self._frame_size = None
        self.last_crop = None

    def close(self) -> None:
        self._interp = None

    # -- per frame -------------------------------------------------------------------------
    def crop_for(self, width: int, height: int) -> tuple[float, float, float]:
        """The crop the next :meth:`estimate` on a width×height image will use."""
        if not self._have_prev or self._frame_size != (width, height):
            return full_frame_crop(width, height)
        return determine_crop_region(self._prev, width, height)

    def prepare(self, image_bgr: np.ndarray, crop: tuple[float, float, float]) -> None:
        """Write the crop of ``image_bgr`` into the model's input tensor (RGB, model dtype).

        The part of the square crop inside the image is resized (``cv2.resize`` on a view, into
        a view of the reused buffer: measured ~3× faster than ``warpAffine``, whose border
        handling is slow); the part outside is zero padding. The exact pixel mapping used is
        kept for :meth:`estimate` to map keypoints back.
        """
        x0, y0, side = crop
        h, w = image_bgr.shape[:2]
        sw, sh = self.input_size
        buf = self._crop_buf
        # Source ROI: whole pixels of the image covered by the crop.
        sx0, sx1 = max(0, math.ceil(x0)), min(w, math.floor(x0 + side))
        sy0, sy1 = max(0, math.ceil(y0)), min(h, math.floor(y0 + side))
        dx0 = min(max(round((sx0 - x0) * sw / side), 0), sw)
        dx1 = min(max(round((sx1 - x0) * sw / side), 0), sw)
        dy0 = min(max(round((sy0 - y0) * sh / side), 0), sh)
        dy1 = min(max(round((sy1 - y0) * sh / side), 0), sh)
        if dx1 - dx0 < 1 or dy1 - dy0 < 1 or sx1 <= sx0 or sy1 <= sy0:
            buf[:] = 0  # crop misses the image: the model sees nothing (low scores → full frame next)
            self._map = (x0, side / sw, y0, side / sh)
        else:
            if dy0:
                buf[:dy0] = 0
            if dy1 < sh:
                buf[dy1:] = 0
            if dx0:
                buf[dy0:dy1, :dx0] = 0
            if dx1 < sw:
                buf[dy0:dy1, dx1:] = 0
            # Shrinking more than CROP_AREA_SHRINK: average the pixels (INTER_AREA) instead of
            # sampling 2×2 of them, which skips detail and aliases the thin shins and feet.
            shrink = (sy1 - sy0) > CROP_AREA_SHRINK * (dy1 - dy0)
            cv2.resize(
                image_bgr[sy0:sy1, sx0:sx1],
                (dx1 - dx0, dy1 - dy0),
                dst=buf[dy0:dy1, dx0:dx1],
                interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR,
            )
            seen = buf[dy0:dy1, dx0:dx1]
            b, g, r, _ = cv2.mean(seen)
            luma = int(0.114 * b + 0.587 * g + 0.299 * r)
            if luma < DARK_CROP_LUMA:
                cv2.LUT(seen, self._dark_lift[luma], dst=seen)
            # Input pixel u ↦ image x = ax + bx·u (and the same for y), from the rounded ROI.
            bx = (sx1 - sx0) / (dx1 - dx0)
            by = (sy1 - sy0) / (dy1 - dy0)
            self._map = (sx0 - dx0 * bx, bx, sy0 - dy0 * by, by)
        # The runtime refuses to invoke while a numpy view of its memory is alive: take the
        # view, fill it, drop it (cheap: no copy).
        view = self._interp.tensor(self._in_idx)()
        if self._rgb is None:
            cv2.cvtColor(buf, cv2.COLOR_BGR2RGB, dst=view[0])
        else:
            cv2.cvtColor(buf, cv2.COLOR_BGR2RGB, dst=self._rgb)
            if self._quant is not None:
                scale, zero = self._quant
                q = self._rgb.astype(np.float32) / (scale or 1.0) + (zero if scale else -128)
                np.copyto(view[0], np.clip(np.rint(q), -128, 127), casting="unsafe")
            else:  # float models take RGB values 0..255
                np.copyto(view[0], self._rgb, casting="unsafe")
        del view

    def invoke(self) -> None:
        self._interp.invoke()

    def _add_mirrored(self, yxs: np.ndarray) -> np.ndarray:
        """The model's reading of the prepared input fused with its reading of the same input
        mirrored left to right (mapped back): :func:`fuse_mirrored`. The two are different
        pictures to the model, so their errors are partly independent (docs/validation.md)."""
        plain = np.array(yxs, np.float64)
        picture = self._interp.get_tensor(self._in_idx)
        self._interp.set_tensor(self._in_idx, np.ascontiguousarray(picture[:, :, ::-1]))
        self._interp.invoke()
        mirror = np.array(self._interp.get_tensor(self._out_idx).reshape(N_KEYPOINTS, 3), np.float64)
        mirror[:, 1] = 1.0 - mirror[:, 1]  # x, normalised to the input's width
        expected = None
        if self._earlier:
            # where each point would be now, moving on as it did between the last two frames
            # (the previous place alone lags a foot that moves fast), in this frame's picture
            # (the crop moves between frames)
            ahead = self._prev.copy()
            if self._earlier > 1:
                moving = self._prev2[:, 2] >= MIN_CROP_KEYPOINT_SCORE
                ahead[moving, :2] += self._prev[moving, :2] - self._prev2[moving, :2]
            ax, bx, ay, by = self._map
            sw, sh = self.input_size
            expected = np.stack(
                [(ahead[:, 1] - ay) / (by * sh), (ahead[:, 0] - ax) / (bx * sw), ahead[:, 2]], 1
            )
        return fuse_mirrored(plain, mirror[_MIRRORED], expected)

    @property
    def input_map(self) -> tuple[float, float, float, float]:
        """How the last prepared input maps to the image: input pixel (u, v) ↦ image
        (ax + bx·u, ay + by·v), as ``(ax, bx, ay, by)``; keypoints are mapped back with it."""
        return self._map

    def model_input(self) -> np.ndarray:
        """A copy of the input tensor as last prepared (RGB, the model's dtype): what the model sees."""
        return np.array(self._interp.get_tensor(self._in_idx)[0])

    def load_model_input(self, picture: np.ndarray) -> None:
        """Put a picture made earlier by :meth:`model_input` back as the input (for the bench,
        which times the model's invoke alone on the exact inputs the pose stage made)."""
        self._interp.set_tensor(self._in_idx, picture[None])

    def estimate(
        self,
        image_bgr: np.ndarray,
        out: np.ndarray | None = None,
        scale: tuple[float, float] = (1.0, 1.0),
    ) -> np.ndarray:
        if image_bgr.ndim != 3 or image_bgr.shape[2] != 3 or image_bgr.dtype != np.uint8:
            raise ValueError(f"expected an H×W×3 uint8 BGR image, got {image_bgr.shape} {image_bgr.dtype}")
        height, width = image_bgr.shape[:2]
        crop = self.crop_for(width, height)
        self.prepare(image_bgr, crop)
        self._interp.invoke()
        # Model output rows are (y, x, score) normalised to the input; one small matmul maps them
        # to (x, y, score) in image pixels (few numpy calls: they dominate post-processing).
        yxs = self._interp.get_tensor(self._out_idx).reshape(N_KEYPOINTS, 3)
        if self.with_mirror:
            follows = self._have_prev and self._frame_size == (width, height)
            self._earlier = min(self._earlier + 1, 2) if follows else 0
            yxs = self._add_mirrored(yxs)
        ax, bx, ay, by = self._map
        sw, sh = self.input_size
        a, bias = self._post_a, self._post_bias
        a[1, 0], a[0, 1] = bx * sw, by * sh
        bias[0], bias[1] = ax, ay
        prev = self._prev
        if self.with_mirror:
            self._prev2[:] = prev
        np.matmul(yxs, a, out=prev)
        prev += bias
        self._have_prev = True
        self._frame_size = (width, height)
        self.last_crop = crop
        if out is None:
            out = np.empty((N_KEYPOINTS, 3), np.float32)
        if scale == (1.0, 1.0):
            out[:] = prev
        else:
            sv = self._post_scale
            sv[0], sv[1] = scale
            np.multiply(prev, sv, out=out, casting="same_kind")
        return out
