"""Result types of the gait core and their JSON form (the analysis JSON schema).

The JSON written by ``gait-station analyze``, stored per session, served by the API and read
by the dashboard and the report is exactly ``Analysis.to_dict()``:

    {"schema_version": 1,
     "cadence_spm": float | null,
     "activity": "running" | "walking" | "unknown",
     "view": {"kind": "side" | "rear" | "front" | "unknown", "facing": "left" | "right" | null},
     "events": [{"side": "left"|"right", "kind": "initial_contact"|"toe_off", "t": s, "frame": int}],
     "metrics": {"<id from gait-metrics.md>": {"value", "left", "right", "sd", "n", "unit",
                 "flag", "reason", "normal"}},
     "curves": {"<angle>": {"left": {"mean": [...101], "sd": [...]}, "right": {...}}},
     "cadence_series": [[t, spm], ...],
     "evidence": [{"side", "phase", "t", "frame", "angles": {...}}],
     "cues": [{"metric", "flag", "title", "cue", "drills": [...]}],
     "quality": {...}, "input": {...}}
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Side = Literal["left", "right"]
EventKind = Literal["initial_contact", "toe_off"]

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class RunnerInfo:
    """What the clinician entered that the analysis needs (all optional but height for cm)."""

    height_cm: float | None = None
    speed_kmh: float | None = None
    incline_pct: float | None = None


@dataclass(frozen=True)
class GaitEvent:
    side: Side
    kind: EventKind
    t: float
    frame: int


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

    @classmethod
    def unmeasurable(cls, unit: str, reason: str) -> Metric:
        return cls(value=None, unit=unit, reason=reason)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["normal"] = list(self.normal) if self.normal is not None else None
        for k in ("value", "left", "right", "sd", "symmetry_index_pct"):
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "cadence_spm": _clean(self.cadence_spm),
            "activity": self.activity,
            "view": dict(self.view),
            "events": [
                {"side": e.side, "kind": e.kind, "t": round(float(e.t), 4), "frame": int(e.frame)}
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
            events=[GaitEvent(e["side"], e["kind"], float(e["t"]), int(e.get("frame", -1))) for e in d.get("events", [])],
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
