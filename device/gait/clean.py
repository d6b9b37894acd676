"""Cleaning a raw keypoint timeline into smooth, uniformly sampled trajectories.

Pose models give noisy, sometimes missing and sometimes wrong keypoints. Before any gait
event or angle is measured, this module:

1. treats low-score keypoints as missing (:data:`MIN_SCORE`),
2. drops the guessed ankle point where both labels sit on one foot (the far foot hidden),
   then finds and repairs short left/right leg swaps (side views: the model mixes up the legs
   for a few frames, often just when the legs cross or a foot lands),
3. rejects isolated outliers with a Hampel filter (median ± k·MAD in a short window),
4. fills an ankle's longer hole when its two ends lie on one stance line (a foot on the belt
   moves with it: :data:`MAX_STANCE_GAP_S`),
5. resamples onto a uniform time grid (the capture clock ``t`` may be uneven), filling only
   short gaps (:data:`MAX_GAP_S`); longer gaps stay missing,
6. low-pass filters with a zero-lag Butterworth (``sosfiltfilt``), once lightly for event
   timing and once more strongly for angles, each contiguous stretch of data on its own.

Everything is numpy arrays; no I/O.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.signal import butter, sosfiltfilt

from device.gait.geometry import length
from device.keypoints import KP, N_KEYPOINTS, Timeline

MIN_SCORE = 0.2  # below this a keypoint counts as not seen
#: Gaps up to this long (plus half a frame of slack for timestamp jitter) are bridged by
#: interpolation; longer ones stay missing. A pose model loses an ankle for a few frames as it
#: passes behind the other leg at contact: at 30 fps four frames (133 ms) of the labelled clip's
#: near foot lost a whole stance, and at 25 fps three (120 ms) lost 4 % of the development set's
#: contacts remade at that rate; bridging three frames at 20 fps (150 ms) made 19 spurious
#: contacts there (was 5). So: 7 frames at 60 fps, 4 at 30, 3 at 25, 2 at 20
#: (docs/validation.md, engines 2.8 and 2.10).
MAX_GAP_S = 0.12
#: A foot on the belt moves with it, at belt level: a longer hole in an ankle's track is bridged
#: when its two ends lie on one stance line (both within STANCE_BAND_FRAC of leg length of the
#: track's belt level, and the foot moved across the hole at the belt's speed, ±BELT_SPEED_TOL),
#: up to MAX_STANCE_GAP_S (a running stance lasts 0.2–0.3 s). A swinging foot is off the belt
#: and moves the other way. Two settings tried on the whole development set at 20–60 fps and the
#: labelled clip (4 % / ±30 %, 7 % / ±40 %); the wider one found more contacts (20 fps 94.26 →
#: 95.07 %) and neither made a spurious one (docs/validation.md, engine 2.10).
MAX_STANCE_GAP_S = 0.25
STANCE_BAND_FRAC = 0.07
BELT_SPEED_TOL = 0.4
#: Two ankle points closer than this (÷ leg length) are one foot carrying both labels: the
#: development set's exact ankle centres never come closer than 9 % of leg (min over 70 trials;
#: the feet pass each other with the swing foot well above the stance foot), its noisy 60 / 30 fps
#: keypoints never closer than 6 %. A pose model puts the hidden far foot's label on the near foot.
SHARED_FOOT_FRAC = 0.05
LEG_PAIRS = (
    (KP["left_hip"], KP["right_hip"]),
    (KP["left_knee"], KP["right_knee"]),
    (KP["left_ankle"], KP["right_ankle"]),
)
LEG_POINTS = {
    "left": (KP["left_hip"], KP["left_knee"], KP["left_ankle"]),
    "right": (KP["right_hip"], KP["right_knee"], KP["right_ankle"]),
}


@dataclass
class Cleaned:
    """Uniformly resampled, filtered keypoints plus what cleaning found.

    ``xy_event``: lightly filtered (event timing); ``xy_angle``: more strongly filtered
    (angles); both (M, 17, 2) float64 on the uniform grid ``t`` at ``fs`` Hz, NaN where data
    was missing for longer than :data:`MAX_GAP_S`. ``seen`` (M, 17) marks grid samples backed by
    a real observation nearby. ``src_index`` maps each grid sample to the nearest input row.
    """

    t: np.ndarray
    fs: float
    xy_event: np.ndarray
    xy_angle: np.ndarray
    seen: np.ndarray
    src_index: np.ndarray
    swaps_corrected: int = 0
    swapped_frames: int = 0
    outliers_removed: int = 0
    shared_feet: int = 0  # frames whose two ankle points were on one foot (the guessed one dropped)
    stance_gaps_bridged: int = 0  # ankle holes longer than MAX_GAP_S filled along a stance line
    fc_event: float = 0.0
    fc_angle: float = 0.0
    raw_xy: np.ndarray | None = None  # after masking + swap repair + Hampel, input rows
    notes: list[str] = field(default_factory=list)


def _seen_points(xy: np.ndarray) -> np.ndarray:
    """(N, K) True where both coordinates of a point (N, K, 2) are finite."""
    return np.isfinite(xy[..., 0]) & np.isfinite(xy[..., 1])


def mask_low_scores(xy: np.ndarray, score: np.ndarray, min_score: float = MIN_SCORE) -> np.ndarray:
    """A copy of ``xy`` (float64) with keypoints below ``min_score`` (or non-finite) set to NaN."""
    out = np.array(xy, dtype=np.float64)
    bad = ~(score >= min_score) | ~_seen_points(out)
    out[bad] = np.nan
    return out


def body_scale_px(xy: np.ndarray, percentile: float = 50.0) -> float:
    """A robust body size in pixels: hip-to-ankle path length (thigh + shank; median by
    default), or the torso when the legs are not seen. From behind or in front the legs are
    foreshortened whenever they swing toward or away from the camera, so frontal views use a
    high percentile (the straight stance leg)."""
    vals = []
    for hip, knee, ankle in LEG_POINTS.values():
        seg = length(xy[:, hip] - xy[:, knee]) + length(xy[:, knee] - xy[:, ankle])
        vals.append(seg[np.isfinite(seg)])
    allv = np.concatenate(vals)
    if allv.size >= 5:
        return float(np.percentile(allv, percentile))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames with neither point: NaN
        sh = np.nanmean(xy[:, [KP["left_shoulder"], KP["right_shoulder"]]], axis=1)
        hp = np.nanmean(xy[:, [KP["left_hip"], KP["right_hip"]]], axis=1)
    torso = np.linalg.norm(sh - hp, axis=1)
    torso = torso[np.isfinite(torso)]
    return float(np.median(torso) * 1.7) if torso.size else float("nan")


def drop_shared_feet(xy: np.ndarray, scale: float, score: np.ndarray) -> tuple[np.ndarray, int]:
    """Frames where both ankle points are on one foot (closer than :data:`SHARED_FOOT_FRAC` of leg
    length): the lower-scored label is the guessed one (a pose model scores the foot it sees
    above the one it cannot) and is set missing, both when the scores are equal; kept, it would
    pull the hidden foot's track onto the other foot. Returns (copy, frames with a shared foot)."""
    la, ra = KP["left_ankle"], KP["right_ankle"]
    out = xy.copy()
    if not np.isfinite(scale):
        return out, 0
    with np.errstate(invalid="ignore"):
        shared = np.linalg.norm(xy[:, la] - xy[:, ra], axis=1) < SHARED_FOOT_FRAC * scale
    sl, sr = score[:, la], score[:, ra]
    out[shared & (sl <= sr), la] = np.nan
    out[shared & (sr <= sl), ra] = np.nan
    return out, int(shared.sum())


