"""Gait events on a treadmill, side view: initial contact and toe-off per foot.

On a treadmill the foot moves backward with the belt during stance, so ankle speed alone
does not mark contact. Two signals are used, both hip-relative or ground-relative:

1. Zeni-style cycle finding: the ankle's horizontal position relative to the hip midpoint,
   along the direction of travel, peaks forward once per stride (just before contact) and
   backward once per stride (just after toe-off). These peaks segment the strides robustly.
2. Refinement from vertical ankle motion against the stance floor (the ankle's own height
   when the foot is flat on the belt, measured per stride):
   - initial contact: the descending ankle comes within :data:`IC_HEIGHT_FRAC` of leg length of
     its stance level. A rear-foot striker's heel touches while the ankle is still ~2–3 cm above
     its foot-flat height (the foot is dorsiflexed ~10–15° at contact); the hip-relative peak
     comes 20–50 ms earlier (late-swing leg retraction), so it is only the search anchor.
   - toe-off: the rising ankle passes :data:`TO_HEIGHT_FRAC` of leg length above its stance
     level, a point on the steep part of the rise that the learned correction
     (:mod:`.treadmill`) was fitted to move to the force-plate toe-off. At toe-off the foot
     pivots on the toes, which lifts the ankle above its foot-flat height: on the development
     set's exact joint centres (69 trials, 23 runners, force-plate toe-off) by 8.7–15.4 % of leg
     length, median :data:`TO_HEIGHT_FRAC_UNCORRECTED` = 11.5 %, nearly independent of speed;
     where the correction cannot be used (keypoints too noisy) the toe-off is that crossing.
     The hip-relative backward peak comes 50–70 ms after toe-off.
   When the vertical refinement is not possible (ankle not seen, no clear stance floor) the
   hip-relative extreme is used with the typical offsets above (:data:`ZENI_IC_OFFSET_FRAC`,
   :data:`ZENI_TO_OFFSET_FRAC`, as fractions of the stride so they scale with speed).
The constants are anatomical (foot geometry as a fraction of leg length), not fitted to one
trial; they assume a shod rear-/mid-foot strike, the common case on a treadmill.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy.signal import find_peaks, peak_prominences

IC_HEIGHT_FRAC = 0.03  # ankle height above its stance level at heel contact, ÷ leg length
TO_HEIGHT_FRAC = 0.15  # the rising ankle's reference level for toe-off, ÷ leg length (then corrected)
TO_HEIGHT_FRAC_UNCORRECTED = 0.115  # ankle height above foot-flat at toe-off, ÷ leg (dev-set median)
ZENI_IC_OFFSET_FRAC = 0.045  # contact comes this fraction of a stride after the forward peak
ZENI_TO_OFFSET_FRAC = -0.08  # toe-off comes this fraction of a stride before the backward peak
MIN_STRIDE_S = 0.4
MAX_STRIDE_S = 2.0


@dataclass
class SideEvents:
    """Events of one foot, one entry per stance, times in seconds on the analysis grid
    (sub-sample interpolated); NaN where that stance's contact or toe-off is not in the data."""

    ic: np.ndarray
    to: np.ndarray
    ic_refined: np.ndarray  # bool per IC: vertical refinement used (else hip-relative fallback)
    to_refined: np.ndarray
    ic_conf: np.ndarray | None = None  # 0..1 per IC (set by the treadmill refinement)
    to_conf: np.ndarray | None = None


def _interp_cross(t: np.ndarray, y: np.ndarray, i: int, level: float) -> float:
    """Time where y crosses ``level`` between samples i-1 and i (linear)."""
    if i <= 0:
        return float(t[0])
    # Python floats: this runs a few times per stance, numpy scalars cost ten times more
    y0, y1 = float(y[i - 1]), float(y[i])
    if not (math.isfinite(y0) and math.isfinite(y1)) or y1 == y0:
        return float(t[i])
    f = (level - y0) / (y1 - y0)
    t0, t1 = float(t[i - 1]), float(t[i])
    return t0 + min(max(f, 0.0), 1.0) * (t1 - t0)


