"""The metric ids of the contract (shared/docs/gait-metrics.md), their units, views and sides."""

from __future__ import annotations

# id -> (unit, sided)
SIDE_METRICS: dict[str, tuple[str, bool]] = {
    "cadence_spm": ("spm", False),
    "step_time_ms": ("ms", True),
    "contact_time_ms": ("ms", True),
    "flight_time_ms": ("ms", True),
    "duty_factor": ("ratio", True),
    "overstride_cm": ("cm", True),
    "overstride_pct_leg": ("%", True),
    "shank_angle_ic_deg": ("deg", True),
    "knee_flexion_ic_deg": ("deg", True),
    "knee_flexion_stance_peak_deg": ("deg", True),
    "knee_flexion_swing_peak_deg": ("deg", True),
    "hip_flexion_ic_deg": ("deg", True),
    "hip_extension_peak_deg": ("deg", True),
    "hip_flexion_swing_peak_deg": ("deg", True),
    "trunk_lean_deg": ("deg", False),
    "body_lean_deg": ("deg", True),
    "hip_hinge_deg": ("deg", True),
    "vertical_oscillation_cm": ("cm", True),
    "vertical_ratio_pct": ("%", True),
    "step_length_cm": ("cm", True),
    "head_drop_cm": ("cm", False),
}
FRONTAL_METRICS: dict[str, tuple[str, bool]] = {
    "pelvic_drop_deg": ("deg", True),
    "lateral_sway_cm": ("cm", False),
    "step_width_cm": ("cm", False),
    "knee_frontal_angle_deg": ("deg", True),
}
SYMMETRY = "symmetry_index_pct"
#: Side-view metrics timed by, or measured at, the moments of contact and toe-off (not the
#: step-to-step rhythm, which a constant offset of every contact leaves alone)
EVENT_INSTANT_METRICS = (
    "contact_time_ms",
    "flight_time_ms",
    "duty_factor",
    "overstride_cm",
    "overstride_pct_leg",
    "shank_angle_ic_deg",
    "knee_flexion_ic_deg",
    "knee_flexion_stance_peak_deg",
    "hip_flexion_ic_deg",
)
#: What a body can do, in degrees, for the angle metrics whose geometry can give more (2-D
#: projection and keypoint noise allowed for, with room to spare). A stride outside is a misread
#: picture (upside down, keypoints swapped), not a runner: the metric is not measurable. Knee
#: flexion (180° − an inner angle) cannot leave 0–180° and is not listed.
POSSIBLE_DEG: dict[str, tuple[float, float]] = {
    "shank_angle_ic_deg": (-90.0, 90.0),  # at contact the ankle is below the knee
    "trunk_lean_deg": (-90.0, 90.0),  # beyond, the head is below the hips
    "body_lean_deg": (-90.0, 90.0),  # beyond, the shoulders are below the stance ankle
    "hip_flexion_ic_deg": (-90.0, 150.0),  # a hip flexes to about 140° and extends to about 30°
    "hip_flexion_swing_peak_deg": (-90.0, 150.0),
    "hip_extension_peak_deg": (-150.0, 90.0),  # the same range, extension reported positive
    "hip_hinge_deg": (-90.0, 90.0),  # the trunk's lean beyond the body's
}
#: Metrics measured against the trunk line: not measurable when the trunk lean is impossible.
ON_THE_TRUNK = ("hip_flexion_ic_deg", "hip_extension_peak_deg", "hip_flexion_swing_peak_deg", "hip_hinge_deg")
#: Side-view metrics timed from contact to toe-off, or from one contact to the next (and what is
#: derived from those times): the event rules time running steps, and a step across a cut in
#: the video is not one step
STEP_TIMING_METRICS = (
    "step_time_ms",
    "contact_time_ms",
    "flight_time_ms",
    "duty_factor",
    "step_length_cm",
    "vertical_ratio_pct",
)
#: Side-view metrics measured on the stances and strides the contacts mark (all but the cadence,
#: which has its own estimates, and the trunk's lean, a mean over the whole run in effect): when
#: the contacts may be miscounted none of them is known
ON_THE_CONTACTS = tuple(m for m in SIDE_METRICS if m not in ("cadence_spm", "trunk_lean_deg", "head_drop_cm"))
#: Side-view lengths in pixels over the one leg length (pixels) of the whole clip: a cut to a
#: take where the runner is another size in the picture scales them wrong
LEG_SCALED_METRICS = ("overstride_cm", "overstride_pct_leg", "vertical_oscillation_cm")
#: Side-view metrics from the treadmill belt's speed (entered) times the step time
BELT_SPEED_METRICS = ("step_length_cm", "vertical_ratio_pct")
ALL_METRICS: dict[str, tuple[str, bool]] = {**SIDE_METRICS, **FRONTAL_METRICS, SYMMETRY: ("%", False)}
