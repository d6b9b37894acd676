"""``analyze``: keypoint timeline in, :class:`~device.gait.types.Analysis` out (pure, no I/O
except reading the packaged default norms when none are given).

Pipeline: warm-up trim → cleaning (:mod:`.clean`) → view (:mod:`.view`) → side-view events and
sagittal metrics (:mod:`.sagittal`) or rear/front-view frontal metrics (:mod:`.frontal`) →
activity (running / walking) → metrics with norms and symmetry → quality verdict → cues.

Scale: lengths in cm come from the runner's entered height. The pixel length of the leg
(hip→knee + knee→ankle, median over frames, so it does not depend on how bent the knee is) is
taken as :data:`LEG_FRACTION_OF_HEIGHT` of the standing height (Winter, *Biomechanics and Motor
Control of Human Movement*, segment lengths: thigh 0.245 H + shank 0.246 H). Individual
proportions vary by a few percent, which scales every cm value by the same few percent;
the % of leg length forms do not depend on it.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, cast

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from device.gait import cadence as cadence_mod
from device.gait import sagittal, sides
from device.gait.activity import classify, ground_cues
from device.gait.clean import MIN_SCORE, body_scale_px, clean, mask_low_scores
from device.gait.cues import build_cues
from device.gait.event_weights import EVENT_MODEL
from device.gait.evidence import gate
from device.gait.framing import (
    EDGE_OF_HEIGHT,
    TOP_EDGE_OF_HEIGHT,
    FeetProblem,
    feet_problem,
    unseen_feet_inside,
    upper_body_out_of_frame,
)
from device.gait.geometry import length, mid, mid_points, runner_frame
from device.gait.metric_ids import (
    ALL_METRICS,
    BELT_SPEED_METRICS,
    EVENT_INSTANT_METRICS,
    FRONTAL_METRICS,
    LEG_SCALED_METRICS,
    ON_THE_CONTACTS,
    ON_THE_TRUNK,
    POSSIBLE_DEG,
    SIDE_METRICS,
    STEP_TIMING_METRICS,
    SYMMETRY,
)
from device.gait.norms import Norms
from device.gait.summary import apply_norm, summarize, symmetry_index
from device.gait.treadmill import EventModel
from device.gait.types import Analysis, EventKind, GaitEvent, Metric, RunnerInfo, SideOrUnknown
from device.gait.view import detect_view, facing_series
from device.keypoints import KP, Timeline

# 2.7: cadence carries the SD of 60 / step time (what a before/after comparison reads it against)
# 2.8: its few-strides issue is the evidence gate's rule (min_steps strides, 16 steps), not 8 steps
# 2.9: contacts no stance of which fitted the belt are not timed (events_unverified); feet lost
#      inside the picture are feet_unseen, not feet_out_of_frame (device/gait/framing.py)
# 2.10: gaps without data up to 0.12 s are bridged at every rate (4 frames at 30 fps, was 3), and
#       an ankle's longer hole (up to 0.25 s) whose ends lie on one stance line; stances cut by
#       the data's ends are found (peaks measured on their inner side) and timed from the foot's
#       floor, without a correction they cannot have; no contact within 30 ms of the data's ends;
#       cadence is the steps over the span between the first and last contact on the rhythm;
#       an events_unverified capture shows no evidence frames or gait-cycle curves
# 2.11: a foot unseen in the first (last) frames has its stance cut where it is first (last)
#       seen, and is measured from its floor, not from its lowest seen point; a toe-off whose
#       correction the model refuses takes the uncorrected rule, not the late reference crossing
# 2.12: what the capture cannot support is not measurable with the reason, not printed: every
#       metric when the keypoints show another view than the one chosen or two people, the step
#       timing of walking or of a clip with cuts (and its lengths), step length overground; an
#       angle with a stride beyond what a body can do (metric_ids.POSSIBLE_DEG); a cadence
#       withheld has no cadence series
# 2.13: a timed metric's left/right % (step time, contact time, duty factor, step length) only
#       where its sides differ by more than the engine's own error of that difference
# 2.14: timed as video (every capture), a toe-off is measured against its foot's level on the
#       belt over the stance and its three neighbours each side, not that stance's lowest points
# 2.15: walking: the knee's peak in stance is not measurable (it is the knee at toe-off, which
#       running's rules time); below 20 fps what is timed or measured at contact and toe-off is
#       not measurable (the slowest rate its timing was measured at); a stance whose foot reaches
#       the picture's bottom edge has nothing timed or measured at contact; no development-set or
#       labelled-clip figure changes; shoulders at the picture's top edge are body_out_of_frame
#       (nothing reported, as for two people, which the pose model's guesses read as before)
# 2.16: a cadence withheld (its estimates disagree, or it is no runner's, or not plausible for
#       the entered speed) withholds the step timing too (step time is its reciprocal); when the
#       contacts themselves may be miscounted, also what is measured at them, the evidence
#       frames and the gait-cycle curves; the events of moments the picture does not show
#       (events_unverified, a foot at the bottom edge) carry confidence 0.1 in the JSON
ENGINE_VERSION = "2.16"
LEG_FRACTION_OF_HEIGHT = 0.491
MIN_FRAMES = 20
MIN_DURATION_S = 1.5
#: A pause longer than this in the frame times splits the recording (a capture's dropped
#: frames leave gaps of a few frames; seconds of nothing is another recording or a clock jump).
MAX_TIME_GAP_S = 1.0
MAX_FRAME_INTERVAL_S = 0.5  # median frame interval beyond this (under 2 fps): not analysable


#: Why the metrics timed or measured at the contacts are not reported (see EVENT_INSTANT_METRICS)
EVENTS_UNVERIFIED = "the moments of contact and toe-off are not known: no stance matched the belt's motion"
#: The confidence of an event whose moment the picture does not show (no stance matched the
#: belt, or the foot was at the picture's bottom edge): the analysis JSON keeps it, for the
#: steps it marks, below every timed event's (those are ≥ 0.2)
UNSEEN_MOMENT_CONFIDENCE = 0.1
#: Below this frame rate what is timed or measured at a contact or toe-off is not reported: 20 fps
#: (within 5 %) is the slowest the engine's timing was measured at against force plates
#: (``gait-station validate``, physics_20fps: contact time p95 32.5 ms). The labelled clip read
#: at 15 fps (every 2nd frame) found 18 of its 33 contacts within 60 ms, 14 spurious, and read a
#: contact time of 281 ms where the runner's was 223 ms. Cadence, counted over many steps, held
#: (−0.2 %).
MIN_EVENT_FPS = 19.0


def low_fps_reason(fps: float) -> str:
    """Why the contact-timed metrics are not reported at ``fps`` frames a second."""
    return (
        f"frame rate too low to time contacts ({fps:.0f} fps, one frame every {1000.0 / fps:.0f} ms): "
        "what is timed or measured at contact and toe-off needs at least 20 fps"
    )


#: Why the metrics timed or measured at the contacts are not reported when every stance's foot
#: reached the picture's bottom edge (sagittal._leave_out_at_edge)
FEET_AT_EDGE = (
    "the feet are at the picture's bottom edge in stance, so the moments of contact and toe-off "
    "are not seen: frame the whole body, feet included, with room below them"
)
#: Why the step timing is not reported when the cadence is not
STEPS_NOT_CONFIRMED = "the step count is not confirmed (see cadence), so neither is its timing"
#: Why nothing measured at contact or toe-off is reported when the contacts may be miscounted
CONTACTS_NOT_CONFIRMED = (
    "the contacts are not confirmed (see cadence), so neither is what is measured on the steps they mark"
)
#: Why cadence and the step timing are not reported from a clip with cuts between takes
NOT_ONE_TAKE = "not one continuous take (cuts, or the camera moved)"
#: Why no metric is reported when the detected body jumps between people
TWO_PEOPLE = (
    "two people in view (or the camera moved): the keypoints may belong to either person; "
    "film one runner alone"
)
#: Why no metric is reported when the runner's shoulders are at the picture's top edge
UPPER_BODY_OUT = (
    "the runner is not whole in the picture (the shoulders are at its top edge): the pose model "
    "guesses at what it cannot see, and the keypoints jump; frame the whole body, head included"
)
#: Why the step timing is not reported for walking (see STEP_TIMING_METRICS)
WALKING = (
    "this looks like walking, not running: contact, flight and step times are timed by running's "
    "rules, not measured for walking"
)
#: Why the knee's peak in stance is not reported for walking: a walker's knee flexes on through
#: the end of stance (pre-swing), so that "peak" is the knee at toe-off, a moment running's rules
#: time. On the walking sample it read 59°, above the 56° of the swing peak that follows it
WALKING_STANCE_PEAK = (
    "this looks like walking, not running: a walker's knee flexes on until toe-off, so its peak "
    "in stance is set by the toe-off moment, which running's rules time (not measured for walking)"
)
#: Why the belt-speed metrics are not reported when the runner travels across the picture
OVERGROUND = (
    "the runner moves across the frame (not on a treadmill): step length needs the speed of a "
    "treadmill belt under a runner who stays in place"
)


def analyze(
    timeline: Timeline,
    runner: RunnerInfo | None = None,
    view: str = "auto",
    *,
    norms: Norms,
    coaching_profile: str = "neutral",
    warmup_s: float = 0.0,
    camera_side: str = "auto",
    event_model: EventModel | None = None,
) -> Analysis:
    """Analyse one run.

    ``view``: "auto" (detect), "side", "rear" or "front" (overrides detection, with a warning
    when the keypoints disagree). ``norms``: the clinic's normal ranges, read by the caller
    (:func:`device.norms_file.load_norms`): the core reads no file.
    ``coaching_profile``: "neutral" | "ankle_lean" | "hip_hinge" — changes cues only.
    ``warmup_s``: seconds at the start to leave out (runner getting up to speed).
    ``camera_side``: "left" | "right" | "auto" — the side of the treadmill the camera stands on
    (as the runner on it sees it; ``[camera] side_of_treadmill``): the runner's near side.
    ``event_model``: the event-timing correction (default: the shipped one; the validation
    passes leave-one-runner-out fits).
    Never raises on bad data: unmeasurable metrics are null with a reason.
    """
    runner = runner or RunnerInfo()
    if coaching_profile not in ("neutral", "ankle_lean", "hip_hinge"):
        raise ValueError(
            f"coaching_profile must be neutral, ankle_lean or hip_hinge, not {coaching_profile!r}"
        )
    if camera_side not in ("left", "right", "auto"):
        raise ValueError(f"camera_side must be left, right or auto, not {camera_side!r}")
    if event_model is None:
        event_model = EVENT_MODEL
    warnings: list[str] = []
    unverified = False  # no contact confirmed by the belt's motion
    tl = timeline
    if warmup_s and len(tl):
        tl = tl.window(float(tl.t[0]) + float(warmup_s))
    inp = {
        "engine_version": ENGINE_VERSION,
        "view_requested": view,
        "coaching_profile": coaching_profile,
        "warmup_s": float(warmup_s),
        "height_cm": runner.height_cm,
        "speed_kmh": runner.speed_kmh,
        "incline_pct": runner.incline_pct,
        "frames": len(timeline),
        "width": timeline.width,
        "height": timeline.height,
        "leg_fraction_of_height": LEG_FRACTION_OF_HEIGHT,
    }
    tl, gap_note = longest_continuous(tl)
    n = len(tl)
    quality: dict = {
        "frames_analysed": n,
        # the real rate: frames analysed over the time they span (dropped frames count)
        "effective_fps": round((n - 1) / tl.duration_s, 2) if n > 1 and tl.duration_s > 0 else 0.0,
        "duration_s": round(tl.duration_s, 2),
    }
    if gap_note is not None and gap_note.startswith("frame times"):
        return _empty(inp, quality, gap_note, "frame rate too low", warnings)
    if gap_note is not None:
        warnings.append(gap_note)
        quality["time_gap"] = True
    if n < MIN_FRAMES or tl.duration_s < MIN_DURATION_S:
        return _empty(
            inp,
            quality,
            f"too little data to analyse ({n} frames, {tl.duration_s:.1f} s)",
            "recording too short",
            warnings,
        )

    xy = mask_low_scores(tl.xy, tl.score, MIN_SCORE)
    implausible = _implausible_bodies(xy)
    if implausible.any():
        # a body far smaller/larger than the runner's usual size: the runner left the frame and
        # the model is guessing; those frames are not the runner
        xy[implausible] = np.nan
        tl = Timeline(
            tl.t,
            np.where(implausible[:, None, None], np.nan, tl.xy),
            np.where(implausible[:, None], 0.0, tl.score),
            tl.frame,
            tl.width,
            tl.height,
            dict(tl.meta),
        )
        quality["frames_without_runner"] = int(implausible.sum())
    body_seen = np.isfinite(
        xy[:, [KP["left_hip"], KP["right_hip"], KP["left_shoulder"], KP["right_shoulder"]], 0]
    ).any(1)
    quality["body_seen_fraction"] = round(float(body_seen.mean()), 3)
    if body_seen.mean() < 0.3:
        return _empty(inp, quality, "runner not detected in most frames", "runner not detected", warnings)

    vres = detect_view(xy, tl.score, view)  # ValueError for a view name that does not exist
    warnings += vres.warnings
    fser = facing_series(xy, tl.t) if vres.kind == "side" else None
    turning = fser is not None and bool(np.any(np.diff(fser) != 0))
    if turning and fser is not None and vres.facing is None:
        # both directions in one clip: the overall vote cancels out, the per-time one doesn't
        vres.facing = "right" if np.sum(fser > 0) >= np.sum(fser < 0) else "left"
        vres.warnings = [w for w in vres.warnings if "facing direction unclear" not in w]
        warnings[:] = [w for w in warnings if "facing direction unclear" not in w]
    cl = clean(tl)
    raw_xy = cl.raw_xy
    assert raw_xy is not None  # clean() always keeps the input rows
    # the body's scale as the keypoints show it (a front view's runner coming closer grows): with
    # a side view's median a frontal clip set to "side" counted its growth as body jumps
    seen_kind = vres.kind if vres.detected_kind == "unknown" else vres.detected_kind
    leg_px = body_scale_px(raw_xy, 50.0 if seen_kind == "side" else 90.0)
    px_per_cm = None
    if runner.height_cm and runner.height_cm > 0 and np.isfinite(leg_px):
        px_per_cm = leg_px / (LEG_FRACTION_OF_HEIGHT * float(runner.height_cm))
    speed_cm_s = (
        float(runner.speed_kmh) * 100000.0 / 3600.0 if runner.speed_kmh and runner.speed_kmh > 0 else None
    )
    inp["leg_length_px"] = round(float(leg_px), 1) if np.isfinite(leg_px) else None
    inp["px_per_cm"] = round(px_per_cm, 4) if px_per_cm else None
    quality.update(_seen_quality(xy, tl))
    quality["swaps_corrected"] = cl.swaps_corrected
    quality["swapped_frames"] = cl.swapped_frames
    quality["outliers_removed"] = cl.outliers_removed
    quality["stance_gaps_bridged"] = cl.stance_gaps_bridged
    jumps = _body_jumps(xy, tl.t, leg_px)
    cuts = _take_cuts(xy, tl.t)
    if cuts:
        quality["take_cuts_s"] = [round(float(c), 2) for c in cuts]
        warnings.append(
            f"the runner's size in the picture jumps for good at {len(cuts)} point(s) (at "
            f"{', '.join(f'{c:.1f}' for c in cuts)} s): cuts between camera takes, or the camera moved; "
            "timing needs one continuous take"
        )
    tw = _travel_warning(xy, leg_px)
    if tw:
        warnings.append(tw)
    zw = _size_change_warning(xy)
    if zw:
        warnings.append(zw)
    quality["body_jumps"] = jumps

    a = Analysis(cadence_spm=None, input=inp, view=vres.as_dict())
    if turning:
        a.view["turns"] = True
    metrics: dict[str, Metric] = {}
    side_reason = frontal_reason = None
    events: list[GaitEvent] = []
    step_times: list[tuple[float, float, str]] = []
    activity = "unknown"
    contact_by_side: dict[str, list[float]] = {"left": [], "right": []}
    stride_counts = (0, 0)
    confidence_events = 0.0
    cad_signals: tuple[float | None, float | None] = (None, None)
    quality["near_side"] = None
    quality["side_method"] = "not a side view"
    if vres.kind == "side" and vres.facing is None:
        side_reason = "the runner's facing direction could not be told from the keypoints"
    if vres.mismatch:
        # the chosen view's rules on keypoints of another view give numbers, not measurements
        side_reason = frontal_reason = vres.mismatch
    elif vres.kind == "side" and vres.facing is not None:
        fsign: int | np.ndarray = 1 if vres.facing == "right" else -1
        if turning and fser is not None:
            fsign = np.where(fser[cl.src_index] == 0, fsign, fser[cl.src_index])
            warnings.append("the runner turns around during the clip: each direction is analysed on its own")
        res = sagittal.analyse_side(cl, fsign, leg_px, px_per_cm, speed_cm_s, event_model, tl.height)
        dec = sides.decide(
            None if turning else vres.facing, camera_side, _floors(res), leg_px, raw_xy, tl.score
        )
        quality["near_side"] = dec.near_side if dec.decided else None
        quality["side_method"] = dec.method
        quality["side_cues"] = dec.cues
        warnings.extend(dec.warnings)
        if dec.swap:
            _swap_sides(res)
            quality["leg_labels_corrected"] = True
            warnings.append(
                f"leg labels corrected: the pose model called the near ({dec.near_side}) leg "
                f"'{dec.near_track}' ({dec.method})"
            )
        if not dec.decided:
            _unknown_sides(res)
        if res.belt_speed_px_s is not None and px_per_cm:
            belt = res.belt_speed_px_s / px_per_cm * 0.036
            quality["belt_speed_kmh"] = round(belt, 2)
            if runner.speed_kmh:
                quality["belt_speed_vs_entered_pct"] = round(100.0 * (belt / runner.speed_kmh - 1.0), 1)
        cad_signals = _cadence_signals(cl, fsign, leg_px)
        events = _events_list(res.events, tl, cl)
        step_times = res.step_times
        valid = [s for s in res.stances if s.valid]
        # contacts left out: stances whose events are not credible, and contacts that broke the
        # strict left/right alternation
        stride_counts = (len(valid), len(res.stances) - len(valid) + res.dropped_events)
        metrics.update(_side_metrics(valid, px_per_cm, speed_cm_s))
        if not dec.decided:
            _unsided(metrics)
        at_edge = sum(1 for st in valid if st.values.get(sagittal.AT_EDGE))
        feet_at_edge = 0 < at_edge == len(valid)
        if feet_at_edge:
            _withhold(metrics, EVENT_INSTANT_METRICS, FEET_AT_EDGE)
        elif at_edge:
            warnings.append(
                f"{at_edge} of {len(valid)} contacts left out of what is timed or measured at contact: "
                "the foot was at the picture's bottom edge"
            )
        # (a capture first called walking is timed by the walking rules, without the belt model)
        fitted = any(sm is not None for *_, sm in res.series.get("stances", []))
        if res.activity != "walking" and not fitted:
            # Not one stance fitted the belt's motion (feet lost: a dark or blurred runner).
            # The contacts then keep their first estimate, which on real video was 70–140 ms
            # early (docs/capture.md): the moments of contact and toe-off are not known.
            unverified = True
            _withhold(metrics, EVENT_INSTANT_METRICS, EVENTS_UNVERIFIED)
            warnings.append(
                "no foot's stance matched the treadmill belt's motion: the moments of contact and "
                "toe-off are not known, and what is timed or measured at them is not reported"
            )
        if unverified or at_edge:
            events = _moments_unseen(
                events, [] if unverified else [st for st in valid if st.values.get(sagittal.AT_EDGE)]
            )
        contact_by_side = {
            sd: [
                st.values["contact_time_ms"]
                for st in valid
                if st.side == sd and "contact_time_ms" in st.values
            ]
            for sd in ("left", "right")
        }
        # the gait-cycle curves run from contact to contact and the evidence frames show the
        # moments of contact and toe-off: neither is shown where those moments are not known
        a.curves = {} if unverified or feet_at_edge else res.curves
        a.diagnostics["event_series"] = res.series
        quality["event_timing"] = _event_timing_note(res.series)
        a.evidence = [] if unverified or feet_at_edge else [_frame_of(e, tl) for e in res.evidence]
        activity = res.activity
        quality["activity_cues"] = {
            **{k: (None if v is None else round(v, 3)) for k, v in res.ground_cues.items()},
            "hip_phase": None if res.hip_phase is None else round(res.hip_phase, 2),
            "votes": res.activity_votes,
        }
        confidence_events = res.refined_fraction
        frontal_reason = "needs a rear or front view (this is a side view)"
    elif vres.kind in ("rear", "front"):
        from device.gait import frontal

        res_f = frontal.analyse_frontal(cl, vres.kind, leg_px, px_per_cm)
        events = _events_list(res_f.events, tl, cl)
        step_times = res_f.step_times
        stride_counts = (res_f.strides_used, res_f.strides_rejected)
        metrics.update(res_f.metrics)
        fcues = ground_cues(cl.xy_event, leg_px)
        fst = [s for _, s, _ in res_f.step_times]
        activity, fvotes = classify(
            fcues["double_support"], None, 60.0 / float(np.median(fst)) if len(fst) >= 3 else None, None
        )
        if res_f.duty_factor is not None:
            fvotes["duty_factor"] = 1 if res_f.duty_factor < 0.5 else -1
            tot = sum(fvotes.values())
            activity = "running" if tot > 0 else "walking" if tot < 0 else "unknown"
        quality["activity_cues"] = {"double_support": fcues["double_support"], "votes": fvotes}
        confidence_events = 0.6
        # the hips bounce once per step seen from behind or in front too (the ankles' fore-aft
        # swing is not visible there): the second, independent estimate
        hip_y = mid(cl.xy_event, "left_hip", "right_hip")[:, 1]
        cad_signals = (cadence_mod.hip_bounce_spm(cl.t, hip_y, cl.fs), None)
        side_reason = f"needs a side view (this is a {vres.kind} view)"
    else:
        why = "camera view not recognised (neither side-on nor from behind/in front)"
        side_reason = side_reason or why
        frontal_reason = why
    if vres.kind == "side" and vres.facing is None and not vres.mismatch:
        frontal_reason = "needs a rear or front view (this is a side view)"

    cad_ev, cad_n = _cadence(step_times, events)
    if vres.mismatch:
        cres = cadence_mod.CadenceResult(None, vres.mismatch)
        cres.code = "edited_video" if cuts else None
    elif cuts:  # events of different takes share no rhythm, and their hips no bounce
        cres = cadence_mod.CadenceResult(None, f"{NOT_ONE_TAKE}: a cadence needs one")
        cres.code = "edited_video"
    elif vres.kind in ("side", "rear", "front"):
        cres = cadence_mod.decide(
            cad_ev, *cad_signals, runner.speed_kmh, runner.height_cm, running=activity == "running"
        )
    else:
        cres = cadence_mod.CadenceResult(None, "camera view not recognised")
    quality["cadence_estimates"] = cres.estimates
    cad = cres.value
    a.cadence_spm = cad
    metrics["cadence_spm"] = (
        Metric(value=cad, unit="spm", n=cad_n, sd=_step_rate_sd(step_times))
        if cad is not None
        else Metric.unmeasurable("spm", cres.reason or "")
    )
    a.cadence_series = _cadence_series(step_times) if cad is not None else []  # none for a withheld cadence
    # every contract metric is present: fill what the view could not give
    for mid_, (unit, _sided) in SIDE_METRICS.items():
        if mid_ not in metrics:
            metrics[mid_] = Metric.unmeasurable(
                unit, side_reason or _side_default_reason(mid_, px_per_cm, speed_cm_s)
            )
    for mid_, (unit, _sided) in FRONTAL_METRICS.items():
        if mid_ not in metrics:
            metrics[mid_] = Metric.unmeasurable(unit, frontal_reason or "not measurable in this recording")
    if side_reason:
        for mid_ in SIDE_METRICS:
            if mid_ != "cadence_spm" and metrics[mid_].value is None:
                metrics[mid_].reason = side_reason
    metrics[SYMMETRY] = _symmetry_headline(metrics)
    # What the data cannot support is not measurable, with the reason (the most basic last)
    timing = (*STEP_TIMING_METRICS, SYMMETRY)  # the headline symmetry is contact time's
    if cres.code in ("cadence_disagree", "cadence_implausible"):
        # step time is the withheld cadence's reciprocal, and the other timings come from the
        # same contacts; contacts that may be miscounted carry no angle or frame either
        _withhold(metrics, timing, STEPS_NOT_CONFIRMED)
        if cres.steps_in_doubt:
            _withhold(metrics, (*ON_THE_CONTACTS, SYMMETRY), CONTACTS_NOT_CONFIRMED)
            a.curves, a.evidence = {}, []
    if tw is not None:
        _withhold(metrics, BELT_SPEED_METRICS, OVERGROUND)
    if activity == "walking":
        _withhold(metrics, timing, WALKING)
        _withhold(metrics, ("knee_flexion_stance_peak_deg",), WALKING_STANCE_PEAK)
    # the camera's rate (median frame interval), not frames over time: a few frames dropped do
    # not make the frames that were kept further apart
    fps = tl.effective_fps
    if 0.0 < fps < MIN_EVENT_FPS:
        _withhold(metrics, (*EVENT_INSTANT_METRICS, SYMMETRY), low_fps_reason(fps))
    if cuts:
        _withhold(metrics, timing, f"{NOT_ONE_TAKE}: timing needs one")
        _withhold(
            metrics,
            LEG_SCALED_METRICS,
            f"{NOT_ONE_TAKE}: the runner's size in the picture changes at a cut, so one leg length "
            "cannot scale every take",
        )
    # no number at all: the keypoints may be another person's, or of another view than chosen
    upper_out = upper_body_out_of_frame(quality.get("shoulders_at_frame_top_fraction", 0.0))
    people = UPPER_BODY_OUT if upper_out else TWO_PEOPLE if _two_people(jumps, tl.duration_s) else None
    for none_why in (people, vres.mismatch):
        if none_why:
            _withhold(metrics, ALL_METRICS, none_why)
            a.cadence_spm = None
            a.cadence_series = []
            a.curves, a.evidence = {}, []
    if activity == "walking":
        warnings.append(
            "this looks like walking, not running (feet share the ground / no flight phase): "
            "running norms and cues are not applied"
        )
    for mid_, m in metrics.items():
        if activity != "walking":
            apply_norm(mid_, m, norms)
    if metrics[SYMMETRY].flag and not _asymmetry_significant(contact_by_side):
        metrics[SYMMETRY].flag = None
        warnings.append(
            f"the left/right contact-time difference ({metrics[SYMMETRY].value:.0f} %) is within "
            "the stride-to-stride variation: not flagged"
        )
    a.metrics = {k: metrics[k] for k in list(SIDE_METRICS) + list(FRONTAL_METRICS) + [SYMMETRY]}
    a.events = events
    a.activity = activity
    quality["steps_used"], quality["steps_rejected"] = stride_counts
    quality["strides_used"] = stride_counts[0] // 2
    quality["leg_length_method"] = (
        "leg length (hip→knee + knee→ankle in pixels, median over frames; "
        "90th percentile from behind/in front) = "
        f"{LEG_FRACTION_OF_HEIGHT} × entered height"
    )
    if px_per_cm is None:
        warnings.append("runner height not entered: lengths are given in % of leg length only")
    verdict, more, issues = _verdict(vres, quality, jumps, stride_counts, activity, xy, tl, norms)
    if gap_note is not None:
        issues.append("time_gap")
    if cres.code:
        issues.append(cres.code)
        verdict = ("" if verdict == "good" else verdict + "; ") + "cadence not confirmed"
    if vres.kind == "side" and quality["near_side"] is None and vres.facing is not None:
        issues.append("side_unknown")
    if unverified:
        issues.append("events_unverified")
        verdict = ("" if verdict == "good" else verdict + "; ") + "contact moments not confirmed"
    warnings += more
    quality["verdict"] = verdict
    quality["issues"] = issues
    quality["verdict_code"] = _verdict_code(issues)
    quality["warnings"] = warnings
    quality["confidence"] = _confidence(vres.confidence, quality, stride_counts, confidence_events, jumps)
    a.quality = quality
    a.cues = build_cues(a.metrics, norms, coaching_profile, activity)
    a.input["t0_s"] = round(float(timeline.t[0]), 4)  # session start: charts and captions count from it
    return gate(a, norms, coaching_profile)  # only the findings the evidence supports


def longest_continuous(tl: Timeline) -> tuple[Timeline, str | None]:
    """The longest stretch of the recording without an absurd time gap, and a note when the
    rest was left out (or the frame times are not seconds of a video).

    Memory and time of the analysis follow the time span (everything is resampled onto a
    uniform grid of ≥ 100 Hz), so a single row at t = 1e7, microsecond timestamps or a clock
    jump of two hours must not reach the grid: a gap longer than :data:`MAX_TIME_GAP_S` (or 10
    frame intervals) splits the recording and only its longest part (by frames) is analysed.
    Frames more than :data:`MAX_FRAME_INTERVAL_S` apart on median are not a video."""
    if len(tl) < 3:
        return tl, None
    dt = np.diff(tl.t)
    med = float(np.median(dt))
    if med > MAX_FRAME_INTERVAL_S:
        return tl.window(float(tl.t[0]), float(tl.t[0])), (
            f"frame times step by {med:g} on median: not a video frame rate in seconds "
            f"(under {1 / MAX_FRAME_INTERVAL_S:g} fps; times in ms or µs?)"
        )
    cut = np.flatnonzero(dt > max(MAX_TIME_GAP_S, 10.0 * med))
    if cut.size == 0:
        return tl, None
    bounds = np.concatenate([[0], cut + 1, [len(tl)]])
    lengths = np.diff(bounds)
    k = int(np.argmax(lengths))
    a, b = int(bounds[k]), int(bounds[k + 1])
    part = Timeline(tl.t[a:b], tl.xy[a:b], tl.score[a:b], tl.frame[a:b], tl.width, tl.height, dict(tl.meta))
    biggest = float(dt[cut].max())
    return part, (
        f"the recording has {cut.size} time gap(s) (the largest {biggest:.4g} s): analysed its longest "
        f"continuous part ({b - a} of {len(tl)} frames, {part.duration_s:.1f} s)"
    )


def _empty(inp: dict, quality: dict, reason: str, verdict: str, warnings: list[str]) -> Analysis:
    metrics = {
        k: Metric.unmeasurable(u, reason)
        for k, (u, _s) in list(SIDE_METRICS.items()) + list(FRONTAL_METRICS.items())
    }
    metrics[SYMMETRY] = Metric.unmeasurable("%", reason)
    quality.update(
        {
            "verdict": verdict,
            "verdict_code": "unusable",
            "issues": [
                "too_short" if "short" in verdict else "low_fps" if "frame rate" in verdict else "no_runner"
            ],
            "warnings": warnings + [reason],
            "confidence": 0.0,
            "steps_used": 0,
            "strides_used": 0,
            "steps_rejected": 0,
            "near_side": None,
            "side_method": "not analysed",
            "swaps_corrected": 0,
            "leg_seen_fraction": {"left": 0.0, "right": 0.0},
        }
    )
    return Analysis(cadence_spm=None, metrics=metrics, quality=quality, input=inp)


def _withhold(metrics: dict[str, Metric], ids: Iterable[str], reason: str) -> None:
    """The data cannot support these metrics: not measurable with ``reason``, whatever was
    computed for them."""
    for mid_ in ids:
        metrics[mid_] = Metric.unmeasurable(ALL_METRICS[mid_][0], reason)


def _two_people(jumps: int, duration_s: float) -> bool:
    """The detected body jumps often enough that the keypoints may be another person's."""
    return jumps >= 2 or jumps / max(duration_s, 1e-6) > 0.2


