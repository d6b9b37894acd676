"""Built-in coaching cues: the fallback when the gait engine gives no cue for a flagged metric.

The engine (``analysis.cues``) is the first source of cues; this small table only fills gaps so a
flagged metric never appears on paper without advice. The clinic's coaching profile
(``cfg.station.coaching_profile``: ``neutral`` | ``ankle_lean`` | ``hip_hinge``) changes the
posture advice — "run tall, lean from the ankles" versus "hinge at the hips" — never the numbers.
"""

from __future__ import annotations

from typing import Any

from device.report.units import is_number

PROFILES = ("neutral", "ankle_lean", "hip_hinge")

# Posture advice per coaching profile (used by several metrics).
_POSTURE = {
    "neutral": (
        "Find your forward lean",
        "Lean slightly forward as a whole, not by folding at the waist or leaning back. "
        "Whether the lean comes from the ankles or a small hip hinge is your coach's call.",
        ["Wall lean: body straight, fall forward from the ankles, 5 × 5 s",
         "Strides with a tall chest, 4 × 20 s"],
    ),
    "ankle_lean": (
        "Run tall",
        "Stack shoulders over hips and lean the whole body slightly forward from the ankles, "
        "as if a string pulls the top of your head up and forward.",
        ["Wall lean: body straight, fall forward from the ankles, 5 × 5 s",
         "Tall-posture strides, 4 × 20 s"],
    ),
    "hip_hinge": (
        "Hinge at the hips",
        "Hips slightly back, chest forward: one straight line from the pushing-off foot to the head.",
        ["Hip-hinge drill with a dowel along the spine, 2 × 10",
         "Light Romanian deadlifts, 3 × 8",
         "Hinged strides, 4 × 20 s"],
    ),
}

_ABDUCTORS = ["Glute bridges, 3 × 12", "Clamshells, 3 × 15 each side",
              "Side-lying leg raises, 3 × 12 each side", "Single-leg stance, 3 × 30 s each side"]


def _cadence_target(value: Any) -> str:
    if is_number(value) and value > 0:
        return f"about {round(value * 1.05)}–{round(value * 1.10)} spm"
    return "5–10% more steps per minute"


