"""Angles and positions on the cleaned keypoints, in the runner's frame of the image.

Side view: ``u`` is the horizontal coordinate along the direction of travel (image x times the
facing sign: + = ahead of the runner), ``v`` is height (−image y: + = up). All angles in degrees.
"""

from __future__ import annotations

import math

import numpy as np

from device.keypoints import KP


def runner_frame(xy: np.ndarray, facing_sign: float | np.ndarray) -> np.ndarray:
    """(N,17,2) image pixels → (N,17,2) (u, v): u ahead along travel, v up. ``facing_sign`` is
    ±1 or an (N,1) array of ±1 (a runner who turns around)."""
    out = np.empty_like(xy)
    out[..., 0] = facing_sign * xy[..., 0]
    out[..., 1] = -xy[..., 1]
    return out


def length(d: np.ndarray) -> np.ndarray:
    """Length of 2-D vectors ``d`` (..., 2): ``np.linalg.norm(d, axis=-1)``'s arithmetic written
    out (numpy reductions over a length-2 axis are slow; these run on every frame)."""
    return np.sqrt(d[..., 0] * d[..., 0] + d[..., 1] * d[..., 1])


def mid(p: np.ndarray, a: str, b: str) -> np.ndarray:
    """Midpoint of two keypoints; falls back to whichever one is present."""
    return mid_points(p[:, KP[a]], p[:, KP[b]])


def mid_points(pa: np.ndarray, pb: np.ndarray) -> np.ndarray:
    """Midpoint of two (N, 2) point tracks; falls back to whichever one is present."""
    # contiguous copies: each point is read three times below, from a (N, 17, 2) array
    pa, pb = np.ascontiguousarray(pa), np.ascontiguousarray(pb)
    with np.errstate(invalid="ignore"):
        m = (pa + pb) / 2
    m = np.where(np.isfinite(m), m, pa)
    return np.where(np.isfinite(m), m, pb)


def angle_from_vertical(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """Angle of the segment bottom→top from straight up, + when top is ahead of bottom."""
    d = top - bottom
    return np.degrees(np.arctan2(d[:, 0], d[:, 1]))


def segment_from_down(upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """Angle of upper→lower from straight down, + when lower is ahead of upper (thigh, shank)."""
    d = lower - upper
    return np.degrees(np.arctan2(d[:, 0], -d[:, 1]))


def wrapped(deg: np.ndarray) -> np.ndarray:
    """Angles brought into (−180°, 180°]: a sum or difference of two angles from the vertical can
    leave it (a thigh at 170° plus a trunk at 170° is the thigh 20° behind the trunk, not 340°)."""
    return 180.0 - np.mod(180.0 - deg, 360.0)


def inner_angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Angle a-b-c at b (0..180)."""
    v1, v2 = a - b, c - b
    n = length(v1) * length(v2)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = (v1[:, 0] * v2[:, 0] + v1[:, 1] * v2[:, 1]) / n  # the dot product, as np.sum
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def trunk_lean(p: np.ndarray) -> np.ndarray:
    """Per-sample trunk lean (hip midpoint → shoulder midpoint from vertical, + = forward)."""
    return angle_from_vertical(mid(p, "left_shoulder", "right_shoulder"), mid(p, "left_hip", "right_hip"))


def side_angles(p: np.ndarray, side: str, trunk: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per-sample sagittal angles for one side from runner-frame points ``p`` (N,17,2).

    knee_flexion: 180 − hip-knee-ankle angle (0 = straight). shank: knee→ankle from vertical,
    + = ankle ahead of knee. thigh: hip→knee from vertical, + = knee ahead. trunk_lean:
    hip→shoulder from vertical, + = forward. hip_flexion: thigh relative to the trunk line
    extended down through the hip (= thigh + trunk_lean), + = thigh forward. ``trunk``: the
    trunk lean of ``p`` when already known (both sides share it).
    """
    hip, knee, ankle = p[:, KP[f"{side}_hip"]], p[:, KP[f"{side}_knee"]], p[:, KP[f"{side}_ankle"]]
    if trunk is None:
        trunk = trunk_lean(p)
    thigh = segment_from_down(hip, knee)
    return {
        "knee_flexion": 180.0 - inner_angle(hip, knee, ankle),
        "shank": segment_from_down(knee, ankle),
        "thigh": thigh,
        "trunk_lean": trunk,
        "hip_flexion": wrapped(thigh + trunk),
    }


def at(t_grid: np.ndarray, series: np.ndarray, t: float) -> float:
    """Linear interpolation of ``series`` at time ``t`` (NaN if a neighbour is missing)."""
    # called a few thousand times per clip: Python floats and the array's own searchsorted
    # (a tenth of the cost of numpy scalars and np.searchsorted; the same arithmetic)
    t = float(t)
    if not math.isfinite(t) or t < t_grid[0] or t > t_grid[-1]:
        return float("nan")
    i = int(t_grid.searchsorted(t))
    if i == 0:
        return float(series[0])
    t0, t1 = float(t_grid[i - 1]), float(t_grid[i])
    f = (t - t0) / (t1 - t0) if t1 > t0 else 0.0
    return float(series[i - 1]) * (1 - f) + float(series[i]) * f


def at_many(t_grid: np.ndarray, series: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """:func:`at` at each of the times ``ts`` (the same arithmetic, as arrays)."""
    ts = np.asarray(ts, dtype=float)
    inside = np.isfinite(ts) & (ts >= t_grid[0]) & (ts <= t_grid[-1])
    i0 = t_grid.searchsorted(ts)
    i = np.clip(i0, 1, t_grid.size - 1)
    t0, t1 = t_grid[i - 1], t_grid[i]
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(t1 > t0, (ts - t0) / (t1 - t0), 0.0)
        y = series[i - 1] * (1 - f) + series[i] * f
    y = np.where(i0 == 0, series[0], y)  # at the first sample itself
    return np.where(inside, y, np.nan)


def window(t_grid: np.ndarray, series: np.ndarray, t0: float, t1: float) -> np.ndarray:
    """Samples of ``series`` with t0 <= t <= t1."""
    a = int(t_grid.searchsorted(t0))
    b = int(t_grid.searchsorted(t1, side="right"))
    return series[a:b]
