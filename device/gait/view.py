"""Which way the camera looks at the runner: side (and facing left or right) or rear/front.

Side metrics from a rear view (and frontal metrics from a side view) would be nonsense, so the
view is detected from the keypoints, never assumed:

- side vs frontal: shoulder and hip width relative to torso length. From the side both
  shoulders (and both hips) nearly overlap; from behind or in front they are ~a torso-length
  apart (shoulders ~0.7, hip joint centres ~0.4 of the torso length).
- front vs rear: the face is seen from the front (nose and eyes with high scores) and the
  runner's left shoulder appears on the image's right.
- facing (side view): knees only bend one way, so the bend of hip→knee→ankle tells the
  direction of travel; nose ahead of the ears agrees (second opinion).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from device.gait.geometry import length
from device.keypoints import KP

SIDE_MAX_WIDTH = 0.30  # shoulder/hip width ÷ torso length below this: side view
FRONTAL_MIN_WIDTH = 0.45  # above this: rear or front


@dataclass
class ViewResult:
    kind: str  # "side" | "rear" | "front" | "unknown"
    facing: str | None  # "left" | "right" (side view), None otherwise
    width_ratio: float | None  # median shoulder+hip width / torso length
    confidence: float  # 0..1
    detected_kind: str = "unknown"  # what the keypoints say (kind may be the caller's override)
    warnings: list[str] = field(default_factory=list)
    #: the keypoints clearly show another view than the one chosen: why no metric is measured
    mismatch: str | None = None

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "facing": self.facing,
            "detected": self.detected_kind,
            "width_ratio": None if self.width_ratio is None else round(float(self.width_ratio), 3),
            "confidence": round(float(self.confidence), 2),
        }


def _mid(xy: np.ndarray, a: str, b: str) -> np.ndarray:
    """Midpoint of two keypoints, or whichever one is seen (NaN when neither)."""
    # contiguous copies: each point is read three times below, from a (N, 17, 2) array
    pa, pb = np.ascontiguousarray(xy[:, KP[a]]), np.ascontiguousarray(xy[:, KP[b]])
    with np.errstate(invalid="ignore"):
        m = (pa + pb) / 2
    m = np.where(np.isfinite(m), m, pa)
    return np.where(np.isfinite(m), m, pb)


def width_ratio(xy: np.ndarray) -> float | None:
    """Median over frames of (shoulder width, hip width — whichever are seen, averaged) divided
    by the torso length (shoulder midpoint to hip midpoint)."""
    sh_w = np.abs(xy[:, KP["left_shoulder"], 0] - xy[:, KP["right_shoulder"], 0])
    hp_w = np.abs(xy[:, KP["left_hip"], 0] - xy[:, KP["right_hip"], 0])
    widths = np.stack([sh_w, hp_w])
    n = np.isfinite(widths).sum(axis=0)
    w = np.where(n > 0, np.nansum(widths, axis=0) / np.maximum(n, 1), np.nan)
    torso = length(_mid(xy, "left_shoulder", "right_shoulder") - _mid(xy, "left_hip", "right_hip"))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = w / torso
    r = r[np.isfinite(r) & (torso > 1)]
    return float(np.median(r)) if r.size >= 3 else None


def facing_direction(xy: np.ndarray) -> tuple[str | None, float, str | None]:
    """(facing, confidence, disagreement note) for a side view.

    Knee bend: with image y pointing down, a runner facing image-right bends the knee so that
    cross(hip→knee, knee→ankle) > 0. Weighted by how bent the knee is (straight legs say little).
    """
    votes = []
    for side in ("left", "right"):
        h, k, a = xy[:, KP[f"{side}_hip"]], xy[:, KP[f"{side}_knee"]], xy[:, KP[f"{side}_ankle"]]
        u, v = k - h, a - k
        cross = u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]
        norm = length(u) * length(v)
        with np.errstate(invalid="ignore", divide="ignore"):
            s = cross / norm  # sin of the bend angle, signed
        votes.append(s[np.isfinite(s)])
    knee = np.concatenate(votes)
    knee_vote = float(np.clip(np.median(knee) * 4, -1, 1)) if knee.size >= 3 else 0.0
    # nose ahead of the ears (or of the shoulders when the ears are not seen)
    ears = _mid(xy, "left_ear", "right_ear")
    sh = _mid(xy, "left_shoulder", "right_shoulder")
    ref = np.where(np.isfinite(ears), ears, sh)
    dx = xy[:, KP["nose"], 0] - ref[:, 0]
    torso = length(sh - _mid(xy, "left_hip", "right_hip"))
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = dx / torso
    rel = rel[np.isfinite(rel)]
    nose_vote = float(np.clip(np.median(rel) * 5, -1, 1)) if rel.size >= 3 else 0.0
    total = 0.7 * knee_vote + 0.3 * nose_vote
    note = None
    if abs(knee_vote) > 0.3 and abs(nose_vote) > 0.3 and np.sign(knee_vote) != np.sign(nose_vote):
        note = "facing direction unclear: the knees and the head disagree"
    if abs(total) < 0.1:
        return None, abs(total), note
    return ("right" if total > 0 else "left"), float(min(1.0, abs(total))), note


def facing_series(xy: np.ndarray, t: np.ndarray, min_segment_s: float = 1.5) -> np.ndarray:
    """Per-frame facing sign (+1 right, −1 left, 0 unknown) for clips where the runner turns
    around (overground walking back and forth). Knee bend (and nose) votes per frame, smoothed
    with a running median over ~1 s; direction changes lasting less than ``min_segment_s`` are
    ignored."""
    from scipy.ndimage import median_filter

    n = len(t)
    votes = np.zeros(n)
    weight = np.zeros(n)
    for side in ("left", "right"):
        h, k, a = xy[:, KP[f"{side}_hip"]], xy[:, KP[f"{side}_knee"]], xy[:, KP[f"{side}_ankle"]]
        u, v = k - h, a - k
        with np.errstate(invalid="ignore", divide="ignore"):
            s = (u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]) / (length(u) * length(v))
        ok = np.isfinite(s)
        votes[ok] += s[ok]
        weight[ok] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        per = np.where(weight > 0, votes / np.maximum(weight, 1), np.nan)
    ok = np.isfinite(per)
    if ok.sum() < 3:
        return np.zeros(n)
    filled = np.interp(np.arange(n), np.flatnonzero(ok), per[ok])
    dt = float(np.median(np.diff(t))) if n > 1 else 1 / 30
    win = max(3, int(round(1.0 / dt)) | 1)
    sm = median_filter(filled, size=win, mode="nearest")
    sign = np.where(sm > 0.02, 1.0, np.where(sm < -0.02, -1.0, 0.0))
    # fill undecided frames from the nearest decided one; drop short direction changes
    dec = np.flatnonzero(sign != 0)
    if dec.size == 0:
        return sign
    sign = sign[dec[np.clip(np.searchsorted(dec, np.arange(n)), 0, dec.size - 1)]]
    change = np.flatnonzero(np.diff(sign) != 0) + 1
    bounds = np.concatenate([[0], change, [n]])
    for a_, b_ in zip(bounds[:-1], bounds[1:], strict=True):
        if t[b_ - 1] - t[a_] < min_segment_s and (a_ > 0 or b_ < n):
            sign[a_:b_] = sign[a_ - 1] if a_ > 0 else sign[b_]
    return sign


def frontal_kind(xy: np.ndarray, score: np.ndarray) -> tuple[str, float]:
    """'front' or 'rear' for a frontal view: face seen, and the runner's left on image right."""
    face = float(np.nanmedian(score[:, [KP["nose"], KP["left_eye"], KP["right_eye"]]]))
    order = []
    for a, b in (("left_shoulder", "right_shoulder"), ("left_hip", "right_hip")):
        d = xy[:, KP[a], 0] - xy[:, KP[b], 0]
        d = d[np.isfinite(d)]
        if d.size:
            order.append(np.mean(np.sign(d)))
    lr = float(np.mean(order)) if order else 0.0  # +1: left on image right (front)
    vote = 0.6 * lr + 0.4 * (np.clip((face - 0.35) * 4, -1, 1))
    return ("front" if vote > 0 else "rear"), float(min(1.0, abs(vote)))


