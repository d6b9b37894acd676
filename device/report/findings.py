"""The report's headline: which flagged metrics matter most, said in words a runner understands.

Flags come from the gait engine (``metric.flag`` against ``metric.normal``). They are ranked by
clinical importance (catalog) times how far outside the normal range the value is, and only the
strongest metric of a family (e.g. overstride in cm and in % of leg length) becomes a headline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from device.gait.evidence import Status, words
from device.report import catalog
from device.report.units import Units, is_number


@dataclass(frozen=True)
class Finding:
    """One flagged metric: ``direction`` is "high", "low", "asymmetric" or "flagged";
    ``score`` orders findings (higher = more important); ``text`` is the plain-language line."""

    metric_id: str
    direction: str
    score: float
    text: str


def symmetry_index(left: Any, right: Any) -> float | None:
    """100·|L−R| / ((L+R)/2) (gait-metrics.md); None unless both sides are positive numbers,
    since the index is meaningless for signed quantities that straddle zero."""
    if not (is_number(left) and is_number(right)) or left <= 0 or right <= 0:
        return None
    return 100.0 * abs(left - right) / ((left + right) / 2.0)


def metric_si(m: dict[str, Any]) -> float | None:
    """A metric's left/right symmetry index as the evidence gate left it: none for signed or
    near-zero quantities or where a side is not reliable (never recomputed from L and R)."""
    si = m.get("symmetry_index_pct")
    return float(si) if is_number(si) else None


def flag_direction(m: dict[str, Any]) -> str | None:
    """The engine's flag as "high" | "low" | "asymmetric" | "flagged", or None when not flagged."""
    flag = m.get("flag")
    if not flag or m.get("value") is None and not (is_number(m.get("left")) or is_number(m.get("right"))):
        return None
    f = str(flag).lower()
    if "asym" in f:
        return "asymmetric"
    if any(w in f for w in ("high", "above", "over")):
        return "high"
    if any(w in f for w in ("low", "below", "under")):
        return "low"
    lo, hi = _bounds(m)
    v = m.get("value")
    if is_number(v):
        if hi is not None and v > hi:
            return "high"
        if lo is not None and v < lo:
            return "low"
    return "flagged"


def _bounds(m: dict[str, Any]) -> tuple[float | None, float | None]:
    normal = m.get("normal") or [None, None]
    if len(normal) != 2:
        return None, None
    lo, hi = normal
    return (lo if is_number(lo) else None), (hi if is_number(hi) else None)


def _deviation(m: dict[str, Any], direction: str) -> float:
    """How far outside the normal range (0–3), in half range widths (or a quarter of a one-sided
    bound); asymmetry in tens of % SI."""
    if direction == "asymmetric":
        si = metric_si(m)
        return min(3.0, si / 10.0) if si is not None else 0.0
    lo, hi = _bounds(m)
    values = [float(v) for v in (m.get(k) for k in ("value", "left", "right")) if is_number(v)]
    if not values:
        return 0.0
    if lo is not None and hi is not None and hi > lo:
        scale = (hi - lo) / 2.0
    else:
        bound = hi if hi is not None else lo
        scale = max(abs(bound) * 0.25, 1.0) if bound is not None else 1.0
    if direction == "high" and hi is not None:
        excess = max(values) - hi
    elif direction == "low" and lo is not None:
        excess = lo - min(values)
    else:
        excess = 0.0
    return max(0.0, min(3.0, excess / scale))


def _sides_out(m: dict[str, Any], direction: str) -> list[str]:
    lo, hi = _bounds(m)
    out = []
    for side in ("left", "right"):
        v = m.get(side)
        if not is_number(v):
            continue
        if (direction == "high" and hi is not None and v > hi) or (
            direction == "low" and lo is not None and v < lo
        ):
            out.append(side)
    return out