def _ffill(a: np.ndarray, t: np.ndarray, max_s: float) -> np.ndarray:
    """Forward-fill NaN rows of ``a`` (N, ...) with the last finite row, for up to ``max_s``."""
    flat = a.reshape(a.shape[0], -1)
    ok = np.isfinite(flat).all(axis=1)
    idx = np.where(ok, np.arange(len(ok)), -1)
    last = np.maximum.accumulate(idx)
    fill = (last >= 0) & ~ok
    src = np.where(last >= 0, last, 0)
    fill &= (t - t[src]) <= max_s
    out = flat.copy()
    out[fill] = flat[src[fill]]
    return out.reshape(a.shape)


def repair_leg_swaps(
    xy: np.ndarray, t: np.ndarray, scale: float, score: np.ndarray | None = None
) -> tuple[np.ndarray, int, int]:
    """Find frames where the model swapped the left and right leg and swap them back.

    A two-state Viterbi pass over the frames: state 0 keeps the model's labels, state 1 swaps
    the legs. Moving from frame to frame costs the distance the knees and ankles would have to
    jump under the chosen labels (legs move continuously; a label swap makes both jump across),
    and staying swapped costs 1.5 leg lengths per second, so the model's labels win when
    continuity cannot tell (legs crossing, a leg unseen: a joint counts only when both legs'
    points are seen in both frames, or in the two frames either side of a single one where they
    are not). With ``score`` given and a clear near leg (side view: its
    knee/ankle score ≥ 0.1 higher over the clip), frames where the scores are the other way
    round lean towards swapped. Hips are swapped along with knees and ankles.
    Returns (repaired copy, number of swapped runs, number of swapped frames).
    """
    out = xy.copy()
    n = len(t)
    if n < 3 or not np.isfinite(scale):
        return out, 0, 0
    d_same = np.zeros(n - 1)
    d_cross = np.zeros(n - 1)
    # the same across one row where the joint is not seen on both legs (row i compared with row
    # i − 2): pose models lose both feet for a frame at foot strike and swap them right after;
    # over a longer gap a swinging foot moves further than the feet are apart
    b_same = np.zeros(n)
    b_cross = np.zeros(n)
    frame_dt = float(np.median(np.diff(t)))
    for li, ri in ((KP["left_knee"], KP["right_knee"]), (KP["left_ankle"], KP["right_ankle"])):
        L, R = xy[:, li], xy[:, ri]
        same = np.linalg.norm(L[1:] - L[:-1], axis=1) + np.linalg.norm(R[1:] - R[:-1], axis=1)
        cross = np.linalg.norm(L[1:] - R[:-1], axis=1) + np.linalg.norm(R[1:] - L[:-1], axis=1)
        # a joint says something only when both legs' points are seen in both frames
        ok = np.isfinite(same) & np.isfinite(cross)
        d_same += np.where(ok, same, 0.0)
        d_cross += np.where(ok, cross, 0.0)
        both = np.isfinite(L).all(1) & np.isfinite(R).all(1)
        k2 = np.flatnonzero(both[2:] & ~both[1:-1] & both[:-2]) + 2
        k2 = k2[t[k2] - t[k2 - 2] < 2.5 * frame_dt]  # one frame between them, not a dropped stretch
        b_same[k2] += np.linalg.norm(L[k2] - L[k2 - 2], axis=1) + np.linalg.norm(R[k2] - R[k2 - 2], axis=1)
        b_cross[k2] += np.linalg.norm(L[k2] - R[k2 - 2], axis=1) + np.linalg.norm(R[k2] - L[k2 - 2], axis=1)
    # staying swapped costs 1.5 leg lengths per second: a few frames are cheap next to the two
    # jumps a swap causes, a long wrong flip is not
    dts = np.diff(t)
    lam_f = 1.5 * scale * float(np.median(dts)) if dts.size else 0.05 * scale
    # side views: the near leg scores higher; a frame where the scores are the other way round
    # leans towards "swapped" (pose models swap the scores with the points)
    e0 = np.zeros(n)
    e1 = np.zeros(n)
    if score is not None:
        kn = [KP["left_knee"], KP["left_ankle"]], [KP["right_knee"], KP["right_ankle"]]
        d = score[:, kn[1]].mean(axis=1) - score[:, kn[0]].mean(axis=1)  # right − left
        typical = float(np.median(d))
        if abs(typical) > 0.1:
            w = 0.5 * scale
            e0 = w * np.maximum(0.0, -np.sign(typical) * d)
            e1 = w * np.maximum(0.0, np.sign(typical) * d)
    # Viterbi over pairs of consecutive states (previous row, this row), so that a comparison
    # with row i − 2 is scored against that row's own state on every path; cAB = best cost with
    # row i − 1 in state A and row i in state B
    inf = float("inf")
    c00, c01, c10, c11 = float(e0[0]), inf, inf, lam_f + float(e1[0])
    back = [0] * n  # per row, 4 bits (one per pair state 2·A + B): row i − 2 in state 1
    ds, dc = d_same.tolist(), d_cross.tolist()
    bs, bc = b_same.tolist(), b_cross.tolist()
    e0l, e1l = e0.tolist(), e1.tolist()
    for i in range(1, n):
        s, c, q, r = ds[i - 1], dc[i - 1], bs[i], bc[i]
        e_0, e_1 = e0l[i], lam_f + e1l[i]
        if not (q or r):
            # no comparison with row i − 2 (most rows): the best way into each state of row i − 1
            # serves both states of row i (same choices as below, in fewer steps)
            m0, bits = (c00, 0) if c00 <= c10 else (c10, 3)
            if c11 <= c01:
                m1, bits = c11, bits | 12
            else:
                m1 = c01
            back[i] = bits
            c00, c01, c10, c11 = m0 + s + e_0, m0 + c + e_1, m1 + c + e_0, m1 + s + e_1
            continue
        bits = 0
        x, y = c00 + q, c10 + r  # into (0, 0) from row i − 2 in state 0 / 1
        if x <= y:
            n00 = x
        else:
            n00, bits = y, 1
        x, y = c00 + r, c10 + q  # into (0, 1)
        if x <= y:
            n01 = x
        else:
            n01, bits = y, bits | 2
        x, y = c11 + r, c01 + q  # into (1, 0) from 1 / 0 (ties: no change of state, as above)
        if x <= y:
            n10, bits = x, bits | 4
        else:
            n10 = y
        x, y = c11 + q, c01 + r  # into (1, 1)
        if x <= y:
            n11, bits = x, bits | 8
        else:
            n11 = y
        back[i] = bits
        c00, c01, c10, c11 = n00 + s + e_0, n01 + c + e_1, n10 + c + e_0, n11 + s + e_1
    path = bytearray(n)
    k = int(np.argmin([c00, c01, c10, c11]))
    prev, cur = k >> 1, k & 1
    for i in range(n - 1, 0, -1):
        path[i] = cur
        prev, cur = (back[i] >> (2 * prev + cur)) & 1, prev
    path[0] = cur
    state = np.frombuffer(path, dtype=np.uint8).astype(bool)
    _swap_rows(out, state)
    # frames where only one leg is seen: continuity between frames says nothing, so the seen
    # leg goes with whichever leg's path (between that leg's own sightings, else interpolated
    # from frames with both legs) it lies on
    one = _one_leg_swaps(out, t, scale)
    _swap_rows(out, one)
    state |= one
    return out, len(_runs(state)), int(state.sum())