def _nanpercentile(x: np.ndarray, q: float) -> float:
    """``np.nanpercentile(x, q)`` (linear method) of a short 1-D array at a tenth of the cost
    (it runs once per stance): the same order statistics and numpy's interpolation formula."""
    s = np.sort(x[~np.isnan(x)])
    n = s.size
    if n == 0:
        return float("nan")
    vi = (n - 1) * (q / 100)
    if vi >= n - 1:
        return float(s[-1])
    lo = math.floor(vi)
    a, b, g = float(s[lo]), float(s[lo + 1]), vi - lo
    # numpy's _lerp: from the nearer end, so the result stays within [a, b]
    return b - (b - a) * (1 - g) if g >= 0.5 else a + (b - a) * g


def _nanargmin(x: np.ndarray) -> int:
    """``np.nanargmin`` (x has a finite value) without its per-call overhead."""
    return int(np.argmin(np.where(np.isnan(x), np.inf, x)))


def _seen_around(t: np.ndarray, y: np.ndarray, tc: float, half: float, after: float | None = None) -> bool:
    """``y`` is finite from ``half`` before ``tc`` to ``after`` (default ``half``) after it (at a
    data edge: at least half the span on that side)."""
    after = half if after is None else after
    a = int(t.searchsorted(tc - half))
    b = int(t.searchsorted(tc + after, side="right"))
    if tc - t[0] < half / 2 or t[-1] - tc < after / 2:
        return False
    seg = y[a:b]
    return bool(seg.size) and bool(np.isfinite(seg).all())


def _peaks_to_the_ends(x: np.ndarray, prominence: float, distance: int) -> np.ndarray:
    """``find_peaks(x, prominence=…, distance=…)``, but a peak next to the start or end of the
    data has its prominence measured on its inner side alone: the data's end cuts the other
    side's descent short, and the first backward peak (a stance begun before the data) or the
    last forward one stood out too little to be found. The first and last samples are never
    peaks (the top is outside the data), nor do they push a real peak out by ``distance``."""
    pad = np.concatenate([[np.min(x)], x, [np.min(x)]])
    cand, _ = find_peaks(pad)
    cand = cand[(cand > 1) & (cand < pad.size - 2)]
    # as find_peaks: of two peaks closer than ``distance`` the higher stays, then prominence
    keep = np.ones(cand.size, dtype=bool)
    for j in np.argsort(-pad[cand], kind="stable"):
        if keep[j]:
            lo = int(np.searchsorted(cand, cand[j] - distance, side="right"))
            hi = int(np.searchsorted(cand, cand[j] + distance, side="left"))
            keep[lo:hi] = False
            keep[j] = True
    cand = cand[keep]
    prom = peak_prominences(pad, cand)[0] if cand.size else np.array([])
    return cand[prom >= prominence] - 1