def _side_default_reason(mid_: str, px_per_cm: float | None, speed: float | None) -> str:
    if mid_ in ("overstride_cm", "vertical_oscillation_cm") and px_per_cm is None:
        return "runner height not entered (needed to convert pixels to cm)"
    if mid_ in ("step_length_cm", "vertical_ratio_pct") and speed is None:
        return "treadmill speed not entered (needed for step length)"
    if mid_ == "vertical_ratio_pct" and px_per_cm is None:
        return "runner height not entered (needed to convert pixels to cm)"
    if mid_ == "head_drop_cm":
        return (
            "not measured: the expected effect (2–3 cm) is smaller than the uncertainty of a "
            "height-based scale and of head keypoints in 2D video"
        )
    return "no valid strides"


_SIDE_WHAT = {
    "step_time_ms": "steps",
    "flight_time_ms": "steps",
    "vertical_oscillation_cm": "steps",
    "vertical_ratio_pct": "steps",
    "step_length_cm": "steps",
}
_UNSIDED = {"trunk_lean_deg"}


def _side_metrics(stances: list, px_per_cm: float | None, speed: float | None) -> dict[str, Metric]:
    out: dict[str, Metric] = {}
    for mid_, (unit, _sided) in SIDE_METRICS.items():
        if mid_ in ("cadence_spm", "head_drop_cm"):
            continue
        if mid_ in ("overstride_cm", "vertical_oscillation_cm") and px_per_cm is None:
            continue
        if mid_ in ("step_length_cm", "vertical_ratio_pct") and (
            speed is None or px_per_cm is None and mid_ == "vertical_ratio_pct"
        ):
            continue
        left = [s.values[mid_] for s in stances if s.side == "left" and mid_ in s.values]
        right = [s.values[mid_] for s in stances if s.side == "right" and mid_ in s.values]
        what = _SIDE_WHAT.get(
            mid_,
            "strides"
            if mid_
            in ("duty_factor", "trunk_lean_deg", "knee_flexion_swing_peak_deg", "hip_flexion_swing_peak_deg")
            else "contacts",
        )
        impossible = _impossible(mid_, left + right)
        left, right = _possible(mid_, left), _possible(mid_, right)
        if impossible is not None:
            out[mid_] = Metric.unmeasurable(unit, impossible)
        elif mid_ in _UNSIDED:
            out[mid_] = summarize(unit, left + right, [], sided=False, what=what)
        else:
            out[mid_] = summarize(unit, left, right, what=what)
    trunk = [s.values["trunk_lean_deg"] for s in stances if "trunk_lean_deg" in s.values]
    if _impossible("trunk_lean_deg", trunk) is not None:
        for mid_ in ON_THE_TRUNK:  # measured against a trunk line no body has
            out[mid_] = Metric.unmeasurable(
                SIDE_METRICS[mid_][0],
                "not measurable: measured against the trunk line, whose lean is beyond what a body "
                "can do (is the picture upside down?)",
            )
    return out