def near_leg(xy: np.ndarray, score: np.ndarray) -> str | None:
    """Which label ("left"/"right") the near leg carries in a side view, or None if unclear.

    The near leg is seen better: its knee and ankle score clearly higher (≥ 0.08 on the median
    of the per-frame difference). Size is a weaker cue (the near leg is a few % longer in the
    picture) and only breaks a tie in the same direction."""
    d_score = score[:, [KP["right_knee"], KP["right_ankle"]]].mean(1) - score[
        :, [KP["left_knee"], KP["left_ankle"]]
    ].mean(1)
    med = float(np.median(d_score)) if d_score.size else 0.0
    if abs(med) < 0.08:
        return None
    lens = {}
    for side, (h, k, a) in LEG_POINTS.items():
        seg = np.linalg.norm(xy[:, h] - xy[:, k], axis=1) + np.linalg.norm(xy[:, k] - xy[:, a], axis=1)
        seg = seg[np.isfinite(seg)]
        lens[side] = float(np.median(seg)) if seg.size else float("nan")
    by_score = "right" if med > 0 else "left"
    other = "left" if by_score == "right" else "right"
    if np.isfinite(lens["left"]) and np.isfinite(lens["right"]) and lens[other] > 1.08 * lens[by_score]:
        return None  # the clearly better-scored leg looks clearly smaller: don't guess
    return by_score