def detect_side_events(
    t: np.ndarray, rel: np.ndarray, height: np.ndarray, leg_px: float, fs: float, walking: bool = False
) -> SideEvents:
    """Events for one foot.

    ``walking``: use the hip-relative extremes as they are (Zeni et al. 2008 validated them for
    walking; the vertical rules above describe a running foot).

    ``rel``: ankle x minus hip-midpoint x, along the direction of travel (px, + = ahead);
    ``height``: ankle height, up positive (px, = −image y); both on the uniform grid ``t``.
    """
    ok = np.isfinite(rel)
    empty = np.array([])
    if ok.sum() < fs * MIN_STRIDE_S * 2 or not np.isfinite(leg_px):
        return SideEvents(empty, empty, empty.astype(bool), empty.astype(bool))
    r = np.where(ok, rel, np.nan)
    filled = np.where(ok, r, np.interp(t, t[ok], r[ok]))  # find_peaks needs finite input
    prom = 0.25 * leg_px
    dist = max(1, int(0.6 * MIN_STRIDE_S * fs))
    fwd = _peaks_to_the_ends(filled, prom, dist)
    back = _peaks_to_the_ends(-filled, prom, dist)
    fwd = fwd[ok[fwd]]
    back = back[ok[back]]
    ics, tos, icr, tor = [], [], [], []
    # a stride duration estimate for the fallback offsets and search windows
    anchors = fwd if len(fwd) >= 2 else back
    stride = float(np.median(np.diff(t[anchors]))) if len(anchors) >= 2 else 0.7
    stride = float(np.clip(stride, MIN_STRIDE_S, MAX_STRIDE_S))
    n = len(t)
    # stances: each forward peak starts one; a backward peak with no forward peak before it in
    # the same stride (start of the data) ends one on its own
    stances: list[tuple[int | None, int | None]] = []
    used_back: set[int] = set()
    for p in fwd:
        nb = back[(back > p) & (t[back] - t[p] < 0.9 * stride)]
        q = int(nb[0]) if nb.size else None
        if q is not None:
            used_back.add(q)
        stances.append((int(p), q))
    for q in back:
        if int(q) not in used_back and not np.any((fwd < q) & (t[q] - t[fwd] < 0.9 * stride)):
            stances.append((None, int(q)))
    span = int(0.75 * stride * fs)
    # the belt does not move up or down: a stance cut by the start or end of the data (its
    # foot-flat level not in the data) is measured against this foot's floor in its whole
    # stances, so those are measured first and the cut ones after them
    floors: list[float] = []
    deferred: list[tuple[int | None, int | None]] = []
    # the data this foot is seen in: a foot unseen in the first (last) frames is cut by the
    # start (end) where it is first (last) seen, not at the data's own ends
    seen_at = np.flatnonzero(np.isfinite(height))
    first_seen, last_seen = (int(seen_at[0]), int(seen_at[-1])) if seen_at.size else (0, n - 1)

    def in_order() -> Iterator[tuple[int | None, int | None]]:
        yield from stances
        yield from deferred

    for p, q in in_order():
        # a stance has at least one end in the data (``or 0`` only satisfies the type checker)
        a0 = p if p is not None else max(0, (q or 0) - span)
        b0 = q if q is not None else min(n - 1, (p or 0) + span)
        seg = height[a0 : b0 + 1]
        if seg.size < 3 or np.count_nonzero(np.isfinite(seg)) / seg.size < 0.8:
            continue
        m = a0 + _nanargmin(seg)
        if m <= first_seen or m >= last_seen:
            if walking:
                continue  # the foot-flat level is not in the data: no floor to measure against
            if (p, q) not in deferred:
                deferred.append((p, q))
                continue
            if len(floors) < 3:
                continue
            floor = float(np.median(floors))
        else:
            floor = _nanpercentile(seg, 5)  # the ankle's lowest (foot flat) level
            floors.append(floor)
        t_ic = t_to = None
        refined = refined_to = False
        if walking:
            t_ic = float(t[p]) if p is not None else None
            t_to = float(t[q]) if q is not None else None
            p_ok = p is not None and _seen_around(t, rel, t[p], 0.1)
            q_ok = q is not None and _seen_around(t, rel, t[q], 0.1)
            t_ic = t_ic if p_ok else None
            t_to = t_to if q_ok else None
            if t_ic is None and t_to is None:
                continue
            if t_ic is not None and t_to is not None and not (0.1 < t_to - t_ic < 0.9 * stride):
                continue
            ics.append(np.nan if t_ic is None else t_ic)
            tos.append(np.nan if t_to is None else t_to)
            icr.append(p_ok)
            tor.append(q_ok)
            continue
        if p is not None:
            # initial contact: descending ankle reaches floor + IC_HEIGHT_FRAC·leg
            lvl_ic = floor + IC_HEIGHT_FRAC * leg_px
            a = max(0, p - int(0.06 * fs))
            below = np.flatnonzero(height[a : m + 1] <= lvl_ic)
            t_ic_z = t[p] + ZENI_IC_OFFSET_FRAC * stride
            if below.size and below[0] > 0:
                t_ic = _interp_cross(t, height, a + int(below[0]), lvl_ic)
                # a crossing far from where the hip-relative peak puts contact is not credible
                refined = abs(t_ic - t_ic_z) < 0.12 * stride
            if not refined:
                # the swing's estimate (low confidence), also for a stance the data's end cuts
                # before its backward peak: its forward peak is in the data all the same
                t_ic = t_ic_z
                if not _seen_around(t, rel, float(t[p]), 0.1):
                    t_ic = None  # its forward peak too close to the data's start: the descent may say
        if t_ic is None and m > 0:
            # no forward peak in the data (it came before the start, or too close to the end to
            # stand out): the descent onto the belt, if it is in the data, still marks contact
            lvl_ic = floor + IC_HEIGHT_FRAC * leg_px
            below = np.flatnonzero(height[a0 : m + 1] <= lvl_ic)
            # the descent must be seen from the start of the window, or for 60 ms up to the
            # crossing: frames unseen at the start of the data (or before a gap's end) do not
            # hide a descent that is in the data
            c = a0 + int(below[0]) if below.size else 0
            lo = max(a0, c - int(0.06 * fs))
            if below.size and below[0] > 0 and np.all(np.isfinite(height[lo : c + 1])):
                t_ic = _interp_cross(t, height, c, lvl_ic)
                refined = True
        # toe-off: after the lowest point, the rising ankle passes floor + TO_HEIGHT_FRAC·leg
        lvl_to = floor + TO_HEIGHT_FRAC * leg_px
        end = min(n - 1, (q + int(0.1 * stride * fs)) if q is not None else m + span)
        above = np.flatnonzero(height[m : end + 1] >= lvl_to)
        t_to_z = t[q] + ZENI_TO_OFFSET_FRAC * stride if q is not None else None
        if above.size and above[0] > 0:
            t_to = _interp_cross(t, height, m + int(above[0]), lvl_to)
            refined_to = t_to_z is None or abs(t_to - t_to_z) < 0.12 * stride
        if not refined_to:
            t_to = t_to_z if p is not None else None
        # an event is only as good as the data around it: the ankle must be seen (not bridged
        # across a long gap) within ±60 ms, and a hip-relative fallback needs its peak seen
        t_ic = t_ic if t_ic is not None and _seen_around(t, height, t_ic, 0.06) else None
        # toe-off: the far foot often disappears behind the near leg just after it leaves the
        # belt; the rise up to the crossing is what times it
        t_to = t_to if t_to is not None and _seen_around(t, height, t_to, 0.06, 0.015) else None
        if t_ic is not None and not refined and not _seen_around(t, rel, float(t[p]), 0.1):
            t_ic = None
        if t_to is not None and not refined_to and q is not None and not _seen_around(t, rel, t[q], 0.1):
            t_to = None
        if t_ic is None and t_to is None:
            continue
        if t_ic is not None and t_to is not None and not (0.05 < t_to - t_ic < 0.85 * stride):
            continue
        ics.append(np.nan if t_ic is None else t_ic)
        tos.append(np.nan if t_to is None else t_to)
        icr.append(refined)
        tor.append(refined_to)
    order = np.argsort(
        np.array([x if np.isfinite(x) else y for x, y in zip(ics, tos, strict=True)], dtype=float)
    )
    ics = [ics[i] for i in order]
    tos = [tos[i] for i in order]
    icr = [icr[i] for i in order]
    tor = [tor[i] for i in order]
    return SideEvents(np.array(ics), np.array(tos), np.array(icr, bool), np.array(tor, bool))


