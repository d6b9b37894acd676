"""Running or walking? Decided from cues that do not depend on the event rules.

The contact/toe-off rules are built for running (see :mod:`.events`), so they cannot be used
to tell whether someone is running. Independent cues, each a vote:

- double support: in walking both feet are on the ground together for ~20% of the time
  (both ankles near their floor level); in running never (there is a flight phase instead);
- ankle lift: a running foot is kicked up behind (ankle rises ≥ ~27% of leg length above its
  floor); a walking foot clears the ground by much less (≤ ~22%);
- cadence: below ~140 steps/min is a walk for adults, above ~150 a run;
- pelvis phase: walking vaults over the stance leg (hips highest at mid-stance), running
  sinks into it (hips lowest at mid-stance).
"""

from __future__ import annotations

import numpy as np

from device.keypoints import KP


def ground_cues(xy_event: np.ndarray, leg_px: float) -> dict[str, float | None]:
    """double_support (fraction of frames with both ankles within 5% of leg length of their
    floor level) and ankle_lift (median over feet of 95th–5th percentile height ÷ leg)."""
    out: dict[str, float | None] = {"double_support": None, "ankle_lift": None}
    if not np.isfinite(leg_px) or leg_px <= 0:
        return out
    near = {}
    lifts = []
    for side in ("left", "right"):
        h = -xy_event[:, KP[f"{side}_ankle"], 1]
        ok = np.isfinite(h)
        if ok.sum() < 10:
            return out
        floor = float(np.percentile(h[ok], 5))
        near[side] = (h < floor + 0.05 * leg_px) & ok
        lifts.append((float(np.percentile(h[ok], 95)) - floor) / leg_px)
        near[side + "_ok"] = ok
    both = near["left_ok"] & near["right_ok"]
    if both.sum() >= 10:
        out["double_support"] = float(np.mean(near["left"][both] & near["right"][both]))
    out["ankle_lift"] = float(np.median(lifts))
    return out


def classify(
    double_support: float | None, ankle_lift: float | None, cadence_spm: float | None, hip_phase: float | None
) -> tuple[str, dict[str, int]]:
    """("running" | "walking" | "unknown", the votes) from the cues (None = no vote)."""
    votes: dict[str, int] = {}
    if double_support is not None:
        if double_support >= 0.04:
            votes["double_support"] = -1
        elif double_support < 0.015:
            votes["double_support"] = 1
    if ankle_lift is not None:
        if ankle_lift < 0.24:
            votes["ankle_lift"] = -1
        elif ankle_lift > 0.27:
            votes["ankle_lift"] = 1
    if cadence_spm is not None:
        if cadence_spm < 140:
            votes["cadence"] = -1
        elif cadence_spm > 150:
            votes["cadence"] = 1
    if hip_phase is not None and abs(hip_phase) > 0.15:
        votes["hip_phase"] = 1 if hip_phase < 0 else -1
    s = sum(votes.values())
    return ("running" if s > 0 else "walking" if s < 0 else "unknown"), votes