def swap_leg_labels(cl: Cleaned) -> None:
    """Swap the left and right leg keypoints throughout (in place)."""
    every = np.ones(cl.t.shape[0], dtype=bool)
    for arr in (cl.xy_event, cl.xy_angle):
        _swap_rows(arr, every)
    tmp = cl.seen[:, [p[0] for p in LEG_PAIRS]].copy()
    cl.seen[:, [p[0] for p in LEG_PAIRS]] = cl.seen[:, [p[1] for p in LEG_PAIRS]]
    cl.seen[:, [p[1] for p in LEG_PAIRS]] = tmp
    if cl.raw_xy is not None:
        _swap_rows(cl.raw_xy, np.ones(cl.raw_xy.shape[0], dtype=bool))


def _swap_rows(a: np.ndarray, rows: np.ndarray) -> None:
    if not rows.any():
        return
    for left_i, right_i in LEG_PAIRS:
        tmp = a[rows, left_i].copy()
        a[rows, left_i] = a[rows, right_i]
        a[rows, right_i] = tmp


def _one_leg_swaps(xy: np.ndarray, t: np.ndarray, scale: float) -> np.ndarray:
    """Frames (bool) where the one visible leg carries the other leg's label."""
    n = len(t)
    flip = np.zeros(n, dtype=bool)
    votes = np.zeros(n)
    for li, ri in ((KP["left_knee"], KP["right_knee"]), (KP["left_ankle"], KP["right_ankle"])):
        L, R = xy[:, li], xy[:, ri]
        okl, okr = _seen_points(L), _seen_points(R)
        both = okl & okr
        if both.sum() < 2:
            continue
        tb = t[both]
        # only between frames with both legs, at most 0.2 s from one on each side
        j = np.searchsorted(tb, t)
        prev_t = tb[np.clip(j - 1, 0, tb.size - 1)]
        next_t = tb[np.clip(j, 0, tb.size - 1)]
        near = (t - prev_t <= 0.2) & (next_t - t <= 0.2) & (t >= tb[0]) & (t <= tb[-1])
        Li = np.stack([np.interp(t, tb, L[both, 0]), np.interp(t, tb, L[both, 1])], 1)
        Ri = np.stack([np.interp(t, tb, R[both, 0]), np.interp(t, tb, R[both, 1])], 1)
        # where a leg was itself seen just before and just after (within MAX_GAP_S), its path
        # runs between those sightings: a swinging foot curves too much for a straight line
        # between frames with both legs (0.2 s apart) to say where it is
        lone = np.flatnonzero(okl != okr)  # the frames to judge: one leg seen
        for own_ok, P, est in ((okl, L, Li), (okr, R, Ri)):
            sx = np.flatnonzero(own_ok)
            if sx.size < 2 or not lone.size:
                continue
            ip = sx[np.clip(np.searchsorted(sx, lone, side="left") - 1, 0, sx.size - 1)]
            inx = sx[np.clip(np.searchsorted(sx, lone, side="right"), 0, sx.size - 1)]
            t_lone = t[lone]
            has = (
                (ip < lone)
                & (inx > lone)
                & (t_lone - t[ip] <= MAX_GAP_S + 1e-9)
                & (t[inx] - t_lone <= MAX_GAP_S + 1e-9)
            )
            f = ((t_lone - t[ip]) / np.maximum(t[inx] - t[ip], 1e-9))[:, None]
            est[lone[has]] = (P[ip] + f * (P[inx] - P[ip]))[has]
        for seen, P, own, other, sgn in ((okl & ~okr, L, Li, Ri, 1.0), (okr & ~okl, R, Ri, Li, 1.0)):
            m = seen & near
            if not m.any():
                continue
            d_own = length(P[m] - own[m])
            d_oth = length(P[m] - other[m])
            votes[m] += sgn * np.where(
                d_oth + 0.05 * scale < d_own, 1.0, np.where(d_own + 0.05 * scale < d_oth, -1.0, 0.0)
            )
    flip[votes > 0] = True
    return flip