def enforce_alternation(
    left: SideEvents, right: SideEvents, stride_s: float
) -> tuple[SideEvents, SideEvents, int]:
    """Drop contacts that break the left/right alternation: two contacts (of either feet) closer
    than 30% of a step are one real contact and a spurious one. Keep the one whose stance lasts
    like the other stances (a spurious 'stance' on a mislabelled or wandering track rarely
    does), else the refined / earlier one. Returns the filtered sides and the number of
    contacts dropped."""
    allev = [(t, "left", i) for i, t in enumerate(left.ic)] + [
        (t, "right", i) for i, t in enumerate(right.ic)
    ]
    allev.sort()
    drop: dict[str, set[int]] = {"left": set(), "right": set()}
    min_gap = 0.3 * stride_s / 2
    ct_all = np.concatenate([left.to - left.ic, right.to - right.ic])
    ct_all = ct_all[np.isfinite(ct_all)]
    ct_med = float(np.median(ct_all)) if ct_all.size >= 4 else float("nan")

    def odd(ev: tuple) -> float:
        se = left if ev[1] == "left" else right
        c = float(se.to[ev[2]] - se.ic[ev[2]])
        return abs(c - ct_med) / ct_med if np.isfinite(c) and np.isfinite(ct_med) else float("nan")

    prev = None
    for ev in allev:
        if prev is not None and ev[0] - prev[0] < min_gap:
            a_ref = (left if prev[1] == "left" else right).ic_refined[prev[2]]
            b_ref = (left if ev[1] == "left" else right).ic_refined[ev[2]]
            oa, ob = odd(prev), odd(ev)
            if np.isfinite(oa) and np.isfinite(ob) and abs(oa - ob) > 0.25:
                loser = prev if oa > ob else ev
            else:
                loser = ev if (a_ref or not b_ref) else prev
            drop[loser[1]].add(loser[2])
            if loser is prev:
                prev = ev
            continue
        prev = ev
    out = []
    for side, se in (("left", left), ("right", right)):
        keep = np.array([i not in drop[side] for i in range(len(se.ic))], bool)
        out.append(SideEvents(se.ic[keep], se.to[keep], se.ic_refined[keep], se.to_refined[keep]))
    return out[0], out[1], len(drop["left"]) + len(drop["right"])


