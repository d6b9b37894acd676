"""Result types of the gait core and their JSON form (the analysis JSON schema).

The JSON written by ``gait-station analyze``, stored per session, served by the API and read
by the dashboard and the report is exactly ``Analysis.to_dict()``:

    {"schema_version": 2,
     "cadence_spm": float | null,
     "activity": "running" | "walking" | "unknown",
     "view": {"kind": "side" | "rear" | "front" | "unknown", "facing": "left" | "right" | null,
              "detected": <kind the keypoints say>, "width_ratio": float, "confidence": 0..1,
              "turns": true (only when the runner changes direction during the clip)},
     "events": [{"side": "left"|"right"|"unknown", "kind": "initial_contact"|"toe_off", "t": s,
                 "frame": int, "confidence": 0..1}],
     "metrics": {"<id from gait-metrics.md>": {"value", "left", "right", "sd", "n", "unit",
                 "flag", "reason", "normal", "symmetry_index_pct",
                 "n_left", "n_right", "sd_left", "sd_right"}},
     "curves": {"knee_flexion" | "hip_flexion": {"left": {"mean": [101], "sd": [101], "n"} | null,
                                                 "right": ...}},
     "cadence_series": [[t, spm], ...],
     "evidence": [{"side", "phase": "initial_contact"|"midstance"|"toe_off", "t", "frame",
                   "angles": {"knee_flexion", "hip_flexion", "shank", "trunk_lean"}}],
     "cues": [{"metric", "flag", "title", "cue", "drills": [...]}],
     "quality": {...}, "input": {...}}

Schema version 2 (engine 2.0) added, over version 1:
- ``events[].confidence`` (0..1: how well the stance fits the treadmill model and how well the
  foot was seen around the event; 0.1 where the moment is not seen at all: no stance matched the
  belt (``events_unverified``), or the foot was at the picture's bottom edge); ``events[].side`` may be "unknown" (the near leg could not be
  decided: sides are never guessed);
- per metric ``n_left`` / ``n_right`` (values per side) and ``sd_left`` / ``sd_right``;
- ``quality``: ``near_side`` ("left" | "right" | null = not decided) and ``side_method`` (how:
  "config", "perspective", "scores", "labels", …); ``steps_used`` (foot contacts with credible
  events), ``strides_used`` (= steps_used // 2: a stride is two steps), ``steps_rejected``;
  ``effective_fps`` = (frames analysed − 1) / duration (the real rate, dropped frames counted);
  ``duration_s``; ``verdict_code`` ("good" | "limited" | "unusable") and ``issues`` (short stable
  codes: cadence_disagree, cadence_implausible, too_short, low_fps, view_mismatch,
  view_unknown, feet_out_of_frame, feet_unseen, two_people, body_out_of_frame, walking, few_strides, side_unknown, facing_unknown,
  no_runner, time_gap, repeated_frames, edited_video, events_unverified); ``cadence_estimates`` (each independent estimate, spm);
  ``belt_speed_kmh`` (belt speed measured from the stance feet, when the height is entered) and
  ``belt_speed_vs_entered_pct``; ``verdict`` stays the plain-language text;
- ``cadence_spm`` null with ``metrics["cadence_spm"].reason`` when the independent estimates
  disagree or the value is implausible for the entered speed.

Details:
- every metric id of the contract is always present; ``value`` null ⇒ ``reason`` says why.
- ``symmetry_index_pct`` (per metric) is 100·|L−R|/((L+R)/2) for sided metrics with both
  sides measured (null when the sides have opposite signs or a side is missing). The
  contract's ``metrics["symmetry_index_pct"]`` headline is contact time's index (the classic
  L/R balance figure); its flag is kept only when the difference exceeds twice its standard
  error (stride-to-stride variation).
- ``curves``: angle over the gait cycle, 0–100 % from initial contact to the next initial
  contact of the same foot, mean and sd over valid strides (null with fewer than 2).
- ``evidence``: for each side, a representative stride (contact time closest to the median):
  the frame of initial contact, midstance (ankle under the hip) and toe-off, with the angles
  measured there; ``frame`` is the source frame index (``Timeline.frame``).
- ``quality`` keys: frames_analysed, effective_fps, duration_s, body_seen_fraction,
  leg_seen_fraction {left, right}, ankles_seen_fraction (both pooled), ankle_seen_fraction
  {left, right}, ankle_at_frame_edge_fraction and unseen_ankles {knee_seen, inside} (of the frames without an ankle: the knee seen, putting the foot inside the picture; when the frame size is known),
  frames_without_runner, swaps_corrected (runs), swapped_frames, outliers_removed,
  stance_gaps_bridged (ankle holes longer than 0.12 s filled along a stance line), body_jumps,
  near_side, side_method, activity_cues, steps_used, strides_used, steps_rejected,
  leg_length_method, verdict (plain language: "good" or issues joined by "; " e.g. "feet
  leave the frame", "camera not side-on", "two people in view", "walking, not running", "too
  few strides"), warnings [str], confidence 0..1.
- ``input``: engine_version, view_requested, coaching_profile, warmup_s, height_cm, speed_kmh,
  incline_pct, frames, width, height, leg_fraction_of_height, leg_length_px, px_per_cm.
- Side attribution (step/flight times, vertical oscillation): see ``device.gait.sagittal``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Side = Literal["left", "right"]
EventKind = Literal["initial_contact", "toe_off"]

SCHEMA_VERSION = 2
SideOrUnknown = Literal["left", "right", "unknown"]


@dataclass(frozen=True)
class RunnerInfo:
    """What the clinician entered that the analysis needs (all optional but height for cm)."""

    height_cm: float | None = None
    speed_kmh: float | None = None
    incline_pct: float | None = None


@dataclass(frozen=True)
class GaitEvent:
    side: SideOrUnknown
    kind: EventKind
    t: float
    frame: int
    confidence: float = 1.0


@dataclass
class Metric:
    """One contract metric. ``value`` is the mean over valid strides (null with ``reason`` when
    it cannot be measured reliably); ``left``/``right`` null where not sided; ``normal`` is the
    [low, high] range used for ``flag`` (None when the clinic has no range for it).
    ``flag`` is "low" / "high" (outside ``normal``) or None. ``symmetry_index_pct`` is this
    metric's left/right symmetry index 100·|L−R|/((L+R)/2) (None when unsided or not
    computable); the headline ``metrics["symmetry_index_pct"]`` is that of contact time."""

    value: float | None
    unit: str
    left: float | None = None
    right: float | None = None
    sd: float | None = None
    n: int = 0
    flag: str | None = None
    reason: str | None = None
    normal: tuple[float | None, float | None] | None = None
    symmetry_index_pct: float | None = None
    n_left: int = 0
    n_right: int = 0
    sd_left: float | None = None
    sd_right: float | None = None

    @classmethod
    def unmeasurable(cls, unit: str, reason: str) -> Metric:
        return cls(value=None, unit=unit, reason=reason)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["normal"] = list(self.normal) if self.normal is not None else None
        for k in ("value", "left", "right", "sd", "symmetry_index_pct", "sd_left", "sd_right"):
            d[k] = _clean(d[k])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Metric:
        normal = d.get("normal")
        return cls(
            value=d.get("value"),
            unit=d.get("unit", ""),
            left=d.get("left"),
            right=d.get("right"),
            sd=d.get("sd"),
            n=int(d.get("n") or 0),
            flag=d.get("flag"),
            reason=d.get("reason"),
            normal=tuple(normal) if normal is not None else None,
            symmetry_index_pct=d.get("symmetry_index_pct"),
            n_left=int(d.get("n_left") or 0),
            n_right=int(d.get("n_right") or 0),
            sd_left=d.get("sd_left"),
            sd_right=d.get("sd_right"),
        )


def _clean(v: Any) -> Any:
    """JSON has no NaN: non-finite floats become null; floats are rounded for readability."""
    if isinstance(v, float):
        return round(v, 3) if math.isfinite(v) else None
    return v


@dataclass
class Analysis:
    cadence_spm: float | None
    events: list[GaitEvent] = field(default_factory=list)
    metrics: dict[str, Metric] = field(default_factory=dict)
    quality: dict[str, Any] = field(default_factory=dict)
    input: dict[str, Any] = field(default_factory=dict)
    activity: str = "unknown"
    view: dict[str, Any] = field(default_factory=lambda: {"kind": "unknown", "facing": None})
    curves: dict[str, Any] = field(default_factory=dict)
    cadence_series: list[list[float]] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    cues: list[dict[str, Any]] = field(default_factory=list)
    # not part of the JSON: the ankle series and stance models behind the events, for fitting
    # the event-timing model on the development set (device/validation/fitting.py)
    diagnostics: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "cadence_spm": _clean(self.cadence_spm),
            "activity": self.activity,
            "view": dict(self.view),
            "events": [
                {
                    "side": e.side,
                    "kind": e.kind,
                    "t": round(float(e.t), 4),
                    "frame": int(e.frame),
                    "confidence": round(float(e.confidence), 2),
                }
                for e in self.events
            ],
            "metrics": {k: m.to_dict() for k, m in self.metrics.items()},
            "curves": self.curves,
            "cadence_series": [[_clean(float(a)), _clean(float(b))] for a, b in self.cadence_series],
            "evidence": self.evidence,
            "cues": self.cues,
            "quality": self.quality,
            "input": self.input,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Analysis:
        return cls(
            cadence_spm=d.get("cadence_spm"),
            events=[
                GaitEvent(
                    e["side"],
                    e["kind"],
                    float(e["t"]),
                    int(e.get("frame", -1)),
                    float(e.get("confidence", 1.0)),
                )
                for e in d.get("events", [])
            ],
            metrics={k: Metric.from_dict(v) for k, v in (d.get("metrics") or {}).items()},
            quality=dict(d.get("quality") or {}),
            input=dict(d.get("input") or {}),
            activity=d.get("activity", "unknown"),
            view=dict(d.get("view") or {"kind": "unknown", "facing": None}),
            curves=dict(d.get("curves") or {}),
            cadence_series=[list(p) for p in d.get("cadence_series") or []],
            evidence=list(d.get("evidence") or []),
            cues=list(d.get("cues") or []),
        )