def bridge_stance_gaps(xy: np.ndarray, t: np.ndarray, scale: float) -> tuple[np.ndarray, int]:
    """Fill the ankles' holes longer than :data:`MAX_GAP_S` whose two ends lie on one stance line
    (see :data:`MAX_STANCE_GAP_S`) by a straight line, which a stance is. Each track's belt level
    is its lowest 10 % (image y grows down), the belt's velocity the median of its per-frame
    velocities at that level. Returns (copy, holes filled)."""
    out = xy.copy()
    filled = 0
    if not np.isfinite(scale) or len(t) < 20:
        return out, 0
    band = STANCE_BAND_FRAC * scale
    for k in (KP["left_ankle"], KP["right_ankle"]):
        P = out[:, k]
        idx = np.flatnonzero(_seen_points(P))
        if idx.size < 20:
            continue
        y = P[idx, 1]
        on_belt = y >= np.percentile(y, 90) - band
        # the belt's velocity: consecutive frames both at belt level
        pair = on_belt[:-1] & on_belt[1:] & (np.diff(idx) == 1)
        v = (np.diff(P[idx, 0]) / np.diff(t[idx]))[pair]
        if v.size < 10:
            continue
        v_belt = float(np.median(v))
        if abs(v_belt) < 0.5 * scale:  # under half a leg a second: no belt to follow
            continue
        dt_ends = np.diff(t[idx])
        for g in np.flatnonzero((dt_ends > MAX_GAP_S + 1e-9) & (dt_ends <= MAX_STANCE_GAP_S)):
            if not (on_belt[g] and on_belt[g + 1]):
                continue
            a, b = idx[g], idx[g + 1]
            v_gap = (P[b, 0] - P[a, 0]) / dt_ends[g]
            if abs(v_gap - v_belt) > BELT_SPEED_TOL * abs(v_belt):
                continue
            f = ((t[a + 1 : b] - t[a]) / dt_ends[g])[:, None]
            P[a + 1 : b] = P[a] + f * (P[b] - P[a])
            filled += 1
    return out, filled


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) index pairs of the True runs in a boolean array."""
    if not mask.any():
        return []
    m = np.concatenate([[False], mask, [False]]).astype(np.int8)
    d = np.diff(m)
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))


def _nanmedian3(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Element-wise median of three arrays ignoring NaN (two finite: their mean; one: itself).

    A min/max network instead of sorting a stacked array: the same values, several times
    faster on a two-minute clip (sorting along a short first axis is slow in numpy)."""
    n = np.isfinite(a).astype(np.int8) + np.isfinite(b) + np.isfinite(c)
    lo = np.fmin(np.fmin(a, b), c)  # fmin/fmax skip NaN: the smallest / largest finite value
    hi = np.fmax(np.fmax(a, b), c)
    mid3 = np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))
    return np.where(n == 3, mid3, (lo + hi) / 2)