#: Strides beyond what a body can do, as a share of a metric's strides, above which the picture
#: is misread throughout (upside down, keypoints swapped) and the metric is not measurable; up to
#: it they are a keypoint glitch here and there, left out of the mean.
MAX_IMPOSSIBLE_SHARE = 0.1


def _possible(mid_: str, values: list[float]) -> list[float]:
    """``values`` without those beyond what a body can do (:data:`POSSIBLE_DEG`)."""
    if mid_ not in POSSIBLE_DEG:
        return values
    lo, hi = POSSIBLE_DEG[mid_]
    return [v for v in values if not (v < lo or v > hi)]  # NaN stays: summarize skips it


def _impossible(mid_: str, values: list[float]) -> str | None:
    """Why ``mid_`` is not measurable when more than :data:`MAX_IMPOSSIBLE_SHARE` of its strides
    are beyond what a body can do (None otherwise, or when the metric has no such limit)."""
    if mid_ not in POSSIBLE_DEG:
        return None
    lo, hi = POSSIBLE_DEG[mid_]
    v = np.asarray(values, dtype=float)
    finite = v[np.isfinite(v)]
    out = finite[(finite < lo) | (finite > hi)]
    if out.size <= MAX_IMPOSSIBLE_SHARE * finite.size:
        return None
    worst = float(out[np.argmax(np.abs(out))])
    return (
        f"not measurable: {out.size} of {finite.size} strides at {worst:.0f}°, beyond "
        f"what a body can do ({lo:.0f}° to {hi:.0f}°): the keypoints are misread (is the picture upside down?)"
    )


