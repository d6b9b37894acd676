"""What the live view shows besides the picture: the skeleton overlay and capture-quality hints.

Hints are computed over the last couple of seconds of keypoints (a small ring buffer, no
per-frame allocation) as codes (:class:`device.gait.live.Hint`), worded in one table.
"""

from __future__ import annotations

import numpy as np

from device.gait.framing import (
    EDGE_OF_HEIGHT,
    TOP_EDGE_OF_HEIGHT,
    FeetProblem,
    feet_problem,
    unseen_feet_inside,
    upper_body_out_of_frame,
)
from device.gait.live import Hint
from device.keypoints import KP, N_KEYPOINTS, SKELETON_EDGES
from device.pose.pipeline import LIVE_TURNED_BELOW, MIN_RUNNER_PICTURE_PX, standing_up

PREVIEW_MAX_WIDTH = 640
_ANKLES = np.array([KP["left_ankle"], KP["right_ankle"]])
_KNEES = np.array([KP["left_knee"], KP["right_knee"]])
_LEGS = np.concatenate([_KNEES, _ANKLES])
_FEET_HINT = {FeetProblem.OUT_OF_FRAME: Hint.FEET_OUT_OF_FRAME, FeetProblem.UNSEEN: Hint.FEET_UNSEEN}
_HIPS = np.array([KP["left_hip"], KP["right_hip"]])
_SHOULDERS = np.array([KP["left_shoulder"], KP["right_shoulder"]])
_HEAD = np.array([KP["nose"], KP["left_ear"], KP["right_ear"], KP["left_eye"], KP["right_eye"]])
_LEFT = {KP[n] for n in KP if n.startswith("left_")}
_RIGHT = {KP[n] for n in KP if n.startswith("right_")}


def render_preview(
    image: np.ndarray, keypoints: np.ndarray | None, min_score: float, quality: int = 70
) -> bytes:
    """A downscaled JPEG of ``image`` with the skeleton drawn (left side orange, right side blue)."""
    import cv2

    h, w = image.shape[:2]
    scale = min(1.0, PREVIEW_MAX_WIDTH / w)
    if scale < 1.0:
        img = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    else:
        img = image.copy()
    if keypoints is not None:
        pts = keypoints[:, :2] * scale
        ok = (keypoints[:, 2] >= min_score) & np.isfinite(pts).all(axis=1)
        thick = max(2, round(img.shape[1] / 240))
        for a, b in SKELETON_EDGES:
            if ok[a] and ok[b]:
                colour = (
                    (0, 140, 255)
                    if a in _LEFT and b in _LEFT
                    else ((255, 120, 0) if a in _RIGHT and b in _RIGHT else (220, 220, 220))
                )
                cv2.line(
                    img,
                    (int(pts[a, 0]), int(pts[a, 1])),
                    (int(pts[b, 0]), int(pts[b, 1])),
                    colour,
                    thick,
                    cv2.LINE_AA,
                )
        for i in np.flatnonzero(ok):
            cv2.circle(img, (int(pts[i, 0]), int(pts[i, 1])), thick + 1, (255, 255, 255), -1, cv2.LINE_AA)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return buf.tobytes() if ok else b""


