"""What each contract metric is called on paper, where it goes, and how much it matters clinically.

Ids are exactly those of gait-metrics.md. A metric the engine adds later that is not listed here
still appears (group "Other", name derived from its id), so the report never hides a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MetricInfo:
    """How a metric is presented: ``label`` (clinic words), ``group`` (table section),
    ``importance`` (0–1, used to rank findings), ``family`` (metrics that say the same thing:
    only the strongest of a family becomes a headline finding), ``explain`` (one plain line)."""

    label: str
    group: str
    importance: float
    family: str
    explain: str


GROUPS: tuple[str, ...] = (
    "Rhythm and ground contact",
    "Landing",
    "Stance and push-off",
    "Swing",
    "Posture",
    "Bounce",
    "Symmetry",
    "Pelvis and knees (rear view)",
    "Other",
)

METRICS: dict[str, MetricInfo] = {
    "cadence_spm": MetricInfo("Cadence", GROUPS[0], 0.9, "cadence", "steps per minute"),
    "step_time_ms": MetricInfo(
        "Step time", GROUPS[0], 0.3, "cadence", "foot strike to the other foot's strike"
    ),
    "contact_time_ms": MetricInfo(
        "Ground contact time", GROUPS[0], 0.6, "contact", "how long each foot is on the ground"
    ),
    "flight_time_ms": MetricInfo("Flight time", GROUPS[0], 0.3, "contact", "both feet off the ground"),
    "duty_factor": MetricInfo("Duty factor", GROUPS[0], 0.45, "contact", "share of the stride on the ground"),
    "step_length_cm": MetricInfo("Step length", GROUPS[0], 0.3, "cadence", "belt speed × step time"),
    "overstride_cm": MetricInfo(
        "Overstride", GROUPS[1], 1.0, "overstride", "ankle ahead of the hip at landing"
    ),
    "overstride_pct_leg": MetricInfo(
        "Overstride (% leg length)", GROUPS[1], 0.85, "overstride", "overstride relative to leg length"
    ),
    "shank_angle_ic_deg": MetricInfo(
        "Shin angle at landing", GROUPS[1], 0.95, "shank", "shin from vertical; + = foot ahead of knee"
    ),
    "knee_flexion_ic_deg": MetricInfo(
        "Knee bend at landing", GROUPS[1], 0.9, "knee_ic", "0° = straight knee"
    ),
    "hip_flexion_ic_deg": MetricInfo(
        "Hip flexion at landing", GROUPS[1], 0.5, "hip_ic", "thigh forward of the trunk line"
    ),
    "knee_flexion_stance_peak_deg": MetricInfo(
        "Peak knee bend in stance", GROUPS[2], 0.55, "knee_stance", "shock absorption"
    ),
    "hip_extension_peak_deg": MetricInfo(
        "Hip extension at push-off", GROUPS[2], 0.65, "hip_ext", "thigh behind the trunk line"
    ),
    "knee_flexion_swing_peak_deg": MetricInfo(
        "Peak knee bend in swing", GROUPS[3], 0.35, "knee_swing", "heel recovery"
    ),
    "hip_flexion_swing_peak_deg": MetricInfo(
        "Knee lift (hip flexion in swing)", GROUPS[3], 0.4, "hip_swing", "knee drive"
    ),
    "trunk_lean_deg": MetricInfo(
        "Trunk lean", GROUPS[4], 0.6, "lean", "hip→shoulder from vertical; + = forward"
    ),
    "body_lean_deg": MetricInfo("Whole-body lean", GROUPS[4], 0.55, "lean", "ankle→shoulder at midstance"),
    "hip_hinge_deg": MetricInfo(
        "Hip hinge", GROUPS[4], 0.5, "lean", "part of the lean that comes from the hips"
    ),
    "vertical_oscillation_cm": MetricInfo(
        "Vertical oscillation", GROUPS[5], 0.75, "bounce", "hip travel up and down per step"
    ),
    "vertical_ratio_pct": MetricInfo(
        "Vertical ratio", GROUPS[5], 0.7, "bounce", "bounce relative to step length"
    ),
    "head_drop_cm": MetricInfo(
        "Running height drop", GROUPS[5], 0.35, "tunnel", "how much lower than standing height you run"
    ),
    "symmetry_index_pct": MetricInfo(
        "Left/right symmetry index", GROUPS[6], 0.7, "symmetry", "0% = perfectly even"
    ),
    "pelvic_drop_deg": MetricInfo("Pelvic drop", GROUPS[7], 0.95, "pelvis", "hip-to-hip line tilt in stance"),
    "lateral_sway_cm": MetricInfo(
        "Lateral sway", GROUPS[7], 0.5, "sway", "side-to-side hip travel per stride"
    ),
    "step_width_cm": MetricInfo("Step width", GROUPS[7], 0.6, "width", "negative = feet cross the midline"),
    "knee_frontal_angle_deg": MetricInfo(
        "Knee alignment (valgus)", GROUPS[7], 0.85, "valgus", "+ = knee falls inward"
    ),
}

# Order of the contract table (gait-metrics.md), used wherever metrics are listed.
ORDER: tuple[str, ...] = tuple(METRICS)


def info(metric_id: str) -> MetricInfo:
    """Presentation info for a metric id, with a readable fallback for ids not in the contract yet."""
    found = METRICS.get(metric_id)
    if found is not None:
        return found
    words = metric_id
    for suffix in ("_deg", "_cm", "_ms", "_pct", "_spm"):
        if words.endswith(suffix):
            words = words[: -len(suffix)]
            break
    label = words.replace("_", " ").strip().capitalize() or metric_id
    return MetricInfo(label, "Other", 0.3, metric_id, "")


def sorted_ids(metric_ids: list[str] | tuple[str, ...] | set[str]) -> list[str]:
    """Metric ids in contract order, unknown ids last (alphabetical)."""
    known = [m for m in ORDER if m in metric_ids]
    extra = sorted(m for m in metric_ids if m not in METRICS)
    return known + extra


# Joint-angle curves (analysis.curves keys) as they are titled on charts.
CURVE_LABELS: dict[str, str] = {
    "knee_flexion": "Knee bend",
    "knee_flexion_deg": "Knee bend",
    "hip_flexion": "Hip flexion / extension",
    "hip_flexion_deg": "Hip flexion / extension",
    "hip": "Hip flexion / extension",
    "knee": "Knee bend",
    "trunk_lean": "Trunk lean",
    "trunk_lean_deg": "Trunk lean",
    "shank_angle": "Shin angle",
    "ankle": "Ankle",
}

# Curves shown on the report first, in this order (others follow, up to the chart budget).
CURVE_ORDER: tuple[str, ...] = ("knee_flexion", "knee", "hip_flexion", "hip", "trunk_lean", "shank_angle")


def curve_label(key: str) -> str:
    if key in CURVE_LABELS:
        return CURVE_LABELS[key]
    base = key[:-4] if key.endswith("_deg") else key
    return base.replace("_", " ").capitalize()


MISSING_REASON = "not in this analysis (made before this measurement existed)"


def complete_metrics(metrics: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """``metrics`` with every contract id present: an id the analysis lacks (one saved by an older
    version) is shown as not measurable with a reason rather than silently left out."""
    from device.gait.metric_ids import ALL_METRICS

    out = {k: v for k, v in (metrics or {}).items() if isinstance(v, dict)}
    for mid, (unit, _sided) in ALL_METRICS.items():
        if mid not in out:
            out[mid] = {
                "value": None,
                "left": None,
                "right": None,
                "sd": None,
                "n": 0,
                "unit": unit,
                "normal": None,
                "flag": None,
                "reason": MISSING_REASON,
            }
    return out


# Gait events and evidence-frame phases in clinic words (report captions, dashboard, receipt).
PHASE_LABELS: dict[str, str] = {"initial_contact": "Landing", "midstance": "Midstance", "toe_off": "Push-off"}

# Joint angles measured on an evidence frame (analysis.evidence[].angles keys), named as the
# metrics that come from them are.
ANGLE_LABELS: dict[str, str] = {
    "knee_flexion": "Knee bend",
    "hip_flexion": "Hip flexion",
    "hip_extension": "Hip extension",
    "shank": "Shin angle",
    "shank_angle": "Shin angle",
    "trunk_lean": "Trunk lean",
}


def phase_label(phase: str | None) -> str:
    return PHASE_LABELS.get(str(phase), str(phase or "").replace("_", " "))


def event_label(side: str | None, phase: str | None) -> str:
    """An evidence frame's name in clinic words: "Left landing", "Push-off (side unknown)"."""
    if side in ("left", "right"):
        return f"{side.capitalize()} {phase_label(phase).lower()}"
    return f"{phase_label(phase)} (side unknown)"


def angle_label(key: str) -> str:
    """An evidence-frame angle's name: a metric id's catalog label, else the joint-angle name."""
    if key in METRICS:
        return METRICS[key].label
    return ANGLE_LABELS.get(key) or curve_label(key)


def angle_reading(key: str, value: float) -> tuple[str, float]:
    """An evidence-frame angle as the frame's drawing and caption both name it: (name, degrees).
    A hip behind the trunk line (negative hip flexion) reads as hip extension, a positive
    number, as "Hip extension at push-off" does in the table, never as "hip flexion −12°"."""
    if key.startswith("hip_flexion") and value < 0:
        return ANGLE_LABELS["hip_extension"], -value
    return angle_label(key), value
