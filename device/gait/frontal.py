"""Rear/front-view analysis: frontal-plane metrics (pelvic drop, lateral sway, step width, knee
frontal angle) and approximate contacts from vertical ankle motion.

From behind or in front, the horizontal ankle motion along the direction of travel is not
visible, so stances are found from height alone: each foot is low (on the belt) in stance and
lifted in swing. Contact is where the descending ankle comes within :data:`IC_FRAC` of its
lift range above its stance level, toe-off where the rising ankle passes :data:`TO_FRAC` (the
same foot geometry as in the side view: ~3% and ~15% of leg length). These contact times are good for
segmenting stances and for cadence; contact-time metrics come only from the side view.

Sign conventions (gait-metrics.md): pelvic drop is reported for the stance side, positive when
the opposite hip is lower (contralateral drop); step width is positive when each foot lands on
its own side, negative = crossover (lengths use a pixel scale that follows the torso length
over time, for runners coming toward the camera); knee frontal angle is positive for valgus (knee inside the
hip–ankle line). The runner's left is on the image left from behind and on the image right
from the front. The mean pelvis tilt over the run is taken as level (a slightly rolled camera
would otherwise add to one side's drop and subtract from the other's).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.signal import find_peaks

from device.gait.clean import Cleaned
from device.gait.events import SideEvents
from device.gait.geometry import window
from device.gait.summary import summarize
from device.gait.types import Metric
from device.keypoints import KP

IC_FRAC = 0.08  # contact: the descending ankle within 8% of its lift range (~3% of leg length)
TO_FRAC = 0.3  # toe-off: the rising ankle past 30% of its lift range (~15% of leg length)
SIDES = ("left", "right")


@dataclass
class FrontalResult:
    events: dict[str, SideEvents]
    step_times: list[tuple[float, float, str]]
    metrics: dict[str, Metric] = field(default_factory=dict)
    strides_used: int = 0
    strides_rejected: int = 0
    duty_factor: float | None = None  # rough (contacts from height only): for running vs walking


def _stances(t: np.ndarray, h: np.ndarray, leg_px: float, fs: float) -> tuple[np.ndarray, np.ndarray]:
    ok = np.isfinite(h)
    if ok.sum() < fs:
        return np.array([]), np.array([])
    hf = np.where(ok, h, np.interp(t, t[ok], h[ok]))
    lows, _ = find_peaks(-hf, prominence=0.04 * leg_px, distance=max(1, int(0.3 * fs)))
    highs, _ = find_peaks(hf, prominence=0.04 * leg_px, distance=max(1, int(0.3 * fs)))
    if lows.size < 2 or highs.size < 1:
        return np.array([]), np.array([])
    amp = float(np.median(hf[highs])) - float(np.median(hf[lows]))
    ics, tos = [], []
    for m in lows:
        before = np.flatnonzero(hf[:m] > hf[m] + IC_FRAC * amp)
        after = np.flatnonzero(hf[m:] > hf[m] + TO_FRAC * amp)
        if not before.size or not after.size:
            continue
        a, b = int(before[-1]), m + int(after[0])
        if not (ok[a] and ok[b]):
            continue
        ics.append(t[a])
        tos.append(t[b])
    return np.array(ics), np.array(tos)


def analyse_frontal(cl: Cleaned, kind: str, leg_px: float, px_per_cm: float | None) -> FrontalResult:
    t, fs = cl.t, cl.fs
    p = cl.xy_angle
    events = {}
    for side in SIDES:
        ic, to = _stances(t, -cl.xy_event[:, KP[f"{side}_ankle"], 1], leg_px, fs)
        events[side] = SideEvents(ic, to, np.zeros(ic.size, bool), np.zeros(to.size, bool))
    all_ic = sorted((float(x), s) for s in SIDES for x in events[s].ic)
    diffs = [b[0] - a[0] for a, b in zip(all_ic, all_ic[1:], strict=False) if a[1] != b[1]]
    med = float(np.median(diffs)) if diffs else 0.35
    step_times = [
        (b[0], b[0] - a[0], b[1])
        for a, b in zip(all_ic, all_ic[1:], strict=False)
        if a[1] != b[1] and 0.15 < b[0] - a[0] < 1.5 * med
    ]
    res = FrontalResult(events=events, step_times=step_times)
    # a runner moving toward or away from the camera changes size: the pixel scale follows the
    # torso length (shoulders to hips, upright and square to the camera in this view)
    scale_rel = np.ones(len(t))
    sh_t = (p[:, KP["left_shoulder"]] + p[:, KP["right_shoulder"]]) / 2
    hp_t = (p[:, KP["left_hip"]] + p[:, KP["right_hip"]]) / 2
    torso = np.linalg.norm(sh_t - hp_t, axis=1)
    okt = np.isfinite(torso)
    if okt.sum() > 10:
        tor = np.interp(t, t[okt], torso[okt])
        scale_rel = tor / float(np.median(tor))
    # the runner's left is image-left from behind (x grows to the runner's right)
    lat = 1.0 if kind == "rear" else -1.0  # lateral coordinate: + = runner's right
    lh, rh = p[:, KP["left_hip"]], p[:, KP["right_hip"]]
    width = np.abs(rh[:, 0] - lh[:, 0])
    tilt = np.degrees(np.arctan2(rh[:, 1] - lh[:, 1], np.maximum(width, 1e-6)))  # + = right hip lower
    ok = np.isfinite(tilt)
    tilt_c = tilt - (np.median(tilt[ok]) if ok.any() else 0.0)
    hip_mid_lat = lat * (lh[:, 0] + rh[:, 0]) / 2
    drops: dict[str, list[float]] = {"left": [], "right": []}
    valgus: dict[str, list[float]] = {"left": [], "right": []}
    widths: list[float] = []
    sways: list[float] = []
    used = rejected = 0
    for side in SIDES:
        se = events[side]
        sgn = 1.0 if side == "left" else -1.0  # left stance: the right hip drops (tilt +)
        for ic, to in zip(se.ic, se.to, strict=True):
            seg = window(t, tilt_c, ic, to)
            if seg.size < 2 or not np.isfinite(seg).all():
                rejected += 1
                continue
            used += 1
            drops[side].append(float(np.max(sgn * seg)))
            # knee frontal angle at mid-stance: knee offset from the hip–ankle line, + = medial
            i = int(np.clip(np.searchsorted(t, (ic + to) / 2), 0, len(t) - 1))
            hip, knee, ank = (p[i, KP[f"{side}_{j}"]] for j in ("hip", "knee", "ankle"))
            if np.isfinite([hip, knee, ank]).all() and abs(ank[1] - hip[1]) > 1:
                f = (knee[1] - hip[1]) / (ank[1] - hip[1])
                line_x = hip[0] + f * (ank[0] - hip[0])
                medial = lat * (1.0 if side == "left" else -1.0)  # toward the body's midline
                off = (knee[0] - line_x) * medial
                v1, v2 = hip - knee, ank - knee
                ang = 180.0 - np.degrees(
                    np.arccos(np.clip(np.dot(v1, v2) / (np.linalg.norm(v1) * np.linalg.norm(v2)), -1, 1))
                )
                valgus[side].append(float(np.sign(off) * ang))
            if px_per_cm:
                # step width: this foot vs the other foot at its latest contact before
                other = "right" if side == "left" else "left"
                prev = events[other].ic[events[other].ic < ic]
                if prev.size and ic - prev[-1] < 1.5 * med:
                    xa = lat * np.interp(ic, t, p[:, KP[f"{side}_ankle"], 0])
                    xb = lat * np.interp(prev[-1], t, p[:, KP[f"{other}_ankle"], 0])
                    own = -1.0 if side == "left" else 1.0  # the left foot belongs on the runner's left
                    if np.isfinite(xa) and np.isfinite(xb):
                        widths.append(own * (xa - xb) / (px_per_cm * float(np.interp(ic, t, scale_rel))))
        if side == "left" and px_per_cm:
            ics = se.ic
            for a, b in zip(ics, ics[1:], strict=False):
                if b - a < 2.2 * med * 1.5:
                    seg = window(t, hip_mid_lat, a, b)
                    if seg.size > 2 and np.isfinite(seg).all():
                        # contact to contact of one foot is one sway period: the line between
                        # the ends is drift (the runner's path, or the camera), not sway
                        seg = seg - np.linspace(seg[0], seg[-1], seg.size)
                        sc = float(np.mean(window(t, scale_rel, a, b)))
                        sways.append(float(seg.max() - seg.min()) / (px_per_cm * sc))
    res.strides_used, res.strides_rejected = used, rejected
    duty = []
    for side in SIDES:
        se = events[side]
        for k in range(len(se.ic) - 1):
            stride = se.ic[k + 1] - se.ic[k]
            if 0.4 < stride < 2.0:
                duty.append((se.to[k] - se.ic[k]) / stride)
    res.duty_factor = float(np.median(duty)) if len(duty) >= 3 else None
    m = res.metrics
    m["pelvic_drop_deg"] = summarize("deg", drops["left"], drops["right"], what="stances")
    m["knee_frontal_angle_deg"] = summarize("deg", valgus["left"], valgus["right"], what="stances")
    if px_per_cm:
        m["step_width_cm"] = summarize("cm", widths, [], sided=False, what="steps")
        m["lateral_sway_cm"] = summarize("cm", sways, [], sided=False, what="strides")
    else:
        why = "runner height not entered (needed to convert pixels to cm)"
        m["step_width_cm"] = Metric.unmeasurable("cm", why)
        m["lateral_sway_cm"] = Metric.unmeasurable("cm", why)
    return res