_HAMPEL_BLOCK = 1024  # frames: 1024 × 17 × 2 float64 = 280 kB per temporary


def _residuals(x: np.ndarray) -> np.ndarray:
    """(n, 17) distance of each point of ``x[2:-2]`` from the median of its three predictions;
    NaN where fewer than two predictions exist. ``x`` (n + 4, 17, 2): the frames with two more
    on each side."""
    preds = ((x[1:-3] + x[3:-1]) / 2, 2 * x[1:-3] - x[:-4], 2 * x[3:-1] - x[4:])
    pred = _nanmedian3(*preds)
    # judge a sample only when at least two predictions agree on where it should be: a lone
    # extrapolation across a gap overshoots at every sharp turn (foot strike at 30 fps)
    n_pred = sum(_seen_points(p) for p in preds)
    res = length(x[2:-2] - pred)
    res[n_pred < 2] = np.nan
    return res


def hampel(xy: np.ndarray, t: np.ndarray, scale: float, k_mad: float = 4.0) -> tuple[np.ndarray, int]:
    """Outlier rejection (a Hampel identifier on motion-aware residuals).

    Fast limbs curve a lot between frames at low frame rates, so a plain running median would
    call real peaks outliers. Each sample is instead compared with the median of three local
    predictions (mean of its neighbours; linear extrapolation from the two samples before; from
    the two after). A keypoint whose residual exceeds k·1.4826·(median residual of that keypoint
    over the run; pose noise is roughly stationary) and at least 10% of leg length (a
    pose-model glitch, not noise) becomes NaN."""
    n = len(t)
    if n < 7:
        return xy, 0
    pad = np.full((2, *xy.shape[1:]), np.nan)
    x = np.concatenate([pad, xy, pad])
    # the residuals are per sample: worked out a block of frames at a time, so the dozen
    # temporaries stay in the CPU cache (three times faster than whole-clip arrays)
    res = np.empty((n, xy.shape[1]))
    for s in range(0, n, _HAMPEL_BLOCK):
        res[s : s + _HAMPEL_BLOCK] = _residuals(x[s : s + _HAMPEL_BLOCK + 4])
    # robust spread of the residuals per keypoint over the run (pose noise is ~stationary);
    # keypoint-major rows: each keypoint's residuals are contiguous
    res_k = np.ascontiguousarray(res.T)
    mad = np.zeros(res.shape[1])
    for k, rk in enumerate(res_k):
        r = rk[np.isfinite(rk)]
        if r.size:
            mad[k] = 1.4826 * float(np.median(r))
    fin = np.isfinite(res)
    floor = 0.10 * scale if np.isfinite(scale) else 0.0
    bad = fin & (res > np.maximum(k_mad * mad, floor))
    out = xy.copy()
    out[bad] = np.nan
    return out, int(bad.sum())