def detect_view(xy: np.ndarray, score: np.ndarray, requested: str = "auto") -> ViewResult:
    """Detect the view from masked keypoints ``xy`` (N,17,2, NaN unseen) and ``score``.

    ``requested`` ("auto" | "side" | "rear" | "front") overrides the detection; when the
    keypoints clearly say otherwise, ``mismatch`` says so: the chosen view's metrics would be
    computed from keypoints of another view, so none is measured (a warning too)."""
    wr = width_ratio(xy)
    warnings: list[str] = []
    mismatch = None
    if wr is None:
        detected, conf = "unknown", 0.0
    elif wr < SIDE_MAX_WIDTH:
        detected, conf = "side", float(min(1.0, (SIDE_MAX_WIDTH - wr) / 0.15 + 0.5))
    elif wr > FRONTAL_MIN_WIDTH:
        detected, conf = frontal_kind(xy, score)
        conf = float(min(1.0, 0.5 + (wr - FRONTAL_MIN_WIDTH) / 0.3)) * max(conf, 0.5)
    else:
        detected, conf = "unknown", 0.3
    kind = detected
    req = (requested or "auto").lower()
    if req not in ("auto", "side", "rear", "front"):
        raise ValueError(f"view must be auto, side, rear or front, not {requested!r}")
    if req != "auto":
        frontal = {"rear", "front"}
        contradicts = (req == "side" and detected in frontal) or (req in frontal and detected == "side")
        if contradicts:
            mismatch = (
                f"the keypoints look like a {detected} view, not a {req} view (shoulder/hip width "
                f"ratio {wr:.2f}): check the camera or the view setting"
            )
            warnings.append(f"view set to {req}, but {mismatch}; no metric is measured")
        kind = req
    facing = None
    if kind == "side":
        facing, fconf, note = facing_direction(xy)
        if note:
            warnings.append(note)
        conf = min(conf, fconf) if detected == "side" else fconf * 0.5
    return ViewResult(
        kind=kind,
        facing=facing,
        width_ratio=wr,
        confidence=conf,
        detected_kind=detected,
        warnings=warnings,
        mismatch=mismatch,
    )
