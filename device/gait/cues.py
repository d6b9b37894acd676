"""Coaching cues for flagged metrics.

The coaching profile changes what the station *says*, never what it measures:
- ``neutral``: describes the finding and offers the common drills, takes no side on lean;
- ``ankle_lean``: "run tall", lean from the ankles, hips under the shoulders;
- ``hip_hinge``: hips slightly back, trunk inclined forward, straight line from the push-off
  foot to the head.
Each cue: ``{"metric", "flag", "title", "cue", "drills": [...]}``.
"""

from __future__ import annotations

from device.gait.norms import Norms
from device.gait.types import Metric

PROFILES = ("neutral", "ankle_lean", "hip_hinge")

# (metric, flag) -> title, cue per profile (None: same as neutral), drills
_LIBRARY: dict[tuple[str, str], dict] = {
    ("cadence_spm", "low"): {
        "title": "Low cadence",
        "cue": {
            "neutral": "Take quicker, shorter steps: raise cadence by 5–10 % with the metronome, same speed.",
            "ankle_lean": "Quick light steps under a tall body: metronome at +5–10 %.",
            "hip_hinge": "Quick steps with the hips slightly back: metronome at +5–10 %.",
        },
        "drills": ["metronome runs at +5 % for 3 × 3 min", "quick-feet drill 3 × 20 s", "A-skips 3 × 20 m"],
    },
    ("overstride_cm", "high"): {
        "title": "Overstriding",
        "cue": {
            "neutral": "Land with the foot closer under the hips; shorter, quicker steps.",
            "ankle_lean": "Run tall and let the foot land under you, not out in front.",
            "hip_hinge": "Keep the hips back and the foot landing under the knee.",
        },
        "drills": [
            "cadence +5–10 % with the metronome",
            "A-skips 3 × 20 m",
            "wall drill: lean and step under",
        ],
    },
    ("overstride_pct_leg", "high"): {
        "title": "Foot lands far ahead of the hips",
        "cue": {
            "neutral": "Land with the foot closer under the hips.",
            "ankle_lean": None,
            "hip_hinge": None,
        },
        "drills": ["cadence +5–10 % with the metronome", "A-skips 3 × 20 m"],
    },
    ("shank_angle_ic_deg", "high"): {
        "title": "Shin reaching forward at landing",
        "cue": {
            "neutral": "Let the shin be closer to vertical at landing: the foot lands under the knee.",
            "ankle_lean": None,
            "hip_hinge": None,
        },
        "drills": ["A-skips 3 × 20 m", "straight-leg bounds (pawing back) 3 × 20 m"],
    },
    ("knee_flexion_ic_deg", "low"): {
        "title": "Landing on a straight knee",
        "cue": {
            "neutral": "Land with a soft, slightly bent knee.",
            "ankle_lean": "Run tall but soft: knee slightly bent as the foot touches.",
            "hip_hinge": "Sit slightly into the hips so the knee is bent at landing.",
        },
        "drills": ["soft-landing hops 3 × 20", "cadence +5 % with the metronome"],
    },
    ("knee_flexion_stance_peak_deg", "high"): {
        "title": "Deep knee bend in stance",
        "cue": {
            "neutral": "Stay a little taller through the stance; quicker contacts.",
            "ankle_lean": None,
            "hip_hinge": "Hinge at the hips rather than sinking at the knees.",
        },
        "drills": ["pogo jumps 3 × 20", "single-leg squats 3 × 8 per side"],
    },
    ("hip_extension_peak_deg", "low"): {
        "title": "Little hip extension at push-off",
        "cue": {
            "neutral": "Drive the leg back with the glutes; finish the push behind you.",
            "ankle_lean": None,
            "hip_hinge": "From the hinge, push the ground away behind you.",
        },
        "drills": ["glute bridges 3 × 12", "hip-flexor stretch 2 × 30 s per side", "B-skips 3 × 20 m"],
    },
    ("hip_flexion_swing_peak_deg", "low"): {
        "title": "Low knee lift",
        "cue": {
            "neutral": "Bring the knee forward and up a little more in swing.",
            "ankle_lean": None,
            "hip_hinge": None,
        },
        "drills": ["A-marches and A-skips 3 × 20 m", "high-knees 3 × 15 s"],
    },
    ("trunk_lean_deg", "high"): {
        "title": "Strong forward trunk lean",
        "cue": {
            "neutral": "Lift the chest a little; the lean should not bend you at the waist.",
            "ankle_lean": "Run tall: hips under the shoulders, lean from the ankles.",
            "hip_hinge": "Keep the hinge but a straight line from the push-off foot to the head.",
        },
        "drills": ["wall lean drill 3 × 20 s", "plank 3 × 30 s"],
    },
    ("trunk_lean_deg", "low"): {
        "title": "Upright or backward trunk",
        "cue": {
            "neutral": "Let the body incline slightly forward.",
            "ankle_lean": "Fall slightly forward from the ankles, body straight.",
            "hip_hinge": "Hinge slightly at the hips, trunk inclined forward.",
        },
        "drills": ["wall lean drill 3 × 20 s", "falling starts 4 × 15 m"],
    },
    ("vertical_oscillation_cm", "high"): {
        "title": "Bouncing",
        "cue": {
            "neutral": "Run forward, not up: imagine running under a low ceiling.",
            "ankle_lean": "Tall and quick: push forward, not up.",
            "hip_hinge": "Run through a tunnel: the slight hinge keeps you lower.",
        },
        "drills": ["cadence +5 % with the metronome", "quick-feet drill 3 × 20 s"],
    },
    ("vertical_ratio_pct", "high"): {
        "title": "Much vertical motion per step",
        "cue": {
            "neutral": "Turn the bounce into forward motion: quicker, lower steps.",
            "ankle_lean": None,
            "hip_hinge": None,
        },
        "drills": ["cadence +5 % with the metronome"],
    },
    ("contact_time_ms", "high"): {
        "title": "Long ground contact",
        "cue": {"neutral": "Light, quick feet: the ground is hot.", "ankle_lean": None, "hip_hinge": None},
        "drills": ["pogo jumps 3 × 20", "skipping rope 3 × 30 s", "cadence +5 % with the metronome"],
    },
    ("symmetry_index_pct", "high"): {
        "title": "Left/right imbalance",
        "cue": {
            "neutral": "One side stays on the ground longer: check for pain, weakness or an old injury.",
            "ankle_lean": None,
            "hip_hinge": None,
        },
        "drills": ["single-leg balance 3 × 30 s per side", "single-leg calf raises 3 × 12 per side"],
    },
    ("pelvic_drop_deg", "high"): {
        "title": "Pelvic drop",
        "cue": {
            "neutral": "Keep the hips level as you land: strong standing-leg glute.",
            "ankle_lean": None,
            "hip_hinge": None,
        },
        "drills": [
            "glute bridges 3 × 12",
            "clamshells 3 × 15 per side",
            "side planks 3 × 30 s",
            "single-leg squats 3 × 8 per side",
        ],
    },
    ("lateral_sway_cm", "high"): {
        "title": "Side-to-side sway",
        "cue": {
            "neutral": "Run along a line: keep the body moving straight ahead.",
            "ankle_lean": None,
            "hip_hinge": None,
        },
        "drills": ["side planks 3 × 30 s", "lateral band walks 3 × 15 steps"],
    },
    ("step_width_cm", "low"): {
        "title": "Crossover gait",
        "cue": {
            "neutral": "Land each foot on its own side of an imaginary line.",
            "ankle_lean": None,
            "hip_hinge": None,
        },
        "drills": ["running on a line with feet either side 3 × 1 min", "lateral band walks 3 × 15 steps"],
    },
    ("knee_frontal_angle_deg", "high"): {
        "title": "Knee caves inward",
        "cue": {"neutral": "Keep the knee over the foot as you land.", "ankle_lean": None, "hip_hinge": None},
        "drills": ["clamshells 3 × 15 per side", "single-leg squats in front of a mirror 3 × 8"],
    },
}


