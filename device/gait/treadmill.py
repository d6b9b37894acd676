"""Event timing on treadmill physics, refined by a small learned model.

In stance the foot is on the belt: it stays at belt level and moves backward with the belt at
constant speed. So each stance found by the stride segmentation (:mod:`.events`) gets a
*stance model* — the ankle's foot-flat height (its floor) and the belt line u(t) = a − v·t,
with v the belt speed measured over every stance of the clip (:func:`belt_speed`) and a fitted
to the middle of that stance. Initial contact is where the foot joins that model, toe-off where
it leaves it.

Where exactly the force plate says "contact" relative to the ankle joining the belt line
depends on the foot (heel or forefoot strike, the roll-off at toe-off), so the final time comes
from a tiny linear model (:class:`EventModel`): its features are the ankle's height above its
floor, its distance from the belt line and the knee's place relative to the ankle (how the shin
stands: a runner landing on the heel with the shin reaching forward and one landing on the
forefoot under the knee touch down at different moments of the ankle's descent), all ÷ leg
length, sampled at fixed time offsets around the current estimate; it predicts the correction,
applied in two passes. The weights
(``device/gait/event_weights.py``) were fitted on the development set only (23 runners, force
plate truth, clean / 60 fps / 30 fps keypoints pooled) by ``device/validation/fitting.py``;
its leave-one-runner-out figures are in docs/validation.md.

Pure: arrays in, numbers out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Feature sample offsets around the current event estimate (seconds); Python floats (numpy's
#: rounding kept), so the type is the same under every numpy's stubs.
OFFSETS_S = tuple(float(round(x, 3)) for x in np.arange(-0.1, 0.1001, 0.01))
#: The features read ±0.1 s around the estimate: a correction beyond that puts the event where
#: the model has not looked, so it is not credible (the estimate is kept, low confidence). It
#: was 0.06 s: on 60 fps keypoints with a leg swap across a contact the physics estimate can be
#: 60–80 ms early, and the model's right answer was refused (6 of 7 spurious contacts of the
#: development set's realistic 60 fps trials, 11 of 16 at 30 fps).
MAX_CORRECTION_S = 0.1
#: the confidence of an event whose correction the model refused (beyond MAX_CORRECTION_S)
REFUSED_CONFIDENCE = 0.2
#: The learned correction reads the ankle's height at 21 instants around each event; it was
#: fitted on keypoints whose mid-stance ankle height scatters about a straight line by 0.1–0.7 %
#: of leg length (robust SD over a track's stances; development set, clean / 60 fps / 30 fps;
#: `gait-station validate` lists any trial where the correction was set aside; the synthetic
#: runner: 0.4 %). Real MoveNet keypoints of a phone
#: clip scatter ~0.95 %, and there the fitted weights read noise as shape and move contacts
#: early and toe-offs late (docs/validation.md). Beyond this scatter a track keeps its physics
#: estimate, with a lower confidence.
MAX_MODEL_NOISE_FRAC = 0.008
#: Nor was it fitted on ankle tracks this patchy: in the development set a track's ankle is
#: missing (not seen, or dropped by cleaning) in at most 11.6 % of its frames (the far leg at
#: 30 fps; the near leg ≤ 0.7 %), and the correction then reads gaps bridged by straight lines
#: as stance shape. Real MoveNet keypoints of a phone clip: 19 % near, 31 % far. A track missing
#: its ankle more often than this keeps its physics estimate too.
MAX_MODEL_UNSEEN_FRAC = 0.12


@dataclass(frozen=True)
class StanceModel:
    """The ankle on the belt during one stance: height ``floor`` (px, up +) and the belt line
    u(t) = ``a`` − ``v``·t (px, + = ahead; v = belt speed in px/s)."""

    floor: float
    a: float
    v: float


@dataclass(frozen=True)
class EventModel:
    """Linear corrections per event kind and pass: ``weights[kind][pass]`` has one weight per
    feature (height and belt-line distance at each offset, then a constant)."""

    weights: dict[str, tuple[tuple[float, ...], ...]]
    source: str = ""
    offsets_s: tuple[float, ...] = OFFSETS_S
    #: use the belt-line distance features (False: the ankle height alone; the u weights are 0)
    use_u: bool = True
    #: also the knee relative to the ankle (height and horizontal distance at each offset)
    use_knee: bool = False
    #: no correction at all, as on keypoints noisier than the model was fitted on (real video):
    #: toe-offs by the height rule, contacts on the ankles' turning points
    physics_only: bool = False

    @property
    def n_features(self) -> int:
        """Columns of :func:`feature_rows`: ankle height and belt-line distance (and the knee's
        two) at each offset, then the constant."""
        return (4 if self.use_knee else 2) * len(self.offsets_s) + 1

    @classmethod
    def identity(cls) -> EventModel:
        """No correction (the physics estimate as it is)."""
        return cls(weights={"initial_contact": (), "toe_off": ()}, source="none")

    @classmethod
    def physics(cls) -> EventModel:
        """The timing of keypoints the correction was not fitted for: every capture and video
        the pose model read (the station's camera, ``gait-station analyse`` of a video). The
        correction was fitted on motion-capture joint centres with simulated noise; the pose
        model's ankle is another landmark with its own errors: on the labelled clip, forced
        on, it made contact time a median 48 ms too long (this timing: within 17 ms). A
        keypoints file of unknown origin keeps the shipped model, set aside by the noise checks.
        ``gait-station validate`` scores it on the force-plate trials (``physics_60fps``)."""
        return cls(weights={"initial_contact": (), "toe_off": ()}, source="physics only", physics_only=True)


def belt_speed(
    t: np.ndarray, u: dict[str, np.ndarray], stances: list[tuple[str, float, float]]
) -> float | None:
    """Belt speed (px/s, > 0) from the ankles in mid-stance: the median slope of u over the
    middle half of every stance (``stances``: side, contact, toe-off)."""
    fits = []  # (t, u) of each stance's middle half
    for side, ic, to in stances:
        if not (np.isfinite(ic) and np.isfinite(to)) or to - ic < 0.08:
            continue
        c = to - ic
        a = int(t.searchsorted(ic + 0.25 * c))
        b = int(t.searchsorted(to - 0.25 * c, side="right"))
        uu, tt = u[side][a:b], t[a:b]
        ok = np.isfinite(uu)
        if np.count_nonzero(ok) < 4:
            continue
        fits.append((tt[ok], uu[ok]))
    if len(fits) < 3:
        return None
    # the slope is np.polyfit's, but a polyfit per stance was a tenth of the analysis: the
    # closed-form least-squares slopes of all stances at once (equal to it within 1e-10) put
    # the stances in order, and only those that can be the middle one(s) get polyfit's
    slopes = -_slopes(fits)
    srt = np.sort(slopes)
    lo, hi = srt[(srt.size - 1) // 2], srt[srt.size // 2]
    tol = 1e-6 * float(np.abs(srt).max())
    for k in np.flatnonzero((slopes >= lo - tol) & (slopes <= hi + tol)):
        tt, uu = fits[k]  # named, not *-unpacked: numpy 1.26's stubs have no overload for that
        slopes[k] = -np.polyfit(tt, uu, 1)[0]
    v = float(np.median(slopes))
    return v if v > 0 else None


def _slopes(fits: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Least-squares slope of each (x, y) (closed form), all as the rows of two padded arrays."""
    n = np.array([x.size for x, _ in fits])
    xs = np.zeros((n.size, int(n.max())))
    ys = np.zeros_like(xs)
    inside = np.arange(xs.shape[1]) < n[:, None]
    xs[inside] = np.concatenate([x - x[0] for x, _ in fits])  # from each stance's start: well scaled
    ys[inside] = np.concatenate([y for _, y in fits])
    xc = np.where(inside, xs - (xs.sum(axis=1) / n)[:, None], 0.0)
    yc = np.where(inside, ys - (ys.sum(axis=1) / n)[:, None], 0.0)
    return (xc * yc).sum(axis=1) / (xc * xc).sum(axis=1)


def stance_noise(
    t: np.ndarray, h: np.ndarray, stances: list[tuple[float, float, StanceModel]], leg_px: float
) -> float | None:
    """Robust SD (1.4826 × median |deviation|) of the ankle height about a straight line through
    the middle of each stance (20–60 %), ÷ leg length: how noisy this track's keypoints are where
    the foot is known to be on the belt. None with too few samples."""
    res = []
    ic = np.array([x[0] for x in stances], dtype=float)
    c = np.array([x[1] for x in stances], dtype=float) - ic
    # every stance's window and how many samples in it are seen, at once
    wa = t.searchsorted(ic + 0.2 * c).tolist()
    wb = t.searchsorted(ic + 0.6 * c, side="right").tolist()
    n_seen = np.concatenate([[0], np.cumsum(np.isfinite(h))])
    for a, b, ns in zip(wa, wb, (n_seen[wb] - n_seen[wa]).tolist(), strict=True):
        if ns < 4:
            continue
        hh, tt = h[a:b], t[a:b]
        if ns < b - a:
            ok = np.isfinite(hh)
            tt, hh = tt[ok], hh[ok]
        # about a straight line: a foot that is still flattening or already rolling moves the
        # ankle steadily; the noise is what a line cannot follow (least squares, closed form)
        # np.add.reduce(v) / v.size is ndarray.mean's arithmetic without its per-call overhead
        x, y = tt - np.add.reduce(tt) / tt.size, hh - np.add.reduce(hh) / hh.size
        slope = float(x @ y) / max(float(x @ x), 1e-12)
        res.append(np.abs(y - slope * x))
    r = np.concatenate(res) if res else np.array([])
    if r.size < 10 or not np.isfinite(leg_px) or leg_px <= 0:
        return None
    return float(1.4826 * np.median(r) / leg_px)


def stance_model(
    t: np.ndarray, u: np.ndarray, h: np.ndarray, ic: float, to: float, v: float
) -> StanceModel | None:
    """The stance model of one contact: floor = median ankle height and belt-line offset over
    the middle of the stance (20–60 %: the foot is flat there for every strike pattern)."""
    if not (np.isfinite(ic) and np.isfinite(to)) or to <= ic:
        return None
    c = to - ic
    a = int(np.searchsorted(t, ic + 0.2 * c))
    b = int(np.searchsorted(t, ic + 0.6 * c, side="right"))
    hh, uu, tt = h[a:b], u[a:b], t[a:b]
    ok = np.isfinite(hh) & np.isfinite(uu)
    if ok.sum() < 3:
        return None
    return StanceModel(floor=float(np.median(hh[ok])), a=float(np.median(uu[ok] + v * tt[ok])), v=v)


def stance_models(
    t: np.ndarray, u: np.ndarray, h: np.ndarray, ic: np.ndarray, to: np.ndarray, v: float
) -> list[StanceModel | None]:
    """:func:`stance_model` of every stance of a track at once: the same medians, taken in one
    call over all stances' windows (two median calls per stance dominated the analysis)."""
    ic, to = np.asarray(ic, float), np.asarray(to, float)
    out: list[StanceModel | None] = [None] * ic.size
    with np.errstate(invalid="ignore"):
        has = np.isfinite(ic) & np.isfinite(to) & (to > ic)
    if not has.any():
        return out
    k = np.flatnonzero(has)
    c = to[k] - ic[k]
    a = t.searchsorted(ic[k] + 0.2 * c)
    b = t.searchsorted(ic[k] + 0.6 * c, side="right")
    # each stance's window as a row, padded with NaN (medians skip it)
    cols = np.arange(max(int((b - a).max()), 1))
    idx = a[:, None] + cols
    inside = idx < b[:, None]
    idx = np.minimum(idx, t.size - 1)
    hh, uu, tt = h[idx], u[idx], t[idx]
    ok = inside & np.isfinite(hh) & np.isfinite(uu)
    enough = ok.sum(axis=1) >= 3
    if not enough.any():
        return out
    ok, hh, uu, tt = ok[enough], hh[enough], uu[enough], tt[enough]
    floor = np.nanmedian(np.where(ok, hh, np.nan), axis=1)
    off = np.nanmedian(np.where(ok, uu + v * tt, np.nan), axis=1)
    for i, f, o in zip(k[enough].tolist(), floor.tolist(), off.tolist(), strict=True):
        out[i] = StanceModel(floor=f, a=o, v=v)
    return out


@dataclass(frozen=True)
class Track:
    """One leg's series for the event model (px, u + = ahead, h + = up; NaN = not seen)."""

    u: np.ndarray  # ankle
    h: np.ndarray
    knee_u: np.ndarray
    knee_h: np.ndarray


def feature_rows(
    model: EventModel, t: np.ndarray, tr: Track, sms: list[StanceModel], times: np.ndarray, leg_px: float
) -> tuple[np.ndarray, np.ndarray]:
    """The model's features of the events at ``times`` (one stance model each), all at once:
    (rows, usable). A row is unusable when its window leaves the data or touches an unseen
    sample (bridging a gap with a straight line would read as stance shape)."""
    off = np.asarray(model.offsets_s)
    ts = np.asarray(times, float)[:, None] + off[None, :]
    inside = np.isfinite(ts[:, 0]) & (ts[:, 0] >= t[0]) & (ts[:, -1] <= t[-1])
    tq = np.where(inside[:, None], ts, t[0])
    j = np.clip(np.searchsorted(t, tq), 1, len(t) - 1)
    series = [tr.h, tr.u] + ([tr.knee_h, tr.knee_u] if model.use_knee else [])
    vals = []
    seen = inside.copy()
    for y in series:
        bad = ~np.isfinite(y)
        vals.append(np.interp(tq, t, np.where(bad, 0.0, y)))
        seen &= ~(bad[j] | bad[j - 1]).any(axis=1)
    floor = np.array([m.floor for m in sms])[:, None]
    a = np.array([m.a for m in sms])[:, None]
    v = np.array([m.v for m in sms])[:, None]
    hh, uu = vals[0], vals[1]
    cols = [(hh - floor) / leg_px, (uu - (a - v * tq)) / leg_px if model.use_u else np.zeros_like(uu)]
    if model.use_knee:
        cols += [(vals[2] - hh) / leg_px, (vals[3] - uu) / leg_px]
    return np.concatenate(cols + [np.ones((len(ts), 1))], axis=1), seen


def refine_all(
    model: EventModel,
    kind: str,
    t: np.ndarray,
    tr: Track,
    sms: list[StanceModel],
    t0: np.ndarray,
    leg_px: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Refined times, confidences (0..1) and which events' correction was refused (beyond
    :data:`MAX_CORRECTION_S`), of events of one foot estimated at ``t0`` (one stance model
    each), all at once (one interpolation per pass for the whole clip)."""
    t0 = np.asarray(t0, float)
    passes = model.weights.get(kind, ())
    if not passes or t0.size == 0:
        return t0.copy(), np.full(t0.shape, 0.6), np.zeros(t0.shape, bool)
    te = t0.copy()
    ok = np.isfinite(te)
    conf = np.full(t0.shape, 1.0)
    refused = np.zeros(t0.shape, bool)
    last = np.zeros(t0.shape)
    for w in passes:
        x, seen = feature_rows(model, t, tr, sms, te, leg_px)
        d = x @ np.asarray(w)
        use = ok & seen & (np.abs(d) <= MAX_CORRECTION_S)
        refused = np.where(seen, ~use, refused)
        conf = np.where(seen, np.where(use, conf, REFUSED_CONFIDENCE), np.minimum(conf, 0.3))
        te = np.where(use, te + d, te)
        last = np.where(use, d, last)
        ok &= use
    # events the model could not use keep their physics estimate (low confidence); a last
    # pass that still moves the event much means an unusual stance: less sure
    te = np.where(ok, te, t0)
    conf = np.where(ok, np.clip(1.0 - np.abs(last) / 0.03, 0.3, 1.0), conf)
    return te, conf, refused


# ----------------------------------------------------------------------------- turning points
#: Each leg's ankle reaches its most forward place relative to the hips once per stride, just
#: before contact, and its rearmost place once, just after toe-off. On MoveNet keypoints these
#: turning points are far steadier than the height-based estimate: the ankle moves fast
#: horizontally and its height is what the model gets most wrong near the belt. A sample is a
#: turning point when it is the extreme within ±TURN_WINDOW_S (one per stride at any running
#: cadence: a stride lasts ≥ 0.5 s).
TURN_WINDOW_S = 0.2
#: The turning point's time is the vertex of a parabola through the seen samples within ±50 ms
#: (three frames at 30 fps).
TURN_FIT_S = 0.05
#: An event pairs with its own leg's turning point when they are closer than this (under half a
#: step at 200 spm, so never the other stride's).
ANCHOR_PAIR_S = 0.15
#: The offset from turning point to event is the median over at least this many pairs.
MIN_ANCHOR_PAIRS = 3


def turning_points(t: np.ndarray, x: np.ndarray, sign: float) -> np.ndarray:
    """Times of the maxima of ``sign · x`` (NaN = not seen) that are the extreme within
    ±:data:`TURN_WINDOW_S`, refined to the vertex of a parabola over ±:data:`TURN_FIT_S`."""
    seen = np.isfinite(x)
    if seen.sum() < 5:
        return np.array([])
    y = sign * np.interp(t, t[seen], x[seen])  # gaps bridged only to find the peaks
    dt = float(np.median(np.diff(t)))
    half = max(1, int(round(TURN_WINDOW_S / dt)))
    pad = np.pad(y, half, mode="constant", constant_values=-np.inf)
    top = np.lib.stride_tricks.sliding_window_view(pad, 2 * half + 1).max(axis=1)
    peak = np.flatnonzero((y >= top) & seen)
    if peak.size == 0:
        return np.array([])
    # least-squares parabola through the seen samples within ±TURN_FIT_S of every peak at once
    k = max(1, int(round(TURN_FIT_S / dt)))
    rows = peak[:, None] + np.arange(-k, k + 1)[None, :]
    inside = (rows >= 0) & (rows < t.size)
    rows = np.clip(rows, 0, t.size - 1)
    xx = t[rows] - t[peak][:, None]
    use = inside & seen[rows] & (np.abs(xx) <= TURN_FIT_S + 1e-9)
    w = use.astype(float)
    yy = np.where(use, y[rows] - y[peak][:, None], 0.0)
    m = np.stack([[(w * xx ** (a + b)).sum(axis=1) for b in range(3)] for a in range(3)], axis=-1)
    m = np.moveaxis(m, 0, 1)  # (peak, 3, 3): sums of x^(a+b)
    r = np.stack([(w * yy * xx**a).sum(axis=1) for a in range(3)], axis=-1)
    enough = use.sum(axis=1) >= 3
    solvable = enough & (np.abs(np.linalg.det(m)) > 1e-18)
    coef = np.zeros((peak.size, 3))
    if solvable.any():
        coef[solvable] = np.linalg.solve(m[solvable], r[solvable][..., None])[..., 0]
    c1, c2 = coef[:, 1], coef[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        off = np.where(c2 < 0, -c1 / (2 * c2), 0.0)
    off = np.clip(np.nan_to_num(off), -TURN_FIT_S, TURN_FIT_S)
    return (t[peak] + off)[enough]


def anchor_contacts(
    ic: dict[str, np.ndarray], turns: dict[str, np.ndarray], landing_seen: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], int]:
    """Contacts moved onto their own leg's forward turning point: each contact with a turning
    point of its leg within ±:data:`ANCHOR_PAIR_S` becomes that turning point + the median
    offset of the pairs of both legs; contacts without one keep their estimate. The estimates
    set the offset (a median over the whole capture), the turning points the stride-to-stride
    timing. Only estimates whose descent onto the belt was seen (``landing_seen``) set the
    offset: the others are the hip-relative fallback, placed from this same forward extreme,
    and pulled the offset towards it (on the labelled clip the near foot's contacts came a
    frame early, contact time +14 ms on average over 13 decodes). One offset for both legs: the
    far leg's estimates are the noisier ones (it is hidden behind the near leg at touch-down),
    and each leg keeps its own turning points. Returns (contacts per leg, number anchored)."""
    near: dict[str, np.ndarray] = {}
    paired: dict[str, np.ndarray] = {}
    for s, times in ic.items():
        tp = turns.get(s, np.array([]))
        times = np.asarray(times, float)
        if tp.size == 0 or times.size == 0:
            continue
        j = np.argmin(np.abs(tp[None, :] - times[:, None]), axis=1)
        ok = np.isfinite(times) & (np.abs(tp[j] - times) <= ANCHOR_PAIR_S)
        # one turning point serves one contact (the nearest)
        for k in np.unique(j[ok]):
            same = np.flatnonzero(ok & (j == k))
            ok[same] = False
            ok[same[np.argmin(np.abs(tp[k] - times[same]))]] = True
        near[s], paired[s] = tp[j], ok
    diffs = np.concatenate(
        [
            np.asarray(ic[s], float)[m & landing_seen[s]] - near[s][m & landing_seen[s]]
            for s, m in paired.items()
        ]
        or [np.array([])]
    )
    if diffs.size < MIN_ANCHOR_PAIRS:
        return {s: np.asarray(v, float).copy() for s, v in ic.items()}, 0
    n_anchored = int(sum(int(m.sum()) for m in paired.values()))
    offset = float(np.median(diffs))
    out = {
        s: np.where(paired[s], near[s] + offset, v) if s in paired else np.asarray(v, float).copy()
        for s, v in ic.items()
    }
    return out, n_anchored