def _asymmetry_significant(by_side: dict[str, list[float]]) -> bool:
    """The left/right difference of contact time exceeds twice its standard error (Welch):
    a 'high' symmetry index is only flagged when stride-to-stride variation cannot explain it."""
    lv, rv = np.asarray(by_side["left"], float), np.asarray(by_side["right"], float)
    if lv.size < 2 or rv.size < 2:
        return False
    se = float(np.sqrt(lv.var(ddof=1) / lv.size + rv.var(ddof=1) / rv.size))
    return abs(float(lv.mean() - rv.mean())) > 2.0 * se


def _symmetry_headline(metrics: dict[str, Metric]) -> Metric:
    """The headline symmetry index is contact time's (the classic L/R balance figure); every
    sided metric carries its own ``symmetry_index_pct``."""
    ct = metrics.get("contact_time_ms")
    if ct is None or ct.left is None or ct.right is None:
        return Metric.unmeasurable("%", "needs contact times of both feet")
    si = symmetry_index(ct.left, ct.right)
    if si is None:
        return Metric.unmeasurable("%", "needs contact times of both feet")
    return Metric(value=si, unit="%", n=ct.n)


def _events_list(side_events: dict, tl: Timeline, cl) -> list[GaitEvent]:
    out = []
    for side, se in side_events.items():
        label = cast(SideOrUnknown, "unknown" if side.startswith("unknown") else side)
        kinds: tuple[tuple[EventKind, np.ndarray, np.ndarray | None], ...] = (
            ("initial_contact", se.ic, se.ic_conf),
            ("toe_off", se.to, se.to_conf),
        )
        for kind, arr, conf in kinds:
            have = np.flatnonzero(np.isfinite(arr))
            x = arr[have]
            # the frame nearest each event, for all of them at once
            j = np.clip(np.searchsorted(tl.t, x), 0, len(tl) - 1)
            before = np.maximum(j - 1, 0)
            j = np.where((j > 0) & (np.abs(tl.t[before] - x) < np.abs(tl.t[j] - x)), before, j)
            cs = conf[have].tolist() if conf is not None else [0.5] * have.size
            out += [
                GaitEvent(side=label, kind=kind, t=tx, frame=f, confidence=c)
                for tx, f, c in zip(x.tolist(), tl.frame[j].tolist(), cs, strict=True)
            ]
    out.sort(key=lambda e: e.t)
    return out