# Plain-language templates per (metric, direction). {v}: value; {n}: normal range; {side}: side note.
_TEXT: dict[tuple[str, str], str] = {
    ("cadence_spm", "low"): "Your cadence is {v}: fewer, longer steps than the usual {n}. A slightly quicker "
    "step usually shortens the stride and softens the landing.",
    (
        "cadence_spm",
        "high",
    ): "Your cadence is {v}, above the usual {n}. Rarely a problem on its own; check the "
    "steps are not short and choppy.",
    (
        "overstride_cm",
        "high",
    ): "Your foot lands {v} ahead of your hips{side} (normal {n}). Landing far in front "
    "of the body acts as a brake on every step.",
    (
        "overstride_pct_leg",
        "high",
    ): "Your foot lands {v} of a leg length ahead of your hips{side} (normal {n}): "
    "overstriding, a brake on every step.",
    (
        "shank_angle_ic_deg",
        "high",
    ): "At landing your shin tilts forward {v}{side} (normal {n}): the foot reaches "
    "out in front of the knee, a sign of overstriding.",
    (
        "knee_flexion_ic_deg",
        "low",
    ): "Your knee is nearly straight when the foot lands ({v}{side}; normal {n}). "
    "A straight-knee landing sends more impact up the leg.",
    ("knee_flexion_ic_deg", "high"): "Your knee is deeply bent at landing ({v}{side}; normal {n}).",
    ("knee_flexion_stance_peak_deg", "low"): "Your knee bends only {v} while the foot is on the ground{side} "
    "(normal {n}): stiff-legged, less shock absorption.",
    (
        "knee_flexion_stance_peak_deg",
        "high",
    ): "Your knee bends {v} under load{side} (normal {n}): sinking into "
    "each step costs energy and loads the knee.",
    ("hip_extension_peak_deg", "low"): "Your leg reaches only {v} behind you at push-off{side} (normal {n}): "
    "less drive from the glutes.",
    (
        "hip_flexion_swing_peak_deg",
        "low",
    ): "Your knee lift is small ({v}{side}; normal {n}), leaving less range to push back into.",
    ("knee_flexion_swing_peak_deg", "low"): "Your heel stays low in swing ({v}{side}; normal {n}): a longer "
    "lever to swing through.",
    ("trunk_lean_deg", "high"): "Your trunk leans forward {v} (normal {n}).",
    ("trunk_lean_deg", "low"): "Your trunk is upright or leaning back ({v}; normal {n}).",
    ("body_lean_deg", "high"): "Your whole body leans forward {v} at midstance (normal {n}).",
    ("body_lean_deg", "low"): "Your body is upright or leaning back at midstance ({v}; normal {n}).",
    ("hip_hinge_deg", "high"): "Much of your lean comes from bending at the hips ({v}; normal {n}).",
    ("hip_hinge_deg", "low"): "Your lean does not come from the hips ({v}; normal {n}).",
    (
        "vertical_oscillation_cm",
        "high",
    ): "You bounce {v} per step{side} (normal {n}): energy goes up instead of forward.",
    (
        "vertical_ratio_pct",
        "high",
    ): "Your bounce is {v} of your step length{side} (normal {n}): energy goes up instead of forward.",
    ("contact_time_ms", "high"): "Your feet stay on the ground {v} per step{side} (normal {n}); light feet "
    "spend less time on the ground.",
    ("duty_factor", "high"): "Your feet are on the ground for {v} of each stride (normal {n}).",
    ("pelvic_drop_deg", "high"): "Your pelvis drops {v} on the side of the swinging leg{side} (normal {n}): "
    "a sign of weak hip abductors (gluteus medius).",
    ("lateral_sway_cm", "high"): "Your hips sway {v} side to side per stride (normal {n}).",
    ("step_width_cm", "low"): "Your feet land close to or across the midline ({v}; normal {n}).",
    ("symmetry_index_pct", "high"): "Your ground contact time differs between the left and right foot "
    "by {v} (normal {n}).",
    ("knee_frontal_angle_deg", "high"): "Your knee falls inward {v} in stance{side} (normal {n}).",
}


def status_words(ev: dict[str, Any]) -> str:
    """A metric's verdict in the one vocabulary ("above normal", "in range", …; "" without a
    range), with the side it rests on when the mean is inside the range: "above normal (left)"."""
    status = ev.get("status")
    if not status or status == Status.NO_RANGE:
        return ""
    only = ev.get("only")
    return f"{words(status)} ({only})" if only else words(status)