def builtin_cue(metric_id: str, direction: str, value: Any, profile: str = "neutral") -> dict[str, Any] | None:
    """A cue ``{metric, flag, title, cue, drills}`` for a flagged metric, or None when there is none.

    ``direction`` is "high", "low" or "asymmetric"; ``value`` is the metric's value in analysis
    units (used for a concrete cadence target)."""
    if profile not in PROFILES:
        profile = "neutral"
    title: str | None = None
    cue = ""
    drills: list[str] = []
    posture_title, posture_cue, posture_drills = _POSTURE[profile]

    if direction == "asymmetric" or (metric_id == "symmetry_index_pct" and direction == "high"):
        title = "Even out left and right"
        cue = ("One side works differently from the other. Ask about old injuries, and strengthen "
               "the weaker side first.")
        drills = ["Single-leg glute bridges, weaker side first, 3 × 10",
                  "Single-leg hops in place, 3 × 20 each side"]
    elif metric_id in ("cadence_spm", "step_time_ms", "step_length_cm") and (
        (metric_id == "cadence_spm" and direction == "low") or (metric_id != "cadence_spm" and direction == "high")
    ):
        title = "Quicken your step"
        target = _cadence_target(value) if metric_id == "cadence_spm" else "5–10% more steps per minute"
        cue = (f"Raise cadence by 5–10% ({target}) with the metronome: same speed, shorter and "
               "quicker steps.")
        drills = ["Metronome runs: 3 × 3 min at +5%, then +10%", "Quick-feet drill, 4 × 15 s"]
    elif metric_id in ("overstride_cm", "overstride_pct_leg", "shank_angle_ic_deg") and direction == "high":
        title = "Land under your body"
        if profile == "ankle_lean":
            cue = ("Run tall and lean slightly from the ankles so the foot lands under you, not in "
                   "front of you. A 5% quicker cadence helps.")
        elif profile == "hip_hinge":
            cue = ("Hinge slightly at the hips and let the foot land beneath the hips as the body "
                   "passes over it. A 5% quicker cadence helps.")
        else:
            cue = ("Let the foot land closer under the hips. A 5–10% quicker cadence (metronome) "
                   "usually does this on its own.")
        drills = ["A-skips, 3 × 20 m", "Wall-lean marches, 3 × 20", "Metronome runs at +5% cadence"]
    elif metric_id == "knee_flexion_ic_deg" and direction == "low":
        title = "Soft knee at landing"
        cue = "Land with a slightly bent knee, as if stepping down off a low kerb; don't reach with the foot."
        drills = ["A-skips, 3 × 20 m", "Single-leg squats to a box, 3 × 8 each side"]
    elif metric_id == "knee_flexion_stance_peak_deg" and direction == "high":
        title = "Stiffer spring"
        cue = "Think 'quick off the ground': less sinking into each step."
        drills = ["Pogo hops, 3 × 20", "Skipping rope, 3 × 30 s"]
    elif metric_id == "knee_flexion_stance_peak_deg" and direction == "low":
        title = "Absorb the landing"
        cue = "Let the knee give a little under load instead of landing stiff-legged."
        drills = ["Single-leg squats, 3 × 8 each side", "Soft-landing drop squats, 3 × 8"]
    elif metric_id == "hip_extension_peak_deg" and direction == "low":
        title = "Drive from the glutes"
        cue = "Push the ground back behind you and let the leg finish behind the body."
        drills = ["Glute bridges, 3 × 12", "Kneeling hip-flexor stretch, 2 × 30 s each side",
                  "Wall drives, 3 × 10 each side"]
    elif metric_id in ("hip_flexion_swing_peak_deg", "hip_flexion_ic_deg") and direction == "low":
        title = "Knee drive"
        cue = "Bring the knee forward and up in swing; it gives the leg more range to push back into."
        drills = ["A-skips, 3 × 20 m", "High knees, 3 × 15 s"]
    elif metric_id == "knee_flexion_swing_peak_deg" and direction == "low":
        title = "Heel recovery"
        cue = "Let the heel come up under the hip after push-off: a shorter lever swings through faster."
        drills = ["Butt kicks, 3 × 20 m", "B-skips, 3 × 20 m"]
    elif metric_id in ("trunk_lean_deg", "body_lean_deg", "hip_hinge_deg"):
        title, cue, drills = posture_title, posture_cue, list(posture_drills)
    elif metric_id in ("vertical_oscillation_cm", "vertical_ratio_pct", "head_drop_cm") and direction == "high":
        title = "Run through a tunnel"
        cue = "Imagine a low ceiling: push forward, not up. A slightly quicker cadence reduces bounce."
        if profile == "hip_hinge":
            cue += " A small hip hinge lowers you about an inch."
        drills = ["Low-ceiling strides, 4 × 20 s", "Metronome runs at +5% cadence"]
    elif metric_id in ("contact_time_ms", "duty_factor") and direction == "high":
        title = "Light feet"
        cue = "Think 'hot ground': lift the foot as soon as it lands."
        drills = ["Pogo hops, 3 × 20", "Skipping rope, 3 × 30 s", "A-skips, 3 × 20 m"]
    elif metric_id in ("pelvic_drop_deg", "lateral_sway_cm") and direction == "high":
        title = "Level pelvis"
        cue = ("Keep the pelvis level: imagine headlights on both hip bones shining straight ahead. "
               "Strengthen the hip abductors (gluteus medius).")
        drills = list(_ABDUCTORS)
    elif metric_id == "step_width_cm" and direction == "low":
        title = "Run on two rails"
        cue = "Land each foot on its own side of an imaginary line on the belt; don't cross over."
        drills = ["Line-straddle strides, 4 × 20 s", "Clamshells, 3 × 15 each side"]
    elif metric_id == "knee_frontal_angle_deg" and direction == "high":
        title = "Knee over toes"
        cue = "Keep the knee tracking over the second toe when the foot is on the ground."
        drills = ["Single-leg squats in front of a mirror, 3 × 8", "Lateral band walks, 3 × 10 steps",
                  "Clamshells, 3 × 15 each side"]
    if title is None:
        return None
    return {"metric": metric_id, "flag": direction, "title": title, "cue": cue, "drills": drills,
            "source": "built-in"}