def _moments_unseen(events: list[GaitEvent], at_edge: list[sagittal.Stance]) -> list[GaitEvent]:
    """``events`` with :data:`UNSEEN_MOMENT_CONFIDENCE` where their moment is not seen: those of
    the ``at_edge`` stances, or every one when that list is empty (no stance matched the belt)."""
    unseen = np.array([x for st in at_edge for x in (st.ic, st.to)], float)
    return [
        replace(e, confidence=min(e.confidence, UNSEEN_MOMENT_CONFIDENCE))
        if not at_edge or np.isclose(unseen, e.t, rtol=0.0, atol=1e-9).any()
        else e
        for e in events
    ]


def _event_timing_note(series: dict) -> dict:
    """How the events were timed: per leg track, the mid-stance ankle scatter (% of leg) and the
    share of frames without the ankle, and whether the learned correction could be used on it
    (see treadmill.MAX_MODEL_NOISE_FRAC and MAX_MODEL_UNSEEN_FRAC)."""
    noise = series.get("noise") or {}
    aside = series.get("set_aside") or {}
    vals = [x for x in noise.values() if x is not None]
    # set aside for both legs or neither (sagittal._treadmill_refine: the legs are compared)
    why = (
        "the pose model's keypoints: the correction was fitted on motion-capture keypoints"
        if series.get("pose_model_timing")
        else "keypoints noisier or patchier than the correction was fitted on"
    )
    method = (
        "physics estimate"
        if not vals
        else f"physics estimate only ({why})"
        + (
            "; contacts timed on the ankles' forward turning points"
            if series.get("anchored_contacts")
            else ""
        )
        if any(aside.values())
        else "physics + learned correction"
    )
    return {
        "method": method,
        "ankle_scatter_pct_leg": sorted(round(100.0 * x, 2) for x in vals),
        "ankle_unseen_pct": sorted(round(100.0 * x, 1) for x in (series.get("unseen") or {}).values()),
    }