def unsure_labels(evidence: dict[str, dict[str, Any]]) -> list[str]:
    """The metrics the evidence gate could give no verdict ("not enough evidence"), in contract
    order: a summary with nothing flagged names them instead of calling everything normal."""
    return _labels(evidence, Status.NOT_ENOUGH_EVIDENCE)


def at_limit_labels(evidence: dict[str, dict[str, Any]]) -> list[str]:
    """The metrics the evidence gate found "at the limit" (inside the range, but nearer a limit
    than they may be off), in contract order: neither flagged nor "in range", so a summary with
    nothing flagged names them too."""
    return _labels(evidence, Status.AT_LIMIT)


def _labels(evidence: dict[str, dict[str, Any]], status: Status) -> list[str]:
    ids = [m for m, e in evidence.items() if (e or {}).get("status") == status]
    return [catalog.info(m).label for m in catalog.sorted_ids(ids)]


def finding_text(
    metric_id: str, m: dict[str, Any], direction: str, units: Units, only: str | None = None
) -> str:
    """One plain sentence about a flagged metric, in display units. ``only``: the side the flag
    rests on while the mean is inside the range (the evidence gate's ``only``): that side's value
    is quoted, not the mean."""
    unit = m.get("unit", "")
    label = catalog.info(metric_id).label
    if direction == "asymmetric":
        si = metric_si(m)
        diff = f" — a difference of {units.value(si, '%')}" if si is not None else ""
        return (
            f"{label} differs between sides: left {units.value(m.get('left'), unit)}, "
            f"right {units.value(m.get('right'), unit)}{diff}."
        )
    v = m.get("value")
    if not is_number(v):
        v = m.get("left") if is_number(m.get("left")) else m.get("right")
    normal = units.range(m.get("normal"), unit) or "no clinic range"
    sides = _sides_out(m, direction)
    side_note = f", mostly on the {sides[0]}" if len(sides) == 1 else ""
    if only in ("left", "right") and is_number(m.get(only)):
        v, side_note = m[only], f" on the {only}"
    template = _TEXT.get((metric_id, direction))
    if template is None:
        word = {"high": "above", "low": "below"}.get(direction)
        if word:
            return f"{label} is {units.value(v, unit)}{side_note}, {word} the normal {normal}."
        reason = f" ({m['reason']})" if m.get("reason") else ""
        return f"{label} ({units.value(v, unit)}) was flagged{reason}."
    return template.format(v=units.value(v, unit), n=normal, side=side_note)


def rank_findings(
    metrics: dict[str, dict[str, Any]], units: Units, evidence: dict[str, dict[str, Any]] | None = None
) -> list[Finding]:
    """All flagged metrics as findings, most important first (one per family first, then the
    rest). ``evidence``: the gate's verdicts (``quality.evidence``), for the side a flag rests on."""
    found: list[Finding] = []
    for mid, m in metrics.items():
        direction = flag_direction(m)
        if direction is None:
            continue
        score = catalog.info(mid).importance * (1.0 + _deviation(m, direction))
        only = ((evidence or {}).get(mid) or {}).get("only")
        found.append(Finding(mid, direction, score, finding_text(mid, m, direction, units, only)))
    found.sort(key=lambda f: (-f.score, catalog.sorted_ids(list(metrics)).index(f.metric_id)))
    heads: list[Finding] = []
    rest: list[Finding] = []
    seen: set[str] = set()
    for f in found:
        fam = catalog.info(f.metric_id).family
        (rest if fam in seen else heads).append(f)
        seen.add(fam)
    return heads + rest


