"""A complete analysis dict (schema of device.gait.types) for page and API tests."""

from __future__ import annotations

import math
from typing import Any

from device.gait.types import Analysis, GaitEvent, Metric


def _curve(offset: float) -> dict[str, Any]:
    mean = [round(20 + offset + 40 * math.sin(math.pi * i / 100) ** 2, 2) for i in range(101)]
    return {"mean": mean, "sd": [3.0] * 101}


def make_analysis(
    cadence: float = 172.0, overstride: float = 12.0, sd: float = 1.0, n: int = 40
) -> dict[str, Any]:
    metrics = {
        "cadence_spm": Metric(cadence, "spm", sd=2.0, n=n, normal=(170.0, 185.0)),
        "contact_time_ms": Metric(250.0, "ms", left=248.0, right=252.0, sd=12.0, n=n, normal=(180.0, 280.0)),
        "overstride_cm": Metric(
            overstride,
            "cm",
            left=overstride - 1,
            right=overstride + 1,
            sd=sd,
            n=n,
            flag="high",
            normal=(None, 8.0),
        ),
        "knee_flexion_ic_deg": Metric(14.0, "deg", left=13.0, right=15.0, sd=2.0, n=n, normal=(10.0, 25.0)),
        "pelvic_drop_deg": Metric.unmeasurable("deg", "side view only: pelvic drop needs a rear camera"),
    }
    a = Analysis(
        cadence_spm=cadence,
        events=[GaitEvent("left", "initial_contact", 0.5, 15), GaitEvent("left", "toe_off", 0.75, 22)],
        metrics=metrics,
        quality={
            "frames_analysed": 3600,
            "effective_fps": 29.8,
            "swaps_corrected": 2,
            "strides_used": n,
            "strides_rejected": 1,
            "verdict": "Good capture",
        },
        input={"source": "test"},
        activity="running",
        view={"kind": "side", "facing": "right"},
        curves={"knee_flexion": {"left": _curve(0), "right": _curve(2)}},
        cadence_series=[[float(t), cadence + (t % 3) - 1] for t in range(5, 120, 5)],
        evidence=[
            {
                "side": "left",
                "phase": "initial_contact",
                "t": 0.5,
                "frame": 15,
                "angles": {"knee_flexion_ic_deg": 13.0, "overstride_cm": overstride - 1},
            }
        ],
        cues=[
            {
                "metric": "overstride_cm",
                "flag": "high",
                "title": "Land closer to your hips",
                "cue": "Think 'quick feet'.",
                "drills": ["A-skips"],
            }
        ],
    )
    d = a.to_dict()
    # a 2-minute side-view capture at 30 fps as the engine (schema 2) stores it: the near leg
    # known, per-side counts and spreads, so the flags have their evidence
    d["schema_version"] = 2
    d["view"]["detected"] = "side"
    for m in d["metrics"].values():
        if m.get("left") is not None:
            m.update(n_left=n // 2, n_right=n - n // 2, sd_left=m["sd"], sd_right=m["sd"])
    d["quality"].update(
        duration_s=120.0,
        steps_used=2 * n,
        strides_used=n,
        near_side="right",
        verdict_code="good",
        issues=[],
        verdict="good",
    )
    return d
