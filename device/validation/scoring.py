"""Scoring one analysis against its truth, and pooling trials into table rows.

Matching (as the data set's ``score.py``): per kind, one-to-one, greedy by smallest |Δt|,
within 60 ms, predictions outside the truth's valid window ignored, an unmatched prediction
within 60 ms of a window edge not counted as spurious. Matching here is side-agnostic, so
detection and timing are judged apart from sides; side accuracy is then the share of matched
initial contacts whose side is right (an event with side unknown counts as not right).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

TOL_S = 0.06
KINDS = ("initial_contact", "toe_off")


@dataclass
class TrialScore:
    trial: str
    runner: str
    errors_ms: dict[str, list[float]] = field(default_factory=dict)  # per kind, pred − true
    n_true: dict[str, int] = field(default_factory=dict)
    n_detected: dict[str, int] = field(default_factory=dict)
    spurious: int = 0
    sides_right: int = 0
    sides_total: int = 0
    cadence_err_pct: float | None = None
    contact_err_ms: float | None = None  # mean |error| of the per-side mean contact times
    #: |error| of the right − left difference of the mean contact times (the L/R symmetry the
    #: report shows): a per-leg bias the mean error hides
    contact_diff_err_ms: float | None = None
    #: the same for the step times (a step is the foot's whose contact starts it): a side's
    #: contacts found early or late move both of its steps, and the difference by twice that
    step_diff_err_ms: float | None = None
    knee_ic_err_deg: float | None = None  # mean |error| of the per-side means
    knee_peak_err_deg: float | None = None  # peak knee flexion in stance, likewise
    within_one_frame_pct: float | None = None  # labelled video only (both kinds)
    verdict_code: str | None = None
    near_side: str | None = None
    speed_err_pct: float | None = None  # belt speed from video vs entered
    event_timing: str | None = None  # how the events were timed (quality.event_timing.method)


def _match(pred: list[float], true: list[float], tol: float) -> list[tuple[int, int, float]]:
    pairs = sorted(
        (abs(p - q), i, j) for i, p in enumerate(pred) for j, q in enumerate(true) if abs(p - q) <= tol
    )
    up: set[int] = set()
    ut: set[int] = set()
    out = []
    for _d, i, j in pairs:
        if i in up or j in ut:
            continue
        up.add(i)
        ut.add(j)
        out.append((i, j, pred[i] - true[j]))
    return out


def score_trial(
    pred: dict[str, Any], truth: dict[str, Any], trial: str, runner: str, frame_s: float | None = None
) -> TrialScore:
    """``pred``: ``Analysis.to_dict()``; ``truth``: the force-plate (or label) truth JSON.
    ``frame_s``: for labelled video, the frame interval (within-one-frame share)."""
    w0, w1 = truth.get("valid_window_s") or (-math.inf, math.inf)
    s = TrialScore(trial, runner)
    pev = [e for e in pred.get("events", []) if w0 <= e["t"] <= w1]
    within = []
    for kind in KINDS:
        P = [e for e in pev if e["kind"] == kind]
        T = [e for e in truth["events"] if e["kind"] == kind]
        m = _match([e["t"] for e in P], [e["t"] for e in T], TOL_S)
        s.errors_ms[kind] = [1000.0 * d for _, _, d in m]
        s.n_true[kind] = len(T)
        s.n_detected[kind] = len(m)
        matched = {i for i, _, _ in m}
        for i, e in enumerate(P):
            if i not in matched and not (e["t"] - w0 < TOL_S or w1 - e["t"] < TOL_S):
                s.spurious += 1
        if kind == "initial_contact":
            for i, j, _ in m:
                s.sides_total += 1
                s.sides_right += int(P[i]["side"] == T[j]["side"])
        if frame_s:
            within += [abs(d) <= frame_s + 1e-3 for _, _, d in m]
            within += [False] * (len(T) - len(m))
    if frame_s:
        s.within_one_frame_pct = 100.0 * float(np.mean(within)) if within else None
    pc, tc = pred.get("cadence_spm"), truth.get("cadence_spm")
    if pc is not None and tc:
        s.cadence_err_pct = 100.0 * (float(pc) - float(tc)) / float(tc)
    met = pred.get("metrics") or {}
    s.contact_err_ms = _sided_mae(met.get("contact_time_ms"), truth.get("contact_time_ms"))
    s.contact_diff_err_ms = _difference_error(met.get("contact_time_ms"), truth.get("contact_time_ms"))
    s.step_diff_err_ms = _difference_error(met.get("step_time_ms"), _sided_step_times(truth, w0, w1))
    s.knee_ic_err_deg = _sided_mae(met.get("knee_flexion_ic_deg"), truth.get("knee_flexion_ic_deg"))
    s.knee_peak_err_deg = _sided_mae(
        met.get("knee_flexion_stance_peak_deg"), truth.get("peak_knee_flexion_stance_deg")
    )
    q = pred.get("quality") or {}
    s.verdict_code = q.get("verdict_code")
    s.event_timing = (q.get("event_timing") or {}).get("method")
    s.near_side = q.get("near_side")
    belt = q.get("belt_speed_kmh")
    entered = (pred.get("input") or {}).get("speed_kmh")
    if belt is not None and entered:
        s.speed_err_pct = 100.0 * (float(belt) - float(entered)) / float(entered)
    return s


def _sided_mae(p: dict | None, t: dict | None) -> float | None:
    """Mean |error| over the sides both give; a side the truth has but the engine does not
    (null) makes the figure null: a missing side is not a small error."""
    if not p or not t:
        return None
    errs = []
    for side in ("left", "right"):
        if t.get(side) is None:
            continue
        if p.get(side) is None:
            return None
        errs.append(abs(float(p[side]) - float(t[side])))
    return float(np.mean(errs)) if errs else None


def _sided_step_times(truth: dict[str, Any], w0: float, w1: float) -> dict[str, float] | None:
    """The truth's mean step time (ms) of each side, as the engine counts them: a step belongs
    to the foot whose contact starts it, and runs to the other foot's next contact."""
    ics = sorted(
        (e["t"], e["side"])
        for e in truth.get("events") or []
        if e.get("kind") == "initial_contact" and w0 <= e["t"] <= w1
    )
    steps: dict[str, list[float]] = {"left": [], "right": []}
    for (t0, s0), (t1, s1) in zip(ics, ics[1:], strict=False):
        if s0 != s1 and s0 in steps:
            steps[s0].append(1000.0 * (t1 - t0))
    if not (steps["left"] and steps["right"]):
        return None
    return {k: float(np.mean(v)) for k, v in steps.items()}