def good_points(
    metrics: dict[str, dict[str, Any]],
    units: Units,
    limit: int = 3,
    evidence: dict[str, dict[str, Any]] | None = None,
) -> list[str]:
    """What is within the normal range, most important first: the summary when nothing is flagged.
    With the evidence gate's verdicts (``quality.evidence``) only metrics it calls "in range" (not
    one "at the limit": inside the range by less than it may be off)."""
    cands = []
    for mid, m in metrics.items():
        v = m.get("value")
        lo, hi = _bounds(m)
        if m.get("flag") or not is_number(v) or (lo is None and hi is None):
            continue
        if evidence is not None and (evidence.get(mid) or {}).get("status") != Status.IN_RANGE:
            continue
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            continue
        cands.append((catalog.info(mid).importance, mid, m))
    cands.sort(key=lambda c: -c[0])
    out: list[str] = []
    seen: set[str] = set()
    for _, mid, m in cands:
        fam = catalog.info(mid).family
        if fam in seen:
            continue
        seen.add(fam)
        unit = m.get("unit", "")
        out.append(
            f"{catalog.info(mid).label} {units.value(m['value'], unit)} is within the normal "
            f"{units.range(m.get('normal'), unit)}."
        )
        if len(out) >= limit:
            break
    return out


def reason_text(reason: Any) -> str:
    """A null metric's reason as shown after "not measurable —": the engine's words without a
    leading "not measured:" (the page already says it), or a generic reason when none was given."""
    text = str(reason or "").strip() or "not enough valid strides"
    for prefix in ("not measured:", "not measurable:", "not measured -", "not measurable -"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :].strip()
    return text


def _distance_to_range(v: float, normal: Any) -> float | None:
    if not normal or len(normal) != 2:
        return None
    lo, hi = normal
    if not (is_number(lo) or is_number(hi)):
        return None
    if is_number(lo) and v < lo:
        return lo - v
    if is_number(hi) and v > hi:
        return v - hi
    return 0.0


@dataclass(frozen=True)
class Change:
    """A metric before → after. ``verdict``: "changed" (|Δ| beyond the stride-to-stride noise),
    "within noise", "cannot tell" (no sd on one side, or a capture whose findings are withheld)
    or "not measurable" (no value on one side); ``noise`` is the pooled stride-to-stride sd
    √((sd_a² + sd_b²)/2); ``trend`` says whether the value moved "toward normal" or "away from
    normal" (None when its distance to the range did not change, there is no range, or the
    change is not one); ``why``: for "cannot tell", the reason in a few words."""

    delta: float | None
    noise: float | None
    verdict: str
    trend: str | None
    why: str | None = None

    @property
    def beyond_noise(self) -> bool:
        return self.verdict == "changed"


def compare_metric(
    before: dict[str, Any] | None, after: dict[str, Any] | None, withheld: str | None = None
) -> Change:
    """The one before/after rule, used by the printed comparison and the dashboard alike: a
    difference counts as a change only when it is larger than the runner's own stride-to-stride
    variation (pooled sd of the two sessions). ``withheld``: why one of the two captures gives no
    findings (:func:`withheld_between`); its numbers are shown, no change is read from them."""
    x, y = before or {}, after or {}
    va, vb = x.get("value"), y.get("value")
    if not (is_number(va) and is_number(vb)):
        return Change(None, None, "not measurable", None)
    delta = float(vb) - float(va)
    sa, sb = x.get("sd"), y.get("sd")
    noise = math.sqrt((sa * sa + sb * sb) / 2.0) if is_number(sa) and is_number(sb) else None
    if withheld:  # the reason in full is said once, above the rows
        return Change(delta, noise, "cannot tell", None, WITHHELD_ROW)
    if noise is None:
        return Change(delta, None, "cannot tell", None, "no stride-to-stride SD")
    if abs(delta) <= noise:
        return Change(delta, noise, "within noise", None)
    normal = y.get("normal") or x.get("normal")
    trend = None
    da, db = _distance_to_range(va, normal), _distance_to_range(vb, normal)
    if da is not None and db is not None and abs(da - db) > 1e-9:
        trend = "toward normal" if db < da else "away from normal"
    return Change(delta, noise, "changed", trend)


#: A comparison row's reason when one capture gives no findings (the full one heads the table).
WITHHELD_ROW = "findings withheld (see above)"


def withheld_between(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str | None:
    """Why no change can be read between two reviewed analyses: the first capture whose findings
    are withheld (``quality.withheld``), named; None when both give findings."""
    for name, a in (("before", before), ("after", after)):
        reasons = ((a or {}).get("quality") or {}).get("withheld") or []
        if reasons:
            return f"no findings from the {name} capture ({reasons[0]})"
    return None
