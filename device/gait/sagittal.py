"""Side-view analysis: events, per-stride sagittal metrics, curves and evidence.

Inputs are the cleaned keypoints (:mod:`device.gait.clean`) and the facing direction; output
is plain data the orchestrator (:mod:`device.gait.analysis`) turns into the Analysis.

Attribution to sides (documented here because the contract leaves it open):
- per-stance metrics (contact time, overstride, angles at contact, stance peaks, body lean,
  hip hinge) belong to the stance foot;
- ``step_time_ms`` belongs to the foot whose contact starts the step (left = left contact →
  next right contact), ``flight_time_ms`` to the foot whose toe-off starts the flight (left =
  left toe-off → next right contact);
- ``duty_factor`` and swing peaks belong to the foot whose stride (contact → next contact of
  the same foot) they are measured on;
- ``vertical_oscillation_cm`` of a step belongs to the foot in stance during that step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from device.gait.activity import classify, ground_cues
from device.gait.clean import Cleaned
from device.gait.events import (
    MAX_STRIDE_S,
    MIN_STRIDE_S,
    SideEvents,
    detect_side_events,
    enforce_alternation,
    foot_floor,
    local_floors,
    stance_floors,
    strict_alternation,
    uncorrected_toe_off,
)
from device.gait.framing import EDGE_OF_HEIGHT
from device.gait.geometry import at, at_many, mid, runner_frame, side_angles, trunk_lean, wrapped
from device.gait.metric_ids import EVENT_INSTANT_METRICS
from device.gait.treadmill import (
    MAX_MODEL_NOISE_FRAC,
    MAX_MODEL_UNSEEN_FRAC,
    EventModel,
    StanceModel,
    Track,
    anchor_contacts,
    belt_speed,
    refine_all,
    stance_models,
    stance_noise,
    turning_points,
)
from device.keypoints import KP

SIDES = ("left", "right")


@dataclass
class Stance:
    """One contact of one foot and the stride that follows it (fields NaN when not measurable)."""

    side: str
    ic: float
    to: float
    next_ic: float = float("nan")  # next contact of the same foot (end of the stride)
    valid: bool = True
    reject: str | None = None
    values: dict[str, float] = field(default_factory=dict)
    midstance: float = float("nan")


@dataclass
class SideResult:
    events: dict[str, SideEvents]
    stances: list[Stance]
    step_times: list[tuple[float, float, str]]  # (t_end, step_s, landing side), alternating contacts
    curves: dict[str, dict[str, dict[str, list[float]] | None]]  # a side is None when unknown
    evidence: list[dict]
    dropped_events: int
    hip_phase: float | None  # hip height at midstance vs stride mean (− = lowest: running)
    refined_fraction: float
    activity: str = "unknown"
    activity_votes: dict = field(default_factory=dict)
    ground_cues: dict = field(default_factory=dict)
    belt_speed_px_s: float | None = None
    # for fitting the event model (device/validation/fitting.py): each leg's series and each
    # stance's physics estimate before the learned correction
    series: dict = field(default_factory=dict)


def _drop_near(se: SideEvents, turns: np.ndarray, half: float) -> SideEvents:
    """Stances with an event within ``half`` seconds of a turn (direction change) removed."""

    def near(x: np.ndarray) -> np.ndarray:
        return np.array([np.isfinite(v) and bool(np.any(np.abs(turns - v) < half)) for v in x], bool)

    keep = ~(near(se.ic) | near(se.to)) if len(se.ic) else np.zeros(0, bool)
    return SideEvents(se.ic[keep], se.to[keep], se.ic_refined[keep], se.to_refined[keep])


def _stride_estimate(ev: dict[str, SideEvents]) -> float:
    d = []
    for se in ev.values():
        ic = se.ic[np.isfinite(se.ic)]
        if ic.size >= 2:
            x = np.diff(ic)
            d.extend(x[(x > MIN_STRIDE_S) & (x < MAX_STRIDE_S)].tolist())
    return float(np.median(d)) if d else 0.7


def analyse_side(
    cl: Cleaned,
    facing_sign: int | np.ndarray,
    leg_px: float,
    px_per_cm: float | None,
    speed_cm_s: float | None,
    event_model: EventModel | None = None,
    frame_height: float | None = None,
) -> SideResult:
    """``facing_sign``: +1 (facing image-right) / −1, or one per grid sample when the runner
    turns around during the clip (events within 0.6 s of a turn are dropped); ``frame_height``:
    the picture's height in pixels (contacts at its bottom edge are not timed, if given)."""
    t, fs = cl.t, cl.fs
    fsg = np.asarray(facing_sign, dtype=float)
    fcol = fsg[:, None] if fsg.ndim else fsg
    pe = runner_frame(cl.xy_event, fcol)
    pa = runner_frame(cl.xy_angle, fcol)
    hip_e = mid(pe, "left_hip", "right_hip")
    events: dict[str, SideEvents] = {}
    for side in SIDES:
        ank = pe[:, KP[f"{side}_ankle"]]
        events[side] = detect_side_events(t, ank[:, 0] - hip_e[:, 0], ank[:, 1], leg_px, fs)
    # running or walking decides which contact rules apply (see activity.py)
    cues = ground_cues(cl.xy_event, leg_px)
    stride0 = _stride_estimate(events)
    cad0 = 120.0 / stride0 if any(np.isfinite(events[s].ic).sum() >= 2 for s in SIDES) else None
    activity, votes = classify(cues["double_support"], cues["ankle_lift"], cad0, None)
    if activity == "walking":
        for side in SIDES:
            ank = pe[:, KP[f"{side}_ankle"]]
            events[side] = detect_side_events(t, ank[:, 0] - hip_e[:, 0], ank[:, 1], leg_px, fs, walking=True)
    if fsg.ndim and np.any(np.diff(fsg) != 0):
        turns = t[1:][np.diff(fsg) != 0]
        for side in SIDES:
            events[side] = _drop_near(events[side], turns, 0.6)
    stride_s = _stride_estimate(events)
    events["left"], events["right"], dropped = enforce_alternation(events["left"], events["right"], stride_s)
    series: dict = {}
    v_belt = None
    if activity != "walking" and event_model is not None:
        # the share of frames each ankle was not seen in (or dropped as unreliable by cleaning)
        assert cl.raw_xy is not None  # clean() always keeps the input rows
        unseen = {s: float(np.isnan(cl.raw_xy[:, KP[f"{s}_ankle"], 0]).mean()) for s in SIDES}
        events, v_belt, series = _treadmill_refine(t, pe, events, leg_px, event_model, unseen)
    events["left"], events["right"], n_alt = strict_alternation(events["left"], events["right"], stride_s)
    dropped += n_alt

    trunk_a = trunk_lean(pa)  # one trunk for both sides
    angles = {s: side_angles(pa, s, trunk_a) for s in SIDES}
    # angles *at* an event come from the lightly filtered keypoints: heavy smoothing rounds off
    # the fast knee extension just before contact and biases the value at contact
    angles_e = {s: _angles_near(t, pe, s, events[s].ic) for s in SIDES}
    hip_a = mid(pa, "left_hip", "right_hip")
    sh_a = mid(pa, "left_shoulder", "right_shoulder")
    # every contact of either foot, in time order, for steps and flights
    all_ic = sorted((float(x), s) for s in SIDES for x in events[s].ic if np.isfinite(x))

    step_times: list[tuple[float, float, str]] = []
    for (t0, s0), (t1, s1) in zip(all_ic, all_ic[1:], strict=False):
        if s0 != s1 and 0.5 * MIN_STRIDE_S / 2 < t1 - t0 < 0.75 * stride_s:
            step_times.append((t1, t1 - t0, s1))

    # per-side series measured once (per-stance work then only slices them)
    pre = {}
    for side in SIDES:
        pts = [KP[f"{side}_hip"], KP[f"{side}_knee"], KP[f"{side}_ankle"]]
        hip_s = pe[:, KP[f"{side}_hip"]]
        hip_u = np.where(np.isfinite(hip_s[:, 0]), hip_s[:, 0], hip_e[:, 0])
        ank_a = pa[:, KP[f"{side}_ankle"]]
        pre[side] = {
            "seen": cl.seen[:, pts].all(axis=1),
            "over": pe[:, KP[f"{side}_ankle"], 0] - hip_u,
            "rel_a": ank_a[:, 0] - hip_a[:, 0],
            "body_du": sh_a[:, 0] - ank_a[:, 0],
            "body_dv": sh_a[:, 1] - ank_a[:, 1],
        }
    step_by_start = {round(t_end - step, 9): step for t_end, step, _ in step_times}
    ic_times = np.array([x for x, _ in all_ic])
    stances: list[Stance] = []
    for side in SIDES:
        se = events[side]
        ics = se.ic
        mine: list[Stance] = []
        for k in range(len(ics)):
            ic, to = float(se.ic[k]), float(se.to[k])
            if not (np.isfinite(ic) and np.isfinite(to)):
                continue
            st = Stance(side=side, ic=ic, to=to)
            later = ics[k + 1 :][np.isfinite(ics[k + 1 :])]
            if later.size and MIN_STRIDE_S <= later[0] - ic <= min(MAX_STRIDE_S, 1.6 * stride_s):
                st.next_ic = float(later[0])
            mine.append(st)
        _measure_stances(
            mine,
            t,
            pre[side],
            angles[side],
            angles_e[side],
            hip_e,
            leg_px,
            px_per_cm,
            speed_cm_s,
            ic_times,
            step_by_start,
            stride_s,
        )
        _leave_out_swing_timed(mine, se, physics_only=bool(series.get("set_aside", {}).get(side)))
        _leave_out_at_edge(mine, t, pe[:, KP[f"{side}_ankle"], 1], frame_height)
        stances += mine
    stances.sort(key=lambda s: s.ic)
    _reject_odd_contacts(stances)
    curves = _curves(t, angles, stances)
    evidence = _evidence(t, angles, stances, cl)
    phases = [s.values.get("_hip_phase", np.nan) for s in stances if s.valid]
    phases = [p for p in phases if np.isfinite(p)]
    hip_phase = float(np.median(phases)) if len(phases) >= 3 else None
    final, votes = classify(cues["double_support"], cues["ankle_lift"], cad0, hip_phase)
    if final != activity:  # the pelvis cue tipped it: the events follow the first call, say so
        final = "unknown" if final == "running" else final
    nref = sum(int(x) for s in SIDES for x in events[s].ic_refined) + sum(
        int(x) for s in SIDES for x in events[s].to_refined
    )
    ntot = sum(len(events[s].ic) + len(events[s].to) for s in SIDES)
    return SideResult(
        events=events,
        stances=stances,
        step_times=step_times,
        curves=curves,
        evidence=evidence,
        dropped_events=dropped,
        hip_phase=hip_phase,
        refined_fraction=nref / ntot if ntot else 0.0,
        activity=final,
        activity_votes=votes,
        ground_cues=cues,
        belt_speed_px_s=v_belt,
        series=series,
    )