def strict_alternation(
    left: SideEvents, right: SideEvents, stride_s: float
) -> tuple[SideEvents, SideEvents, int]:
    """Contacts alternate strictly between the feet: two consecutive contacts of the same foot
    less than 75 % of a stride apart (one of them belongs to the other foot, or to no foot) are
    not credible together, and the less confident one is left out (stance and all). Returns the
    filtered sides and the number of stances left out."""
    allev = sorted(
        [(float(t), "left", i) for i, t in enumerate(left.ic) if np.isfinite(t)]
        + [(float(t), "right", i) for i, t in enumerate(right.ic) if np.isfinite(t)]
    )
    sides = {"left": left, "right": right}
    drop: dict[str, set[int]] = {"left": set(), "right": set()}

    def conf(ev: tuple[float, str, int]) -> float:
        c = sides[ev[1]].ic_conf
        return float(c[ev[2]]) if c is not None else 0.5

    prev = None
    for ev in allev:
        if prev is not None and ev[1] == prev[1] and ev[0] - prev[0] < 0.75 * stride_s:
            loser = ev if conf(ev) < conf(prev) else prev
            drop[loser[1]].add(loser[2])
            prev = ev if loser is prev else prev
            continue
        prev = ev
    out = []
    for side in ("left", "right"):
        se = sides[side]
        keep = np.array([i not in drop[side] for i in range(len(se.ic))], bool)
        out.append(
            SideEvents(
                se.ic[keep],
                se.to[keep],
                se.ic_refined[keep],
                se.to_refined[keep],
                None if se.ic_conf is None else se.ic_conf[keep],
                None if se.to_conf is None else se.to_conf[keep],
            )
        )
    return out[0], out[1], len(drop["left"]) + len(drop["right"])