def uniform_grid(t: np.ndarray) -> tuple[np.ndarray, float]:
    """A uniform time grid spanning ``t``: at least 100 Hz (sub-frame event timing at low frame
    rates), otherwise the effective frame rate, at most 240 Hz."""
    dt = np.diff(t)
    fps = 1.0 / float(np.median(dt[dt > 0])) if (dt > 0).any() else 30.0
    fs = float(np.clip(round(fps), 100, 240))
    n = int(np.floor((t[-1] - t[0]) * fs)) + 1
    return t[0] + np.arange(n) / fs, fs


def resample(
    xy: np.ndarray, t: np.ndarray, grid: np.ndarray, max_gap_s: float = MAX_GAP_S
) -> tuple[np.ndarray, np.ndarray]:
    """Linear interpolation of each keypoint onto ``grid``, only across gaps of at most
    ``max_gap_s`` without data (e.g. 4 missing frames at 30 fps, 7 at 60 fps).

    Returns (xy on the grid, NaN where unbridgeable; seen mask (grid, 17))."""
    m = len(grid)
    dts = np.diff(t)
    frame_dt = float(np.median(dts)) if dts.size else 0.0
    # keypoint-major (17, 2, time): each coordinate's series contiguous for np.interp
    src = np.ascontiguousarray(np.moveaxis(xy, 0, -1))
    out = np.full((xy.shape[1], 2, m), np.nan)
    seen = np.zeros((m, xy.shape[1]), dtype=bool)
    # keypoints seen in the same frames (most of them, most of the time) share which grid
    # samples are bridgeable: that is worked out once per pattern
    seen_in = _seen_points(xy)
    patterns: dict[bytes, list[int]] = {}
    for k in range(xy.shape[1]):
        patterns.setdefault(seen_in[:, k].tobytes(), []).append(k)
    for ks in patterns.values():
        ok = seen_in[:, ks[0]]
        if ok.sum() < 2:
            continue
        tk = t[ok]
        # distance to the previous / next real observation: bridge only short gaps
        j = np.searchsorted(tk, grid)
        prev_t = tk[np.clip(j - 1, 0, len(tk) - 1)]
        next_t = tk[np.clip(j, 0, len(tk) - 1)]
        exact = np.isclose(prev_t, grid) | np.isclose(next_t, grid)
        inside = (grid >= tk[0] - 1e-9) & (grid <= tk[-1] + 1e-9)
        # the gap is the time with no data: up to max_gap_s missing on top of one frame
        # interval, plus half a frame of slack for timestamp jitter
        good = inside & (exact | (next_t - prev_t <= max_gap_s + 1.5 * frame_dt))
        for k in ks:
            for c in (0, 1):
                out[k, c] = np.interp(grid, tk, src[k, c][ok])
                out[k, c, ~good] = np.nan
            seen[:, k] = good
    return np.ascontiguousarray(np.moveaxis(out, -1, 0)), seen