class QualityMonitor:
    """Capture-quality hints from the most recent keypoints (ring of ``capacity`` frames)."""

    def __init__(self, min_score: float, capacity: int = 60) -> None:
        self.min_score = min_score
        self._score = np.zeros((capacity, N_KEYPOINTS), np.float32)
        self._xy = np.full((capacity, N_KEYPOINTS, 2), np.nan, np.float32)
        self._n = 0
        self._i = 0
        self.frame_size: tuple[int, int] | None = None
        self.picture_scale = 1.0  # frame pixels per pixel of the model's picture (vertical)

    def add(self, keypoints: np.ndarray, frame_size: tuple[int, int], picture_scale: float = 1.0) -> None:
        """One frame's keypoints (full-frame pixels); ``picture_scale``: frame pixels per pixel of
        the picture the pose model saw (:attr:`device.pose.pipeline.ModelImage.scale`, vertical)."""
        self._score[self._i] = keypoints[:, 2]
        self._xy[self._i] = keypoints[:, :2]
        self._i = (self._i + 1) % self._score.shape[0]
        self._n = min(self._n + 1, self._score.shape[0])
        self.frame_size = frame_size
        self.picture_scale = picture_scale

    def reset(self) -> None:
        self._n = 0
        self._i = 0

    def hints(self, inference_fps: float | None = None) -> list[Hint]:
        # ``inference_fps`` gives no hint any more: every frame is spooled and analysed after the
        # capture, so a slow live view costs nothing but a slower preview (docs/capture.md).
        # one read of the length: the controller resets the buffer from its own thread (a new
        # capture) while the pose thread asks for hints, and two reads can disagree
        n = self._n
        if n < 5:
            return []
        seen = self._score[:n] >= self.min_score
        torso = seen[:, _HIPS].any(axis=1) & seen[:, _SHOULDERS].any(axis=1)
        out: list[Hint] = []
        if torso.mean() < 0.5:
            return [Hint.NO_RUNNER]
        t = torso
        # a turned camera first: every other hint would describe a body the model garbled.
        # Judged on frames with a leg seen too (a picture cut at the waist is not turned).
        whole = t & seen[:, _LEGS].any(axis=1)
        if whole.sum() >= 10:
            body = np.concatenate([self._xy[:n][whole], self._score[:n][whole][..., None]], axis=-1)
            if standing_up(body, self.min_score).mean() < LIVE_TURNED_BELOW:
                return [Hint.CAMERA_TURNED]
        ankles = seen[t][:, _ANKLES]
        at_edge, unseen_inside = 0.0, (0.0, 0.0)
        if self.frame_size:
            xy_t = self._xy[:n][t]
            with np.errstate(invalid="ignore"):
                low = xy_t[:, _ANKLES, 1] > EDGE_OF_HEIGHT * self.frame_size[1]
            at_edge = float((low & ankles).any(axis=1).mean())
            ankle = np.where(ankles[..., None], xy_t[:, _ANKLES], np.nan)
            knee = np.where(seen[t][:, _KNEES, None], xy_t[:, _KNEES], np.nan)
            unseen_inside = unseen_feet_inside(ankle, knee, float(self.frame_size[1]))
        seen_l, seen_r = ankles.mean(axis=0).tolist()
        feet = feet_problem((seen_l, seen_r), at_edge, unseen_inside)
        if feet is not None:
            out.append(_FEET_HINT[feet])
        # the head unseen, or the shoulders at the top edge (the engine's body_out_of_frame)
        at_top = 0.0
        if self.frame_size:
            shoulders = seen[t][:, _SHOULDERS]
            with np.errstate(invalid="ignore"):
                high = self._xy[:n][t][:, _SHOULDERS, 1] < TOP_EDGE_OF_HEIGHT * self.frame_size[1]
            at_top = float((high & shoulders).any(axis=1).mean())
        if not seen[t][:, _HEAD].any(axis=1).mean() >= 0.7 or upper_body_out_of_frame(at_top):
            out.append(Hint.HEAD_OUT_OF_FRAME)
        xy = self._xy[:n][t]
        if self.frame_size and len(xy):
            ys = np.where(seen[t], xy[:, :, 1], np.nan)
            with np.errstate(all="ignore"):
                body_h = np.nanmedian(np.nanmax(ys, axis=1) - np.nanmin(ys, axis=1))
            if np.isfinite(body_h) and body_h / self.picture_scale < MIN_RUNNER_PICTURE_PX:
                out.append(Hint.RUNNER_SMALL)
            sh = xy[:, _SHOULDERS, 0]
            hip = xy[:, _HIPS, :].mean(axis=1)
            shoulder_mid = xy[:, _SHOULDERS, :].mean(axis=1)
            with np.errstate(all="ignore"):
                width = np.nanmedian(np.abs(sh[:, 0] - sh[:, 1]))
                torso_len = np.nanmedian(np.linalg.norm(shoulder_mid - hip, axis=1))
            if np.isfinite(width) and np.isfinite(torso_len) and torso_len > 0 and width > 0.45 * torso_len:
                out.append(Hint.VIEW_MISMATCH)
        return out