def _floors(res: sagittal.SideResult) -> dict[str, list[float]]:
    """Per track, the ankle's foot-flat height of each stance (for the perspective cue)."""
    out: dict[str, list[float]] = {"left": [], "right": []}
    for side, _ic, _to, sm in res.series.get("stances", []):
        if sm is not None:
            out[side].append(sm.floor)
    return out


def _swap_sides(res: sagittal.SideResult) -> None:
    """The pose model's labels are the other way round: relabel every sided result."""
    other = {"left": "right", "right": "left"}
    res.events = {other[k]: v for k, v in res.events.items()}
    for st in res.stances:
        st.side = other[st.side]
    res.step_times = [(a, b, other[c]) for a, b, c in res.step_times]
    res.curves = {k: {other[s]: v for s, v in c.items()} for k, c in res.curves.items()}
    for ev in res.evidence:
        ev["side"] = other[ev["side"]]


def _unknown_sides(res: sagittal.SideResult) -> None:
    """The near leg could not be decided: events keep their tracks apart but carry no side."""
    res.events = {f"unknown_{k}": v for k, v in res.events.items()}
    res.curves = {k: {"left": None, "right": None} for k in res.curves}
    for ev in res.evidence:
        ev["side"] = "unknown"


def _unsided(metrics: dict[str, Metric]) -> None:
    for m in metrics.values():
        if m.left is not None or m.right is not None:
            m.left = m.right = m.sd_left = m.sd_right = m.symmetry_index_pct = None
            m.n_left = m.n_right = 0


def _cadence_signals(cl, fsign, leg_px: float) -> tuple[float | None, float | None]:
    """The two signal-based step-rate estimates (hip bounce, ankle spectrum)."""
    # the four points it reads, not the whole (frames × 17 × 2) array (a 30-minute capture's peak)
    pts = [KP[k] for k in ("left_hip", "right_hip", "left_ankle", "right_ankle")]
    pe = runner_frame(cl.xy_event[:, pts], np.asarray(fsign, float)[:, None] if np.ndim(fsign) else fsign)
    hip = mid_points(pe[:, 0], pe[:, 1])
    ank = [pe[:, 2, 0] - hip[:, 0], pe[:, 3, 0] - hip[:, 0]]
    return (
        cadence_mod.hip_bounce_spm(cl.t, hip[:, 1], cl.fs),
        cadence_mod.ankle_spectrum_spm(cl.t, ank, cl.fs),
    )


def _frame_of(ev: dict, tl: Timeline) -> dict:
    row = ev.pop("frame_index")
    ev["frame"] = int(tl.frame[row])
    return ev


def _cadence(step_times: list, events: list[GaitEvent]) -> tuple[float | None, int]:
    """Steps per minute over the analysed window: the steps between the first and the last
    contact over the time between them (:func:`_span_steps`), counted against the stride period
    fitted to all events at once — contacts and toe-offs of both feet each form a sequence with
    the same period; 2 steps per stride period where no span holds.

    Why not 60 / mean of the plausible step times: on real video a contact timed 2–3 frames off
    makes one step short and the next long; dropping the short one as an outlier keeps the long
    one, and a 12 s clip read 3 % slow that way under ±1-level pixel noise. Over the span a
    mistimed contact inside it cancels (its two steps sum right), and a missed one counts as the
    whole steps it held. Why not the fitted period alone: a runner's left and right steps differ,
    and over an odd number of steps the contract's figure is not twice the stride rate (the 4–6 s
    force-plate trials: up to 0.75 % off, 0.37 % over the span). 60 / mean step time is the
    fallback when no sequence fits."""
    st = np.array([s for _, s, _ in step_times])
    if st.size >= 3:
        med = np.median(st)
        st = st[(st > 0.6 * med) & (st < 1.4 * med)]
    period, n_steps = _stride_period(events, 2.0 * float(np.median(st)) if st.size else None)
    if period is not None:
        span = _span_steps(events, period / 2.0)
        if span is not None:
            return span
        return float(120.0 / period), n_steps
    if st.size >= 3:
        return float(60.0 / st.mean()), int(st.size)
    return None, 0


#: The first or last contact of the span must sit this close to its foot's rhythm (the stride
#: period through that foot's contacts): a span is only as good as its two ends, and a contact
#: timed by the swing's fallback at a trial's edge was 59 ms early (development set, 30 fps).
SPAN_END_TOL_S = 0.04


def _span_steps(events: list[GaitEvent], step: float) -> tuple[float, int] | None:
    """Steps per minute as the contract defines cadence: the steps between the first and the
    last contact over the time between them, each gap between consecutive contacts counted as
    the whole number of steps of ``step`` (the fitted rhythm) it holds, so a missed contact
    counts. The span's ends are contacts on their foot's rhythm (:data:`SPAN_END_TOL_S`). None
    when fewer than four contacts remain or a gap is not near a whole number of steps."""
    ics = sorted((e.t, e.side) for e in events if e.kind == "initial_contact")
    if len(ics) < 4:
        return None
    t = np.array([x for x, _ in ics])
    off = np.zeros(t.size, dtype=bool)
    for side in {sd for _, sd in ics}:
        on = np.array([sd == side for _, sd in ics])
        unit = 2.0 * step if side != "unknown" else step
        ts = t[on]
        k = np.round((ts - ts[0]) / unit)
        res = ts - np.median(ts - k * unit) - k * unit
        off[np.flatnonzero(on)] = np.abs(res) > SPAN_END_TOL_S
    a, b = 0, t.size
    while a < b and off[a]:
        a += 1
    while b > a and off[b - 1]:
        b -= 1
    t = t[a:b]
    if t.size < 4:
        return None
    g = np.diff(t) / step
    n = np.round(g)
    if np.any(n < 1) or np.any(np.abs(g - n) > _RHYTHM_TOL):
        return None
    return 60.0 * float(n.sum()) / float(t[-1] - t[0]), int(n.sum())


def _step_rate_sd(step_times: list) -> float | None:
    """The step-to-step spread of the step rate (SD of 60 / step time, spm) over the plausible
    steps: the stride-to-stride noise a before/after comparison of cadence is read against."""
    st = np.array([s for _, s, _ in step_times], dtype=float)
    if st.size >= 3:
        med = np.median(st)
        st = st[(st > 0.6 * med) & (st < 1.4 * med)]
    return float(np.std(60.0 / st, ddof=1)) if st.size >= 3 else None


def _coherent_period(seqs: list[tuple[float, np.ndarray]], guess: float) -> float:
    """The stride period within ±25 % of ``guess`` at which the events line up best: the summed
    phase coherence |Σ exp(2πi·t / (unit·period))|² of the sequences (each its own phase). Unlike
    counting gaps, a missed, extra or mistimed event only lowers the peak, it cannot move the
    count. The grid is fine enough for the longest sequence (a tenth of the peak's width)."""
    strides = max(float(ts[-1] - ts[0]) / (u * guess) for u, ts in seqs)
    rel = 0.1 / max(strides, 1.0)
    n = int(min(4000, np.ceil(np.log(1.25 / 0.8) / rel) + 1))
    cands = guess * np.exp(np.linspace(np.log(0.8), np.log(1.25), n))
    power = np.zeros(n)
    for u, ts in seqs:
        # a block of events at a time: the whole (events × candidates) matrix of a 30-minute
        # capture was 400 MB, the analysis's peak
        acc = np.zeros(n, dtype=complex)
        for s in range(0, ts.size, _COHERENCE_BLOCK):
            acc += np.exp(2j * np.pi * ts[s : s + _COHERENCE_BLOCK, None] / (u * cands[None, :])).sum(axis=0)
        power += np.abs(acc) ** 2
    return float(cands[int(np.argmax(power))])