#: A toe-off is measured against its foot's level on the belt from the stance itself and its
#: neighbours on that foot (this many before and after): the belt does not move up or down, and
#: one stance's lowest ankle points scatter with the pose model's noise (on the labelled clip's
#: MoveNet keypoints by up to ±4 % of leg about the foot's median), which moved that
#: stance's toe-off crossing by up to a frame. Local, not the whole capture's: a runner drifting
#: toward or away from the camera moves the belt's level in the picture slowly (the clip's near
#: foot: by ~4 % of leg over 5 s). Development set timed as video: TO MAE 7.2 → 6.8 ms at
#: 60 fps, 8.5 → 7.8 ms at 30 fps; 1, 2, 4 and 8 neighbours: 6.9–6.7 / 8.1–7.7 ms.
FLOOR_NEIGHBOURS = 3


def stance_floors(t: np.ndarray, height: np.ndarray, ic: np.ndarray, to: np.ndarray) -> np.ndarray:
    """Each stance's lowest level (its lowest 5 % of ankle heights from contact to toe-off);
    NaN for a stance cut by the data's ends (its foot-flat part may not be in the data)."""
    ic, to = np.asarray(ic, float), np.asarray(to, float)
    out = np.full(ic.shape, np.nan)
    whole = np.flatnonzero(np.isfinite(ic) & np.isfinite(to))
    for k, a, b in zip(
        whole, t.searchsorted(ic[whole]), t.searchsorted(to[whole], side="right"), strict=True
    ):
        seg = height[a:b]
        if b - a >= 3 and np.isfinite(seg).any():
            out[k] = _nanpercentile(seg, 5)
    return out


def stance_floor(t: np.ndarray, height: np.ndarray, ic: np.ndarray, to: np.ndarray) -> float:
    """One foot's lowest level in its whole stances (the median over them of each one's lowest
    5 %): the level a stance cut by the start of the data is measured against (its foot-flat
    part is not in the data). NaN without a whole stance."""
    return foot_floor(stance_floors(t, height, ic, to))


def foot_floor(floors: np.ndarray) -> float:
    """The median of the stances' floors (:func:`stance_floors`) that are known; NaN if none."""
    known = np.asarray(floors, float)
    known = known[np.isfinite(known)]
    return float(np.median(known)) if known.size else float("nan")


def local_floors(floors: np.ndarray, half: int = FLOOR_NEIGHBOURS) -> np.ndarray:
    """Per stance, the median of its own floor and its foot's ``half`` stances before and after
    (those known); NaN where none of them is known."""
    floors = np.asarray(floors, float)
    out = np.full(floors.shape, np.nan)
    for k in range(floors.size):
        near = floors[max(0, k - half) : k + half + 1]
        near = near[np.isfinite(near)]
        if near.size:
            out[k] = float(np.median(near))
    return out


def uncorrected_toe_off(
    t: np.ndarray, height: np.ndarray, ic: float, to: float, leg_px: float, floor: float = float("nan")
) -> float:
    """Toe-off without the learned correction: where the ankle, rising before ``to`` (the
    :data:`TO_HEIGHT_FRAC` crossing), passed :data:`TO_HEIGHT_FRAC_UNCORRECTED` of leg length above
    the foot's level on the belt (the development set's median ankle height at the force-plate
    toe-off). That level is ``floor`` when known (:func:`local_floors`; for a stance whose contact
    is not in the data, whose part in the data may have no foot-flat frame, :func:`stance_floor`),
    else the stance's own lowest 5 %. ``to`` itself when that crossing is not in the data."""
    if not (np.isfinite(to) and np.isfinite(leg_px)):
        return to
    start = ic if np.isfinite(ic) else to - 0.4
    a = int(np.searchsorted(t, start))
    b = int(np.searchsorted(t, to, side="right"))
    seg = height[a:b]
    if seg.size < 3 or not np.isfinite(seg).any():
        return to
    low = floor if np.isfinite(floor) else _nanpercentile(seg, 5)
    lvl = low + TO_HEIGHT_FRAC_UNCORRECTED * leg_px
    below = np.flatnonzero(seg <= lvl)
    if not below.size or a + int(below[-1]) + 1 >= len(t):
        return to
    i = a + int(below[-1]) + 1  # first sample above the level after the last one below it
    return _interp_cross(t, height, i, lvl)
