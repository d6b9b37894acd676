"""A hand-built analysis in the Analysis.to_dict() shape: exact, known numbers for formatting tests
(the engine-based tests live in test_report_engine.py)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

NORMS = Path(__file__).with_name("handmade_norms.toml")  # the ranges these numbers were written against


def norms_with_sides(folder: Path, *mids: str, base: Path = NORMS) -> Path:
    """A copy of the norms file ``base`` in ``folder`` whose ranges of ``mids`` apply to each
    side (``applies_to = "sides"``: one side outside it may be a finding), as a clinic may set."""
    text = base.read_text(encoding="utf-8")
    for mid in mids:
        head = f"[metrics.{mid}]\n"
        assert head in text, mid
        text = text.replace(head, head + 'applies_to = "sides"\n')
    out = folder / "clinic-norms.toml"
    out.write_text(text, encoding="utf-8")
    return out


def _curve(fn, sd: float) -> dict[str, list[float]]:
    mean = [round(fn(i / 100.0), 3) for i in range(101)]
    return {"mean": mean, "sd": [sd] * 101}


def knee(p: float, shift: float = 0.0) -> float:
    return (
        20 + shift + 22 * math.exp(-(((p - 0.15) / 0.08) ** 2)) + 88 * math.exp(-(((p - 0.68) / 0.14) ** 2))
    )


def hip(p: float, shift: float = 0.0) -> float:
    return 28 + shift - 45 * math.exp(-(((p - 0.42) / 0.16) ** 2)) + 12 * math.exp(-(((p - 0.85) / 0.1) ** 2))


def metric(
    value, unit, left=None, right=None, sd=None, n=0, flag=None, normal=None, reason=None
) -> dict[str, Any]:
    """One metric of schema 2: per-side counts and spreads split evenly when sided."""
    sided = left is not None or right is not None
    return {
        "value": value,
        "unit": unit,
        "left": left,
        "right": right,
        "sd": sd,
        "n": n,
        "n_left": n // 2 if sided else None,
        "n_right": n - n // 2 if sided else None,
        "sd_left": sd if sided else None,
        "sd_right": sd if sided else None,
        "flag": flag,
        "reason": reason,
        "normal": normal,
    }


def handmade_analysis(**overrides: Any) -> dict[str, Any]:
    metrics = {
        "cadence_spm": metric(158.4, "spm", sd=3.1, n=24, flag="low", normal=[170, 185]),
        "step_time_ms": metric(379.0, "ms", 378.0, 380.0, 9.0, 24),
        "contact_time_ms": metric(268.0, "ms", 262.0, 274.0, 11.0, 24, normal=[180, 300]),
        "flight_time_ms": metric(111.0, "ms", 113.0, 109.0, 10.0, 24),
        "duty_factor": metric(0.353, "ratio", 0.349, 0.357, 0.02, 24),
        "overstride_cm": metric(14.2, "cm", 15.6, 12.8, 2.3, 23, flag="high", normal=[None, 10]),
        "overstride_pct_leg": metric(16.1, "%", 17.7, 14.5, 2.6, 23, flag="high", normal=[None, 11]),
        "shank_angle_ic_deg": metric(9.4, "deg", 10.2, 8.6, 1.9, 23, flag="high", normal=[-2, 7]),
        "knee_flexion_ic_deg": metric(12.3, "deg", 11.8, 12.8, 2.4, 23, normal=[10, 25]),
        "knee_flexion_stance_peak_deg": metric(41.8, "deg", 42.5, 41.1, 2.9, 23, normal=[35, 50]),
        "knee_flexion_swing_peak_deg": metric(108.0, "deg", 109.0, 107.0, 4.0, 22),
        "hip_flexion_ic_deg": metric(31.0, "deg", 31.5, 30.5, 2.0, 23),
        "hip_extension_peak_deg": metric(14.6, "deg", 16.3, 12.9, 2.2, 22, normal=[10, 25]),
        "hip_flexion_swing_peak_deg": metric(44.0, "deg", 45.0, 43.0, 3.0, 22),
        "trunk_lean_deg": metric(7.8, "deg", sd=1.1, n=24, normal=[2, 12]),
        "body_lean_deg": metric(4.1, "deg", sd=1.0, n=24, normal=[2, 10]),
        "hip_hinge_deg": metric(3.7, "deg", sd=1.2, n=24),
        "vertical_oscillation_cm": metric(10.9, "cm", sd=0.8, n=24, flag="high", normal=[5, 10]),
        "vertical_ratio_pct": metric(None, "%", reason="needs the treadmill speed"),
        "step_length_cm": metric(None, "cm", reason="needs the treadmill speed"),
        "head_drop_cm": metric(3.2, "cm", sd=0.9, n=24),
        "pelvic_drop_deg": metric(None, "deg", reason="needs a rear view"),
        "lateral_sway_cm": metric(None, "cm", reason="needs a rear view"),
        "step_width_cm": metric(None, "cm", reason="needs a rear view"),
        "knee_frontal_angle_deg": metric(None, "deg", reason="needs a rear view"),
    }
    a: dict[str, Any] = {
        "schema_version": 2,
        "cadence_spm": 158.4,
        "activity": "running",
        "view": {"kind": "side", "facing": "right"},
        "events": [],
        "metrics": metrics,
        "curves": {
            "knee_flexion": {"left": _curve(knee, 4.0), "right": _curve(lambda p: knee(p, 3.0), 4.5)},
            "hip_flexion": {"left": _curve(hip, 3.0), "right": _curve(lambda p: hip(p, -2.0), 3.2)},
        },
        "cadence_series": [[5.0 * i, 156.0 + 4 * math.sin(i / 3.0)] for i in range(24)],
        "evidence": [
            {
                "side": "left",
                "phase": "initial_contact",
                "t": 12.34,
                "frame": 370,
                "angles": {"knee_flexion_deg": 11.8, "hip_flexion_deg": 31.5, "overstride_cm": 15.6},
            },
        ],
        "cues": [],
        "quality": {
            "frames_analysed": 3580,
            "duration_s": 120.1,
            "effective_fps": 29.8,
            "confidence": 0.87,
            "steps_used": 46,
            "strides_used": 23,
            "steps_rejected": 2,
            "swaps_corrected": 3,
            "near_side": "left",
            "side_method": "visibility",
            "verdict_code": "good",
            "issues": [],
            "verdict": "good",
        },
        "input": {"source": "synthetic", "height_cm": 178.0},
    }
    a.update(overrides)
    return a


def handmade_session(name: str = "Alex Runner", **analysis_overrides: Any) -> dict[str, Any]:
    return {
        "id": 42,
        "runner_id": 7,
        "runner": {"id": 7, "name": name, "height_cm": 178.0},
        "status": "done",
        "started_at": "2026-11-20T09:30:00+00:00",
        "ended_at": "2026-11-20T09:32:00+00:00",
        "speed_kmh": 11.5,
        "incline_pct": 1.0,
        "shoes": "Pegasus 40",
        "notes": "",
        "view": "side",
        "source": "picamera",
        "settings": {},
        "analysis": handmade_analysis(**analysis_overrides),
        "error": None,
        "summary_text": None,
        "printed_summary_at": None,
        "printed_report_at": None,
    }