#: events per block of the phase-coherence sum (× ≤ 4000 candidates × 16 bytes: ≤ 16 MB)
_COHERENCE_BLOCK = 256


#: An event further than this share of a stride from the fitted line is not on the sequence's
#: rhythm (a spurious or badly timed event) and is left out of the fit.
_RHYTHM_TOL = 0.25


def _stride_period(events: list[GaitEvent], guess: float | None) -> tuple[float | None, int]:
    """Least-squares stride period shared by the four event sequences (foot × kind), each with
    its own phase; events of an unknown side form one sequence per kind, a step (half a stride)
    apart. Events are numbered against the rhythm all of them share best
    (:func:`_coherent_period`), so a missed stride is skipped rather than counted long and a
    noisy gap cannot shift the count; events off the fitted rhythm are dropped and the fit is
    repeated with the events renumbered."""
    groups: dict[tuple[str, str], list[float]] = {}
    for e in events:
        groups.setdefault((e.side, e.kind), []).append(e.t)
    seqs = []  # (unit in strides, times)
    for (side, _kind), times in groups.items():
        ts = np.sort(np.asarray(times, dtype=float))
        if ts.size >= 2:
            seqs.append((0.5 if side == "unknown" else 1.0, ts))
    # the strides themselves (each foot's own gaps) are a steadier guess than twice a step:
    # with contacts 2 frames off, the median of the plausible steps came out 19 % short
    d = [float(x) / u for u, ts in seqs for x in np.diff(ts) if 0.4 < x / u < 2.0]
    if d:
        guess = float(np.median(d))
    if guess is None:
        return None, 0
    period = _coherent_period(seqs, guess)
    # number the events against that rhythm, each sequence from its own phase
    numbered = []
    for u, ts in seqs:
        phase = float(np.angle(np.exp(2j * np.pi * ts / (u * period)).sum())) / (2 * np.pi) * u * period
        numbered.append((u, ts, u * np.round((ts - phase) / (u * period))))
    kept: list[tuple[np.ndarray, np.ndarray]] = []
    for it in range(4):
        sxx = sxy = 0.0
        kept = []
        for u, ts, k in numbered:
            if it:
                k = u * np.round((ts - float(np.median(ts - k * period))) / (u * period))
            phase = float(np.median(ts - k * period))
            on = np.abs(ts - phase - k * period) <= _RHYTHM_TOL * u * period
            # two events on one number: neither is trusted
            _, first, counts = np.unique(k[on], return_index=True, return_counts=True)
            kk, tt = k[on][first[counts == 1]], ts[on][first[counts == 1]]
            if kk.size < 2:
                continue
            kc, tc = kk - kk.mean(), tt - tt.mean()
            sxx += float(kc @ kc) / u  # a step-spaced sequence holds twice the events per stride
            sxy += float(kc @ tc) / u
            kept.append((kk, tt))
        if sxx < 1.0:
            return None, 0
        period = sxy / sxx
    if not 0.4 < period < 2.0:
        return None, 0
    return period, int(2 * max(float(k[-1] - k[0]) for k, _ in kept))


def _cadence_series(step_times: list, window_steps: int = 8) -> list[list[float]]:
    """Rolling cadence: at each contact, 60 / mean of the last ``window_steps`` step times."""
    out = []
    st = [(t, s) for t, s, _ in step_times]
    steps = np.array([s for _, s in st], dtype=float)
    # the full windows' means in one reduction (a np.mean per contact was most of the time)
    full = []
    if steps.size >= window_steps:
        full = (np.add.reduce(sliding_window_view(steps, window_steps), axis=1) / window_steps).tolist()
    for i in range(len(st)):
        w = st[max(0, i - window_steps + 1) : i + 1]
        if len(w) < min(4, len(st)):
            continue
        mean = full[i - window_steps + 1] if len(w) == window_steps else float(np.mean([s for _, s in w]))
        out.append([round(st[i][0], 3), round(60.0 / mean, 1)])
    return out


def _seen_quality(xy: np.ndarray, tl: Timeline) -> dict:
    out: dict[str, Any] = {"leg_seen_fraction": {}}
    for side in ("left", "right"):
        pts = [KP[f"{side}_hip"], KP[f"{side}_knee"], KP[f"{side}_ankle"]]
        out["leg_seen_fraction"][side] = round(float(np.isfinite(xy[:, pts, 0]).all(1).mean()), 3)
    ank = xy[:, [KP["left_ankle"], KP["right_ankle"]]]
    out["ankles_seen_fraction"] = round(float(np.isfinite(ank[..., 0]).mean()), 3)  # both ankles pooled
    out["ankle_seen_fraction"] = {
        side: round(float(np.isfinite(ank[:, i, 0]).mean()), 3) for i, side in enumerate(("left", "right"))
    }
    if tl.height:
        y = ank[..., 1]
        with np.errstate(invalid="ignore"):
            edge = (y > EDGE_OF_HEIGHT * tl.height).any(1)
        out["ankle_at_frame_edge_fraction"] = round(float(edge.mean()), 3)
        sh = xy[:, [KP["left_shoulder"], KP["right_shoulder"]], 1]
        seen_sh = int(np.isfinite(sh).any(axis=1).sum())
        with np.errstate(invalid="ignore"):
            top = int((sh < TOP_EDGE_OF_HEIGHT * tl.height).any(axis=1).sum())  # NaN: not at the top
        out["shoulders_at_frame_top_fraction"] = round(top / seen_sh, 3) if seen_sh else 0.0
        knees = xy[:, [KP["left_knee"], KP["right_knee"]]]
        knee_seen, inside = unseen_feet_inside(ank, knees, float(tl.height))
        # of the frames without an ankle: the knee seen, and putting the foot inside the picture
        out["unseen_ankles"] = {"knee_seen": round(knee_seen, 3), "inside": round(inside, 3)}
    return out


def _hip_and_torso(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: the hip midpoint (x, y) and the torso's length in pixels (shoulder midpoint
    to hip midpoint), NaN where a side is unseen — the body's place and size in the picture."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames with neither hip: NaN, expected
        hip = np.nanmean(xy[:, [KP["left_hip"], KP["right_hip"]]], axis=1)
        sh = np.nanmean(xy[:, [KP["left_shoulder"], KP["right_shoulder"]]], axis=1)
    return hip, length(sh - hip)


def _implausible_bodies(xy: np.ndarray) -> np.ndarray:
    """Frames whose torso (shoulder midpoint to hip midpoint) is less than 60% or more than
    1.6× the clip's median torso: not the runner (left the frame, or a ghost detection)."""
    _, torso = _hip_and_torso(xy)
    ok = np.isfinite(torso)
    if ok.sum() < 10:
        return np.zeros(len(xy), bool)
    med = float(np.median(torso[ok]))
    return ok & ((torso < 0.6 * med) | (torso > 1.6 * med))


