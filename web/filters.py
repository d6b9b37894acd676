"""Jinja filters and globals: metric names and numbers formatted exactly as the report does.

Labels come from :mod:`device.report.catalog` and numbers from :mod:`device.report.units`, so a
value reads the same on the tablet, on paper and on the receipt.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask

from device.report import catalog
from device.report.units import Units, is_number, units_for

QUALITY_LABELS = {
    "frames_analysed": "Frames analysed",
    "frames": "Frames analysed",
    "effective_fps": "Effective frame rate (fps)",
    "fps": "Effective frame rate (fps)",
    "seen_fraction": "Legs seen (share of frames)",
    "left_leg_seen": "Left leg seen",
    "right_leg_seen": "Right leg seen",
    "swaps_corrected": "Left/right swaps corrected",
    "strides_used": "Strides used",
    "strides_rejected": "Strides rejected",
    "verdict": "Verdict",
    "duration_s": "Duration (s)",
}


def fmt_time(iso: str | None) -> str:
    """Stored UTC ISO time → local "2026-11-22 10:42" (the station's clock zone)."""
    if not iso:
        return "—"
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone().strftime("%Y-%m-%d %H:%M")


def fmt_duration(seconds: Any) -> str:
    if not is_number(seconds):
        return "—"
    s = max(0, int(round(float(seconds))))
    return f"{s // 60}:{s % 60:02d}"


def quality_label(key: str) -> str:
    return QUALITY_LABELS.get(key, key.replace("_", " ").capitalize())


def fmt_plain(v: Any) -> str:
    """A quality value as text: fractions as %, floats rounded, lists joined."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}"
    if isinstance(v, list | tuple):
        return ", ".join(fmt_plain(x) for x in v) or "—"
    if isinstance(v, dict):
        return ", ".join(f"{quality_label(k)}: {fmt_plain(x)}" for k, x in v.items()) or "—"
    if v is None:
        return "—"
    return str(v)


def evidence_angle(key: str, value: float, units: Units) -> str:
    """An evidence-frame caption line, "Hip extension: 14°": the name and sign the frame's drawing
    shows (:func:`device.report.catalog.angle_reading`), the number as every table formats it."""
    if key.endswith("_cm"):
        return f"{catalog.angle_label(key)}: {units.value(value, 'cm')}"
    name, degrees = catalog.angle_reading(key, value)
    return f"{name}: {units.value(degrees, 'deg')}"


def register(app: Flask) -> None:
    def units() -> Units:
        return units_for(app.extensions["gait_config"])

    app.jinja_env.filters.update(
        when=fmt_time,
        duration=fmt_duration,
        plain=fmt_plain,
        quality_label=quality_label,
        metric_label=lambda mid: catalog.info(mid).label,
        metric_explain=lambda mid: catalog.info(mid).explain,
        curve_label=catalog.curve_label,
        evidence_angle=lambda key, v: evidence_angle(key, v, units()),
        phase_label=catalog.phase_label,
        val=lambda v, unit, signed=False: units().value(v, unit, signed=signed),
        num=lambda v, unit, signed=False: units().number(v, unit, signed=signed),
        normal_range=lambda normal, unit: units().range(normal, unit),
        speed=lambda kmh: units().speed(kmh),
        height=lambda cm: units().height(cm),
        unit_name=lambda unit: units().unit(unit),
    )
    app.jinja_env.globals.update(clinic_name=lambda: app.extensions["gait_config"].station.clinic_name)