def lowpass(a: np.ndarray, fs: float, fc: float, order: int = 2) -> np.ndarray:
    """Zero-lag Butterworth low-pass along axis 0, applied to each contiguous finite stretch
    on its own (stretches too short to filter are kept as they are)."""
    out = np.full_like(a, np.nan)
    fc = min(fc, 0.45 * fs)
    sos = butter(order, fc / (fs / 2.0), output="sos")
    flat = a.reshape(a.shape[0], -1)
    of = out.reshape(out.shape[0], -1)
    finite = np.isfinite(flat)
    # columns share gaps most of the time: group columns by their finite pattern (read from
    # a column-major copy: one contiguous row per column)
    patterns: dict[bytes, list[int]] = {}
    for c, fin_c in enumerate(np.ascontiguousarray(finite.T)):
        patterns.setdefault(fin_c.tobytes(), []).append(c)
    padlen_need = 3 * (2 * len(sos) + 1)
    for cols in patterns.values():
        fin = finite[:, cols[0]]
        # a few columns at a time (each is filtered on its own: the same numbers): sosfiltfilt
        # keeps several copies of what it is given, 280 MB for a 30-minute capture's 34 columns
        for c0 in range(0, len(cols), _LOWPASS_COLUMNS):
            block = cols[c0 : c0 + _LOWPASS_COLUMNS]
            # consecutive columns (the usual case): slices, not copies through an index list
            sel: slice | list[int] = (
                slice(block[0], block[-1] + 1) if block[-1] - block[0] == len(block) - 1 else block
            )
            for s, e in _runs(fin):
                seg = flat[s:e, sel]
                if e - s > padlen_need + 1:
                    of[s:e, sel] = sosfiltfilt(sos, seg, axis=0, padlen=min(padlen_need * 4, e - s - 1))
                else:
                    of[s:e, sel] = seg
    return out


#: columns per sosfiltfilt call in :func:`lowpass`
_LOWPASS_COLUMNS = 8


def cutoffs(fps: float) -> tuple[float, float]:
    """(event, angle) low-pass cutoffs in Hz. Running kinematics live below ~10–12 Hz; the
    cutoff must also stay well under the camera's Nyquist frequency. Event timing gets the
    lighter filter (timing must not be smeared), angles the heavier one (pose noise)."""
    fc_event = float(min(12.0, 0.4 * fps))
    fc_angle = float(min(8.0, 0.3 * fps))
    return fc_event, fc_angle


def clean(timeline: Timeline, min_score: float = MIN_SCORE) -> Cleaned:
    """Run the whole cleaning chain on ``timeline`` (see module docstring)."""
    t = np.asarray(timeline.t, dtype=np.float64)
    xy = mask_low_scores(timeline.xy, timeline.score, min_score)
    scale = body_scale_px(xy)
    xy, n_shared = drop_shared_feet(xy, scale, timeline.score)
    xy, n_runs, n_frames = repair_leg_swaps(xy, t, scale, timeline.score)
    xy, n_out = hampel(xy, t, scale)
    xy, n_stance_gaps = bridge_stance_gaps(xy, t, scale)
    grid, fs = uniform_grid(t)
    xg, seen = resample(xy, t, grid)
    fps = timeline.effective_fps or 30.0
    fce, fca = cutoffs(fps)
    xe = lowpass(xg, fs, fce)
    xa = lowpass(xg, fs, fca)
    src = np.clip(np.searchsorted(t, grid), 0, len(t) - 1)
    prev = np.clip(src - 1, 0, len(t) - 1)
    src = np.where(np.abs(t[prev] - grid) < np.abs(t[src] - grid), prev, src)
    return Cleaned(
        t=grid,
        fs=fs,
        xy_event=xe,
        xy_angle=xa,
        seen=seen,
        src_index=src,
        swaps_corrected=n_runs,
        swapped_frames=n_frames,
        outliers_removed=n_out,
        shared_feet=n_shared,
        stance_gaps_bridged=n_stance_gaps,
        fc_event=fce,
        fc_angle=fca,
        raw_xy=xy,
    )


__all__ = [
    "Cleaned",
    "clean",
    "mask_low_scores",
    "repair_leg_swaps",
    "drop_shared_feet",
    "hampel",
    "resample",
    "lowpass",
    "uniform_grid",
    "cutoffs",
    "body_scale_px",
    "MIN_SCORE",
    "MAX_GAP_S",
    "N_KEYPOINTS",
]