def _travel_warning(xy: np.ndarray, leg_px: float) -> str | None:
    """A treadmill runner stays in place; travel across the frame means overground running."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        hx = np.nanmean(xy[:, [KP["left_hip"], KP["right_hip"]], 0], axis=1)
    hx = hx[np.isfinite(hx)]
    if hx.size < 10 or not np.isfinite(leg_px):
        return None
    span = float(np.percentile(hx, 95) - np.percentile(hx, 5))
    if span > 1.5 * leg_px:
        return (
            "the runner moves across the frame (not on a treadmill?): the analysis assumes a "
            "treadmill; overground figures are less reliable"
        )
    return None


def _size_change_warning(xy: np.ndarray) -> str | None:
    """A runner coming toward (or going away from) the camera changes size in the picture;
    one pixel scale for the whole clip then makes cm values approximate."""
    _, torso = _hip_and_torso(xy)
    torso = torso[np.isfinite(torso)]
    if torso.size < 20:
        return None
    lo, hi = np.percentile(torso, [10, 90])
    if lo > 0 and hi / lo > 1.3:
        return (
            f"the runner's size in the picture changes by {100 * (hi / lo - 1):.0f} % (moving toward or "
            "away from the camera): cm values are approximate"
        )
    return None


#: The torso (shoulders to hips) in the picture is this many times larger or smaller over the
#: half second after an instant than over the half second before: a cut between camera takes (or
#: the camera moved). Running does not do it: a runner coming toward a phone at 5 m/s from 5 m
#: grows ~3 % a frame at 30 fps. Half a second, so that someone passing the camera is not a cut.
TAKE_SCALE_JUMP = 1.35
TAKE_WINDOW_S = 0.5


def _take_cuts(xy: np.ndarray, t: np.ndarray) -> list[float]:
    """Times where the video cuts to another camera take (an edited clip, or the camera moved):
    the torso's median size over the next :data:`TAKE_WINDOW_S` differs from that over the
    previous one by more than :data:`TAKE_SCALE_JUMP`, at the frame where it jumps. Medians over
    half a second, so a wrong pose or another person for a moment is not a cut."""
    _, torso = _hip_and_torso(xy)
    idx = np.flatnonzero(np.isfinite(torso) & (torso > 0))
    fs = 1.0 / float(np.median(np.diff(t))) if len(t) > 1 else 0.0
    w = max(5, round(TAKE_WINDOW_S * fs))
    if idx.size < 4 * w:
        return []
    lt = np.log(torso[idx])
    win = sliding_window_view(lt, w)
    med = np.median(win, axis=1)  # med[j]: frames j .. j+w-1
    j = np.arange(w, idx.size - w + 1)  # a boundary between idx[j-1] and idx[j]
    shift = med[j] - med[j - w]
    step = np.abs(lt[j] - lt[j - 1])
    cand = j[np.abs(shift) > np.log(TAKE_SCALE_JUMP)]
    cuts: list[float] = []
    for k in cand:
        lo, hi = max(1, k - w), min(idx.size - 1, k + w)
        steps = np.abs(np.diff(lt[lo - 1 : hi + 1]))
        if step[k - w] >= steps.max() and (not cuts or t[idx[k]] - cuts[-1] > 0.5):
            cuts.append(float(t[idx[k]]))
    return cuts


def _body_jumps(xy: np.ndarray, t: np.ndarray, leg_px: float) -> int:
    """How often the detected body jumps between frames further than a runner can move (or
    changes size abruptly): the pose model switching between people, or a cut in the video."""
    if not np.isfinite(leg_px) or len(t) < 3:
        return 0
    hip, torso = _hip_and_torso(xy)
    ok = np.isfinite(hip).all(1) & np.isfinite(torso)
    idx = np.flatnonzero(ok)
    if idx.size < 3:
        return 0
    d = length(np.diff(hip[idx], axis=0))
    dt = np.diff(t[idx])
    # a runner's hips move < ~3 leg lengths per second in the image (treadmill or passing by)
    jump_pos = d > np.maximum(0.4 * leg_px, 3.0 * leg_px * dt)
    r = torso[idx][1:] / np.maximum(torso[idx][:-1], 1e-6)
    jump_size = (r > 1.5) | (r < 1 / 1.5)
    return int(np.sum((jump_pos | jump_size) & (dt < 0.5)))


#: Issue codes that make a capture unusable (nothing in it can be trusted); any other issue
#: makes it "limited".
UNUSABLE = {"no_runner", "two_people", "body_out_of_frame", "view_mismatch", "view_unknown"}


def _verdict_code(issues: list[str]) -> str:
    if any(i in UNUSABLE for i in issues):
        return "unusable"
    return "limited" if issues else "good"


def _verdict(
    vres,
    quality: dict,
    jumps: int,
    strides: tuple[int, int],
    activity: str,
    xy: np.ndarray,
    tl: Timeline,
    norms: Norms,
) -> tuple[str, list[str], list[str]]:
    """Plain-language capture verdict, the warnings behind it and the issue codes."""
    w = []
    issues = []
    codes: list[str] = []
    dur = max(tl.duration_s, 1e-6)
    at_top = float(quality.get("shoulders_at_frame_top_fraction", 0.0))
    if upper_body_out_of_frame(at_top):
        issues.append("the upper body leaves the frame")
        codes.append("body_out_of_frame")
        w.append(
            f"the shoulders are at the picture's top edge in {100 * at_top:.0f} % of the frames that show "
            "them: frame the whole body, head included"
        )
    elif _two_people(jumps, dur):
        issues.append("two people in view")
        codes.append("two_people")
        w.append(f"the detected body jumps {jumps} times: more than one person in view, or the camera moved")
    # a view the keypoints cannot tell is not one that differs from the chosen view
    if vres.detected_kind == "unknown":
        issues.append("camera view not recognised")
        codes.append("view_unknown")
    elif vres.kind == "side" and vres.detected_kind in ("rear", "front"):
        issues.append("camera not side-on")
        codes.append("view_mismatch")
    if vres.kind == "side" and vres.facing is None:
        issues.append("facing direction unclear")
        codes.append("facing_unknown")
    ev = norms.evidence
    if tl.duration_s < ev.min_duration_s:
        issues.append("recording too short")
        codes.append("too_short")
        w.append(
            f"only {tl.duration_s:.1f} s analysed: a good capture needs at least {ev.min_duration_s:g} s"
        )
    if quality.get("effective_fps", 0) < ev.min_fps:
        issues.append("frame rate too low")
        codes.append("low_fps")
    ls = quality.get("leg_seen_fraction", {})
    edge = quality.get("ankle_at_frame_edge_fraction", 0.0)
    per_ankle = quality.get("ankle_seen_fraction", {"left": 1.0, "right": 1.0})
    unseen = quality.get("unseen_ankles", {"knee_seen": 0.0, "inside": 0.0})
    feet = feet_problem(
        (per_ankle["left"], per_ankle["right"]), edge, (unseen["knee_seen"], unseen["inside"])
    )
    if feet is FeetProblem.UNSEEN:
        issues.append("feet not seen clearly")
        codes.append(feet.value)
        w.append(
            "the ankles are often not seen although the knees put the feet inside the picture: "
            "light the feet better, avoid motion blur (a faster shutter), check nothing hides them"
        )
    elif feet is FeetProblem.OUT_OF_FRAME:
        issues.append("feet leave the frame")
        codes.append(feet.value)
        w.append("the ankles are often not seen or at the frame edge: frame the whole body, feet included")
    elif ls and min(ls.values()) < 0.6:
        far = min(ls, key=ls.get)
        w.append(
            f"the {far} leg is often hidden ({ls[far]:.0%} of frames seen): its figures are less reliable"
        )
    # the evidence gate's rule (norms.toml [evidence] min_steps strides), so the engine's verdict
    # and the printed findings never disagree about whether a capture had enough strides
    if strides[0] < 2 * ev.min_steps:
        issues.append("too few strides")
        codes.append("few_strides")
        w.append(
            f"only {strides[0] // 2} usable stride{'' if strides[0] // 2 == 1 else 's'} ({strides[0]} "
            f"step{'' if strides[0] == 1 else 's'}); at least {ev.min_steps} "
            f"strides ({2 * ev.min_steps} steps) are needed: record at least 30 s of steady running"
        )
    if strides[0] and strides[1] > strides[0]:
        w.append(f"{strides[1]} steps rejected vs {strides[0]} used")
    if activity == "walking":
        issues.append("walking, not running")
        codes.append("walking")
    if quality.get("effective_fps", 0) < ev.min_fps:
        w.append(
            f"low frame rate ({quality.get('effective_fps')} fps, a good capture needs {ev.min_fps:g}): "
            "event timing is coarse"
        )
    return ("good" if not issues else "; ".join(issues)), w, codes


def _confidence(
    view_conf: float, quality: dict, strides: tuple[int, int], refined: float, jumps: int
) -> float:
    used, rej = strides
    ls = quality.get("leg_seen_fraction", {"left": 0, "right": 0})
    c = (
        0.3 * min(1.0, view_conf)
        + 0.25 * (used / max(1, used + rej))
        + 0.25 * float(np.mean(list(ls.values())))
    )
    c += 0.2 * refined
    if used < 4:
        c *= 0.6
    if jumps >= 2:
        c *= 0.5
    return round(float(np.clip(c, 0.0, 1.0)), 2)
