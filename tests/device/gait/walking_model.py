"""A minimal kinematic walker (side view) for tests: the synthetic runner only runs.

Each foot is on the belt for 62 % of the stride (double support, duty factor > 0.5), the
pelvis is highest at mid-stance (inverted pendulum), knees from two-link inverse kinematics.
"""

from __future__ import annotations

import numpy as np

from device.keypoints import KP, Timeline


def walking_timeline(
    fps: float = 30.0,
    duration_s: float = 12.0,
    cadence_spm: float = 110.0,
    speed_kmh: float = 4.5,
    height_px: float = 560.0,
    facing: int = 1,
) -> Timeline:
    t = np.arange(0.0, duration_s, 1.0 / fps)
    T = 120.0 / cadence_spm
    v = speed_kmh / 3.6 * height_px / 1.75  # px/s for a 1.75 m walker
    thigh, shank = 0.245 * height_px, 0.246 * height_px
    duty = 0.62
    stance_len = v * duty * T
    ground = 680.0
    hip_x = 640.0
    xy = np.full((t.size, 17, 2), np.nan)
    hip_h = np.empty(t.size)
    ankles = {}
    for side, off in (("left", 0.0), ("right", 0.5)):
        ph = np.mod(t / T - off, 1.0)
        ax = np.empty(t.size)
        ay = np.zeros(t.size)
        st = ph < duty
        ax[st] = stance_len / 2 - v * ph[st] * T
        s = (ph[~st] - duty) / (1 - duty)
        ax[~st] = -stance_len / 2 + (stance_len) * (0.5 - 0.5 * np.cos(np.pi * s))
        ay[~st] = 0.08 * height_px * np.sin(np.pi * s) ** 2
        ankles[side] = (ax, ay)
    # pelvis highest when a foot is under the hip (mid-stance), lowest at double support
    hip_h[:] = 0.50 * height_px + 0.012 * height_px * np.cos(4 * np.pi * (np.mod(t / T, 1.0) - duty / 2))
    for side in ("left", "right"):
        ax, ay = ankles[side]
        dx, dy = ax, ay - hip_h
        d = np.minimum(np.hypot(dx, dy), (thigh + shank) * 0.999)
        a = np.arctan2(dy, dx)
        b = np.arccos(np.clip((thigh**2 + d**2 - shank**2) / (2 * thigh * d), -1, 1))
        kx, ky = thigh * np.cos(a + b), hip_h + thigh * np.sin(a + b)  # knee bends forward
        for name, (px, py) in (("hip", (0 * t, hip_h)), ("knee", (kx, ky)), ("ankle", (ax, ay))):
            xy[:, KP[f"{side}_{name}"], 0] = hip_x + facing * px
            xy[:, KP[f"{side}_{name}"], 1] = ground - py
    for side in ("left", "right"):
        xy[:, KP[f"{side}_shoulder"], 0] = hip_x + facing * 0.02 * height_px
        xy[:, KP[f"{side}_shoulder"], 1] = ground - hip_h - 0.288 * height_px
        xy[:, KP[f"{side}_ear"], 0] = hip_x + facing * 0.01 * height_px
        xy[:, KP[f"{side}_ear"], 1] = ground - hip_h - 0.40 * height_px
        xy[:, KP[f"{side}_elbow"]] = xy[:, KP[f"{side}_shoulder"]] + [0, 0.18 * height_px]
        xy[:, KP[f"{side}_wrist"]] = xy[:, KP[f"{side}_elbow"]] + [facing * 0.1 * height_px, 0.05 * height_px]
        xy[:, KP[f"{side}_eye"]] = xy[:, KP[f"{side}_ear"]] + [facing * 0.04 * height_px, -0.01 * height_px]
    xy[:, KP["nose"]] = xy[:, KP["left_ear"]] + [facing * 0.06 * height_px, 0.01 * height_px]
    rng = np.random.default_rng(3)
    xy += rng.normal(0, 1.0, xy.shape)
    score = np.full((t.size, 17), 0.8, np.float32)
    return Timeline(t, xy, score, width=1280, height=720)