def _treadmill_refine(
    t: np.ndarray,
    pe: np.ndarray,
    events: dict[str, SideEvents],
    leg_px: float,
    model: EventModel,
    unseen: dict[str, float] | None = None,
) -> tuple[dict[str, SideEvents], float | None, dict]:
    """Each stance's events moved onto the treadmill model (see :mod:`.treadmill`); events whose
    stance has no model keep their estimate with a low confidence. ``unseen``: per track, the
    share of frames without its ankle."""
    u = {s: np.ascontiguousarray(pe[:, KP[f"{s}_ankle"], 0]) for s in SIDES}
    h = {s: np.ascontiguousarray(pe[:, KP[f"{s}_ankle"], 1]) for s in SIDES}
    tracks = {
        s: Track(
            u[s],
            h[s],
            np.ascontiguousarray(pe[:, KP[f"{s}_knee"], 0]),
            np.ascontiguousarray(pe[:, KP[f"{s}_knee"], 1]),
        )
        for s in SIDES
    }
    st = [(s, float(a), float(b)) for s in SIDES for a, b in zip(events[s].ic, events[s].to, strict=True)]
    v = belt_speed(t, u, st)
    out: dict[str, SideEvents] = {}
    stances: list[tuple[str, float, float, StanceModel | None]] = []
    noise: dict[str, float | None] = {}
    prepared: dict[str, tuple[np.ndarray, np.ndarray, list[StanceModel | None], np.ndarray]] = {}
    for s in SIDES:
        se = events[s]
        ic, to = se.ic.copy(), se.to.copy()
        # a stance cut by the start or end of the data has one event: its stance model comes
        # from this foot's usual contact time (the belt line and floor need the middle of it)
        ct = to - ic
        ct = ct[np.isfinite(ct)]
        ct_med = float(np.median(ct)) if ct.size >= 3 else float("nan")
        ic_m = np.where(np.isfinite(ic), ic, to - ct_med)
        to_m = np.where(np.isfinite(to), to, ic + ct_med)
        # the middle of the stance (where its model is measured) must be in the data
        mid_in = (t[0] <= ic_m + 0.2 * (to_m - ic_m)) & (ic_m + 0.6 * (to_m - ic_m) <= t[-1])
        sms = [None] * len(ic) if v is None else stance_models(t, u[s], h[s], ic_m, to_m, v)
        sms = [sm if ok else None for sm, ok in zip(sms, mid_in.tolist(), strict=True)]
        stances += [(s, float(ic[k]), float(to[k]), sms[k]) for k in range(len(ic))]
        idx = np.array([k for k in range(len(ic)) if sms[k] is not None], int)
        noise[s] = stance_noise(t, h[s], [(ic[k], to[k], sms[k]) for k in idx], leg_px)
        prepared[s] = (ic, to, sms, idx)
    # keypoints noisier or patchier than the ones the correction was fitted on: the physics
    # estimate stands (the correction would read noise and bridged gaps as stance shape). Both
    # legs or neither: the two legs are compared with each other (symmetry), so they are timed
    # the same way (one leg corrected and one not made a symmetric runner look uneven).
    set_aside = model.physics_only or any(
        ((nz := noise[s]) is not None and nz > MAX_MODEL_NOISE_FRAC)
        or (unseen or {}).get(s, 0.0) > MAX_MODEL_UNSEEN_FRAC
        for s in SIDES
    )
    aside = dict.fromkeys(SIDES, set_aside)
    anchored = 0
    moved: dict[str, np.ndarray] = {}
    if set_aside:
        # the contacts' stride-to-stride timing from each ankle's forward turning point
        # relative to the hips (see treadmill.py): steadier than the height on such keypoints
        hips = _nanmean_rows(pe[:, [KP["left_hip"], KP["right_hip"]], 0])
        turns = {s: turning_points(t, pe[:, KP[f"{s}_ankle"], 0] - hips, 1.0) for s in SIDES}
        landing_seen = {s: np.asarray(events[s].ic_refined, bool) for s in SIDES}
        moved, anchored = anchor_contacts({s: prepared[s][0] for s in SIDES}, turns, landing_seen)
    for s in SIDES:
        se = events[s]
        ic, to, sms, idx = prepared[s]
        icc = np.where(se.ic_refined, 0.5, 0.3)
        toc = np.where(se.to_refined, 0.5, 0.3)
        each = stance_floors(t, h[s], ic, to)
        low = foot_floor(each)  # what a stance cut by the start is measured from
        # the correction's refused or bare stances: their own floor, the level it was fitted with
        own_floor = np.where(np.isfinite(ic), np.nan, low)
        if set_aside:
            # each toe-off against its foot's level on the belt around it (events.local_floors): a
            # stance's own lowest points scatter with the pose model's noise; development set
            # timed as video, TO MAE 7.2 → 6.8 ms (60 fps), 8.5 → 7.8 ms (30 fps)
            local = local_floors(each)
            floors = np.where(np.isfinite(local), local, low)
            icc, toc = np.minimum(icc, 0.4), np.minimum(toc, 0.4)
            to = np.array(
                [uncorrected_toe_off(t, h[s], ic[k], to[k], leg_px, floors[k]) for k in range(len(to))]
            )
            idx = idx[:0]
            ic = moved.get(s, ic)
            # a contact moved by its turning point's offset to within 30 ms of the data's start or
            # end (or past it) has no stance in the data to confirm it (as detect_side_events)
            ic = np.where((ic < t[0] + 0.03) | (ic > t[-1] - 0.03), np.nan, ic)
        elif idx.size < len(to):
            # stances without a fitted model (cut by the data's ends, or too patchy) get no
            # correction: their toe-offs take the uncorrected rule, not the reference level the
            # correction starts from (development set, stances cut by the start: 12 ms late)
            bare = np.setdiff1d(np.arange(len(to)), idx)
            to = to.copy()
            to[bare] = [uncorrected_toe_off(t, h[s], ic[k], to[k], leg_px, own_floor[k]) for k in bare]
        if idx.size:
            have = [sms[k] for k in idx]
            for arr, conf, kind in ((ic, icc, "initial_contact"), (to, toc, "toe_off")):
                fin = np.isfinite(arr[idx])
                if fin.any():
                    k2 = idx[fin]
                    r, c, refused_at = refine_all(
                        model, kind, t, tracks[s], [have[i] for i in np.flatnonzero(fin)], arr[k2], leg_px
                    )
                    arr[k2], conf[k2] = r, c
                    if kind == "toe_off":
                        # the estimate the correction starts from is the reference crossing, late
                        # by design: a toe-off whose correction was refused takes the uncorrected rule
                        refused = k2[refused_at]
                        arr[refused] = [
                            uncorrected_toe_off(t, h[s], ic[k], arr[k], leg_px, own_floor[k]) for k in refused
                        ]
        out[s] = SideEvents(ic, to, se.ic_refined, se.to_refined, icc, toc)
    series = {"t": t, "tracks": tracks, "leg_px": leg_px, "stances": stances, "noise": noise}
    return (
        out,
        v,
        {
            **series,
            "unseen": unseen or {},
            "set_aside": aside,
            "pose_model_timing": model.physics_only,
            "anchored_contacts": anchored,
        },
    )