# Metrics that say the same thing get one cue (the first flagged of the family, in this order):
# overstriding shows as overstride in cm, in % of leg length and as the shin angle at landing.
FAMILIES: tuple[tuple[str, ...], ...] = (("overstride_cm", "overstride_pct_leg", "shank_angle_ic_deg"),)
_FAMILY_OF = {mid: fam for fam in FAMILIES for mid in fam}


def build_cues(
    metrics: dict[str, Metric], norms: Norms | None, profile: str = "neutral", activity: str = "running"
) -> list[dict]:
    """Cues for every flagged metric, one per family (none for walking: the running norms don't
    apply). ``metrics`` should carry the evidence gate's flags (:mod:`device.gait.evidence`)."""
    if profile not in PROFILES:
        raise ValueError(f"coaching profile must be one of {', '.join(PROFILES)}")
    if activity == "walking":
        return []
    out = []
    # the one metric that speaks for each family: its first flagged member
    speaker = {fam: next((k for k in fam if k in metrics and metrics[k].flag), None) for fam in FAMILIES}
    for mid, m in metrics.items():
        if not m.flag:
            continue
        if mid in _FAMILY_OF and speaker[_FAMILY_OF[mid]] != mid:
            continue
        entry = _LIBRARY.get((mid, m.flag))
        rng = norms.get(mid) if norms else None
        finding = rng.text(m.flag) if rng else None
        if entry is None:
            if finding:
                out.append({"metric": mid, "flag": m.flag, "title": finding, "cue": finding, "drills": []})
            continue
        cue = entry["cue"].get(profile) or entry["cue"]["neutral"]
        if mid == "cadence_spm" and m.flag == "low" and m.value:
            # A number the runner can set the metronome to beats a percentage.
            cue += f" Target about {round(m.value * 1.05)}–{round(m.value * 1.10)} spm."
        out.append(
            {
                "metric": mid,
                "flag": m.flag,
                "title": entry["title"],
                "cue": (f"{finding}. {cue}" if finding else cue),
                "drills": list(entry["drills"]),
            }
        )
    return out