def _difference_error(p: dict | None, t: dict | None) -> float | None:
    """|(right − left) of the engine − (right − left) of the truth|; null unless both give both."""
    if not p or not t:
        return None
    pr, pl, tr, tl = p.get("right"), p.get("left"), t.get("right"), t.get("left")
    if pr is None or pl is None or tr is None or tl is None:
        return None
    return abs((float(pr) - float(pl)) - (float(tr) - float(tl)))


@dataclass
class Pooled:
    """Figures pooled over a set of trials (one table row)."""

    label: str
    trials: int
    ic_mae: float | None
    ic_p95: float | None
    to_mae: float | None
    to_p95: float | None
    detected_pct: float | None
    spurious: int
    side_pct: float | None
    cadence_abs_max_pct: float | None
    cadence_abs_mean_pct: float | None
    contact_mae: float | None
    knee_mae: float | None
    contact_diff_mae: float | None = None
    knee_peak_mae: float | None = None
    within_one_frame_pct: float | None = None
    speed_abs_mean_pct: float | None = None
    not_good: int = 0
    cadence_missing: int = 0


def _mae(x: list[float]) -> float | None:
    return float(np.mean(np.abs(x))) if x else None


def _p95(x: list[float]) -> float | None:
    return float(np.percentile(np.abs(x), 95)) if x else None


def _mean(x: list[float | None]) -> float | None:
    v = [abs(a) for a in x if a is not None]
    return float(np.mean(v)) if v else None


def pool(label: str, scores: list[TrialScore]) -> Pooled:
    ic = [e for s in scores for e in s.errors_ms.get("initial_contact", [])]
    to = [e for s in scores for e in s.errors_ms.get("toe_off", [])]
    nt = sum(sum(s.n_true.values()) for s in scores)
    nd = sum(sum(s.n_detected.values()) for s in scores)
    st = sum(s.sides_total for s in scores)
    cad = [s.cadence_err_pct for s in scores]
    cadv = [abs(c) for c in cad if c is not None]
    w = [s.within_one_frame_pct for s in scores if s.within_one_frame_pct is not None]
    return Pooled(
        label=label,
        trials=len(scores),
        ic_mae=_mae(ic),
        ic_p95=_p95(ic),
        to_mae=_mae(to),
        to_p95=_p95(to),
        detected_pct=100.0 * nd / nt if nt else None,
        spurious=sum(s.spurious for s in scores),
        side_pct=100.0 * sum(s.sides_right for s in scores) / st if st else None,
        cadence_abs_max_pct=max(cadv) if cadv else None,
        cadence_abs_mean_pct=float(np.mean(cadv)) if cadv else None,
        contact_mae=_mean([s.contact_err_ms for s in scores]),
        knee_mae=_mean([s.knee_ic_err_deg for s in scores]),
        contact_diff_mae=_mean([s.contact_diff_err_ms for s in scores]),
        knee_peak_mae=_mean([s.knee_peak_err_deg for s in scores]),
        within_one_frame_pct=float(np.mean(w)) if w else None,
        speed_abs_mean_pct=_mean([s.speed_err_pct for s in scores]),
        not_good=sum(1 for s in scores if s.verdict_code not in (None, "good")),
        cadence_missing=sum(1 for c in cad if c is None),
    )