def _measure_stances(
    sts: list[Stance],
    t: np.ndarray,
    pre: dict[str, np.ndarray],
    ang: dict[str, np.ndarray],
    ang_e: dict[str, np.ndarray],
    hip_e: np.ndarray,
    leg_px: float,
    px_per_cm: float | None,
    speed_cm_s: float | None,
    ic_times: np.ndarray,
    step_by_start: dict[float, float],
    stride_s: float,
) -> None:
    """Measure the stances of one foot: fill each one's ``values`` and ``midstance``, or mark it
    not valid with the reason. All stances at once, as arrays: a few thousand numpy calls on
    short windows cost far more in call overhead than in work (each figure is the same
    arithmetic on the same samples as one stance at a time)."""
    if not sts:
        return
    ic = np.array([st.ic for st in sts])
    to = np.array([st.to for st in sts])
    contact = to - ic
    credible = (contact >= 0.08) & (contact <= 0.8 * min(stride_s * 1.6, MAX_STRIDE_S))
    # the leg must have been seen (not bridged over long gaps) through the stance
    a_ic, b_to = t.searchsorted(ic), t.searchsorted(to, side="right")
    n_st = b_to - a_ic
    seen_frac = _fractions(pre["seen"], a_ic, b_to)
    seen_ok = credible & (n_st > 0) & (seen_frac >= 0.8)
    for st, c_ok, s_ok in zip(sts, credible.tolist(), seen_ok.tolist(), strict=True):
        if not c_ok:
            st.valid, st.reject = False, "contact time not credible"
        elif not s_ok:
            st.valid, st.reject = False, "leg not seen through the stance"
    k = np.flatnonzero(seen_ok)
    if not k.size:
        return
    sts = [sts[i] for i in k.tolist()]
    ic, to, contact, a_ic, b_to = ic[k], to[k], contact[k], a_ic[k], b_to[k]
    over_px = at_many(t, pre["over"], ic)
    at_ic = {name: at_many(t, ang_e[name], ic) for name in ("shank", "knee_flexion", "hip_flexion")}
    kf_peak = _nanmax_rows(_rows(ang["knee_flexion"], a_ic, b_to))
    # midstance: the ankle passes under the hip (else the middle of stance): the first sample
    # pair inside the stance where the ankle goes from ahead of the hip to under or behind it
    rel = pre["rel_a"]
    cross = np.flatnonzero((rel[:-1] > 0) & (rel[1:] <= 0))
    j = cross[np.minimum(cross.searchsorted(a_ic), max(cross.size - 1, 0))] if cross.size else a_ic
    has = (j >= a_ic) & (j + 1 < b_to) if cross.size else np.zeros(ic.size, bool)
    j = np.where(has, j, 0)
    r0, r1 = rel[j], rel[j + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(r0 != r1, r0 / (r0 - r1), 0.0)
    ms = np.where(has, t[j] + f * (t[j + 1] - t[j]), (ic + to) / 2)
    # body lean: stance ankle -> shoulder line from vertical at midstance
    body = np.degrees(np.arctan2(at_many(t, pre["body_du"], ms), at_many(t, pre["body_dv"], ms)))
    hinge = wrapped(at_many(t, ang["trunk_lean"], ms) - body)
    # hip extension: thigh behind the trunk line from midstance to shortly after toe-off
    hf_a, hf_b = t.searchsorted(ms), t.searchsorted(to + 0.1 * stride_s, side="right")
    hip_ext = _nanmax_rows(-_rows(ang["hip_flexion"], hf_a, hf_b))
    # vertical oscillation of the step that starts with this contact (this foot in stance): to
    # the next contact of either foot
    jn = ic_times.searchsorted(ic + 1e-9, side="right")
    nxt = ic_times[np.minimum(jn, max(ic_times.size - 1, 0))] if ic_times.size else ic
    step_ok = (jn < ic_times.size) & (nxt - ic < 0.75 * stride_s)
    # the lightly filtered hip: heavy smoothing would shave the peaks off the bounce
    hip_v = hip_e[:, 1]
    # windows that will not be used are empty: one running to the end of a long capture (the
    # legs unseen for a while) made every row that long, memory growing with the square of it
    hv_b = np.where(step_ok, t.searchsorted(nxt, side="right"), a_ic)
    hv_n = hv_b - a_ic
    hv_ok = step_ok & (hv_n >= 3) & (_fractions(np.isfinite(hip_v), a_ic, hv_b) == 1.0)
    hv = _rows(hip_v, a_ic, hv_b)
    vo_px = np.fmax.reduce(hv, axis=1) - np.fmin.reduce(hv, axis=1)
    hip_at_ms = at_many(t, hip_v, ms)
    # the stride (to this foot's next contact): trunk lean over it, swing peaks, duty factor
    nic = np.array([st.next_ic for st in sts])
    # no next contact (NaN) would search to the end of the capture: an empty window instead
    b_nic = np.where(np.isfinite(nic), t.searchsorted(nic, side="right"), a_ic)
    stride_ok = np.isfinite(nic) & (b_nic > a_ic) & (_fractions(pre["seen"], a_ic, b_nic) >= 0.8)
    a_to = t.searchsorted(to)
    kf_sw = _nanmax_rows(_rows(ang["knee_flexion"], a_to, b_nic))
    hf_sw = _nanmax_rows(_rows(ang["hip_flexion"], a_to, b_nic))

    rows = zip(
        sts,
        contact.tolist(),
        over_px.tolist(),
        *(at_ic[name].tolist() for name in ("shank", "knee_flexion", "hip_flexion")),
        kf_peak.tolist(),
        ms.tolist(),
        body.tolist(),
        hinge.tolist(),
        hip_ext.tolist(),
        strict=True,
    )
    # per-stance values as Python lists (numpy scalar access costs more than the arithmetic)
    hv_ok, stride_ok = hv_ok.tolist(), stride_ok.tolist()
    vo_l, nxt_l, hip_ms_l = vo_px.tolist(), nxt.tolist(), hip_at_ms.tolist()
    a_l, hv_b_l, b_nic_l = a_ic.tolist(), hv_b.tolist(), b_nic.tolist()
    kf_sw_l, hf_sw_l = kf_sw.tolist(), hf_sw.tolist()
    trunk = ang["trunk_lean"]
    for i, (st, c, over, shank, knee, hip, kf_pk, m, bd, hh, hx) in enumerate(rows):
        v = st.values
        v["contact_time_ms"] = 1000.0 * c
        v["overstride_pct_leg"] = 100.0 * over / leg_px
        if px_per_cm:
            v["overstride_cm"] = over / px_per_cm
        v["shank_angle_ic_deg"] = shank
        v["knee_flexion_ic_deg"] = knee
        v["hip_flexion_ic_deg"] = hip
        v["knee_flexion_stance_peak_deg"] = kf_pk
        st.midstance = m
        v["body_lean_deg"] = bd
        v["hip_hinge_deg"] = hh
        v["hip_extension_peak_deg"] = hx
        _step_values(st, step_by_start.get(round(st.ic, 9)), speed_cm_s)
        if hv_ok[i]:
            vo = vo_l[i]
            v["_vo_pct_leg"] = 100.0 * vo / leg_px
            if px_per_cm:
                v["vertical_oscillation_cm"] = vo / px_per_cm
                if speed_cm_s:
                    v["vertical_ratio_pct"] = 100.0 * (vo / px_per_cm) / (speed_cm_s * (nxt_l[i] - st.ic))
            # where in the step the hip is lowest: at midstance when running
            mean = _mean(hip_v[a_l[i] : hv_b_l[i]])
            v["_hip_phase"] = (hip_ms_l[i] - mean) / max(vo, 1e-6)
        if stride_ok[i]:
            v["duty_factor"] = c / (st.next_ic - st.ic)
            v["trunk_lean_deg"] = _nanmean(trunk[a_l[i] : b_nic_l[i]])
            if math.isfinite(kf_sw_l[i]):
                v["knee_flexion_swing_peak_deg"] = kf_sw_l[i]
            if math.isfinite(hf_sw_l[i]):
                v["hip_flexion_swing_peak_deg"] = hf_sw_l[i]


def _angles_near(t: np.ndarray, p: np.ndarray, side: str, times: np.ndarray) -> dict[str, np.ndarray]:
    """``side_angles(p, side)`` on the grid samples either side of each of ``times`` (NaN at the
    others): all that interpolating them at those times reads, for a fraction of the work."""
    i = np.clip(t.searchsorted(times[np.isfinite(times)]), 1, t.size - 1)
    rows = np.unique(np.concatenate([[0], i - 1, i]))
    out = {}
    for name, values in side_angles(p[rows], side).items():
        out[name] = np.full(t.size, np.nan)
        out[name][rows] = values
    return out


def _step_values(st: Stance, step: float | None, speed_cm_s: float | None) -> None:
    """The step that starts with this contact: step time (to the next opposite contact) and
    flight time (this foot's toe-off to that contact)."""
    if step is not None:
        st.values["step_time_ms"] = 1000.0 * step
        st.values["flight_time_ms"] = 1000.0 * (st.ic + step - st.to)
        if speed_cm_s:
            st.values["step_length_cm"] = speed_cm_s * step


def _rows(series: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``series[a[k]:b[k]]`` for every k as the rows of one array, padded with NaN."""
    width = max(int((b - a).max()), 1)
    idx = a[:, None] + np.arange(width)
    return np.where(idx < b[:, None], series[np.minimum(idx, series.size - 1)], np.nan)


def _nanmax_rows(rows: np.ndarray) -> np.ndarray:
    """np.nanmax of each row (NaN where nothing is finite), as fmax ignores NaN."""
    return np.fmax.reduce(rows, axis=1)


def _fractions(mask: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``mask[a[k]:b[k]].mean()`` for every k (NaN where empty), from one running count."""
    count = np.concatenate([[0], np.cumsum(mask)])
    n = b - a
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (count[np.maximum(b, a)] - count[a]) / n, np.nan)


# np.nanmean / ndarray.mean cost more in Python overhead than in work on the short per-stance
# windows (a thousand calls per two minutes): the same reductions, called directly.
def _nanmean_rows(x: np.ndarray) -> np.ndarray:
    """Mean of each row's seen values (NaN where none is seen), without numpy's warning."""
    seen = np.isfinite(x)
    n = seen.sum(axis=1)
    return np.where(n > 0, np.where(seen, x, 0.0).sum(axis=1) / np.maximum(n, 1), np.nan)


def _nanmean(x: np.ndarray) -> float:
    """``np.nanmean`` (NaN when nothing is finite): its sum with NaN as 0, over the count."""
    nan = np.isnan(x)
    n = x.size - int(np.count_nonzero(nan))
    return float(np.add.reduce(np.where(nan, 0.0, x))) / n if n else float("nan")


def _mean(x: np.ndarray) -> float:
    """``x.mean()``: the same sum over the count."""
    return float(np.add.reduce(x)) / x.size


#: A stance's private value: its foot reached the picture's bottom edge (see _leave_out_at_edge)
AT_EDGE = "_at_edge"


def _leave_out_at_edge(mine: list[Stance], t: np.ndarray, v: np.ndarray, frame_height: float | None) -> None:
    """A stance whose ankle comes within the picture's bottom 3 % (``v``: the ankle's height,
    −image y) has its foot at or below the edge: the pose model puts an ankle it cannot see
    there, so the moments of contact and toe-off are not seen. What is timed or measured at them
    is left out of that stance (``values[AT_EDGE]`` says so); the rest of it is kept. The
    labelled clip cropped so its feet in stance fall just below the picture read a contact time
    of 357 ms (its runner's: 223 ms), none of its 33 contacts within 60 ms of the labels.
    Nothing is left out when the picture's height is not known."""
    valid = [st for st in mine if st.valid]
    if not frame_height or not valid:
        return
    # every stance's lowest ankle at once (a numpy call per stance cost ~8 % of the analysis)
    a = t.searchsorted(np.array([st.ic for st in valid]))
    b = np.maximum(t.searchsorted(np.array([st.to for st in valid]), side="right"), a + 1)
    low = np.append(np.where(np.isfinite(v), v, np.inf), np.inf)
    lowest = np.minimum.reduceat(low, np.stack([a, np.minimum(b, low.size - 1)], axis=1).ravel())[::2]
    for st, at_edge in zip(valid, (lowest < -EDGE_OF_HEIGHT * frame_height).tolist(), strict=True):
        if at_edge:
            for mid_ in EVENT_INSTANT_METRICS:
                st.values.pop(mid_, None)
            st.values[AT_EDGE] = 1.0


def _leave_out_swing_timed(mine: list[Stance], se: SideEvents, physics_only: bool) -> None:
    """On a track timed by physics alone, a contact the descent onto the belt could not time
    (not in the data, or far from where the hip-relative swing puts it: the two disagree) rests
    on the swing's typical offset alone and is not credible: its stance is left out of the
    metrics (and counted). On the corrected path the learned correction re-times it from the
    stance itself."""
    if not physics_only:
        return
    swing_only = {float(x) for x, ok in zip(se.ic, se.ic_refined, strict=True) if not ok}
    for st in mine:
        if st.valid and st.ic in swing_only:
            st.valid, st.reject = False, "contact time not credible (hip-relative estimate only)"


#: A stance whose contact time is further than this many robust SDs (1.4826 × MAD) from its
#: foot's median — and at least ODD_CONTACT_MIN_FRAC of it — is an event error, not a stride:
#: a runner's contact time varies by a few % from stride to stride on a treadmill.
ODD_CONTACT_MADS = 3.0
ODD_CONTACT_MIN_FRAC = 0.2


def _reject_odd_contacts(stances: list[Stance]) -> None:
    """Leave out (and count, via ``valid``) stances whose contact time is far from the others of
    the same foot: one contact or toe-off found a few frames off by noisy keypoints would
    otherwise pull the reported mean contact time by tens of ms."""
    for side in SIDES:
        mine = [s for s in stances if s.side == side and s.valid and "contact_time_ms" in s.values]
        if len(mine) < 5:
            continue
        c = np.array([s.values["contact_time_ms"] for s in mine])
        med = float(np.median(c))
        lim = max(ODD_CONTACT_MADS * 1.4826 * float(np.median(np.abs(c - med))), ODD_CONTACT_MIN_FRAC * med)
        for s, x in zip(mine, c, strict=True):
            if abs(x - med) > lim:
                s.valid, s.reject = False, "contact time far from this foot's other contacts"


def _curves(t: np.ndarray, angles: dict, stances: list[Stance]) -> dict:
    """Knee and hip flexion over the gait cycle (0–100 % contact to contact), 101 points."""
    out: dict = {}
    grid = np.linspace(0.0, 1.0, 101)
    for name in ("knee_flexion", "hip_flexion"):
        out[name] = {}
        for side in SIDES:
            mine = [st for st in stances if st.side == side and st.valid and np.isfinite(st.next_ic)]
            ic = np.array([st.ic for st in mine])
            nic = np.array([st.next_ic for st in mine])
            # every stride's samples in one interpolation call (np.interp is element-wise)
            y = np.interp(ic[:, None] + grid * (nic - ic)[:, None], t, angles[side][name])
            r = y[np.isfinite(y).all(axis=1)]
            if len(r) >= 2:
                out[name][side] = {
                    "mean": np.round(r.mean(0), 2).tolist(),
                    "sd": np.round(r.std(0, ddof=1), 2).tolist(),
                    "n": len(r),
                }
            else:
                out[name][side] = None
    return out


def _evidence(t: np.ndarray, angles: dict, stances: list[Stance], cl: Cleaned) -> list[dict]:
    """For each side, the stance closest to the median contact time: where it lands, midstance
    and toe-off, with the angles measured there (the report draws these frames)."""
    ev = []
    for side in SIDES:
        cand = [s for s in stances if s.side == side and s.valid and "contact_time_ms" in s.values]
        if not cand:
            continue
        med = float(np.median([s.values["contact_time_ms"] for s in cand]))
        st = min(cand, key=lambda s: abs(s.values["contact_time_ms"] - med))
        for phase, tt in (("initial_contact", st.ic), ("midstance", st.midstance), ("toe_off", st.to)):
            if not np.isfinite(tt):
                continue
            i = int(np.clip(np.searchsorted(t, tt), 0, len(t) - 1))
            a = angles[side]
            ev.append(
                {
                    "side": side,
                    "phase": phase,
                    "t": round(float(tt), 4),
                    "frame_index": int(cl.src_index[i]),
                    "angles": {
                        k: _r(at(t, a[k], tt)) for k in ("knee_flexion", "hip_flexion", "shank", "trunk_lean")
                    },
                }
            )
    return ev


def _r(x: float) -> float | None:
    return round(float(x), 1) if np.isfinite(x) else None
