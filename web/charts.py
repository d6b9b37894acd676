"""The dashboard's charts: the report's server-side SVG (:mod:`device.report.charts`), sized for a
tablet. The SVG is built from escaped text only, so it is marked safe for Jinja here."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from device.report import catalog
from device.report import charts as svg
from device.report.review import session_series

WIDTH, HEIGHT = 340, 210  # viewBox units: small enough that the labels read at tablet size


def _ordered_curves(analysis: dict[str, Any] | None) -> list[tuple[str, dict[str, Any]]]:
    curves: dict[str, Any] = (analysis or {}).get("curves") or {}
    first = [k for k in catalog.CURVE_ORDER if k in curves]
    rest = sorted(k for k in curves if k not in first)
    return [(k, curves[k]) for k in first + rest if isinstance(curves[k], dict)]


def curve_charts(analysis: dict[str, Any] | None) -> list[tuple[str, Markup]]:
    """Joint angle over the gait cycle, mean ± sd, left vs right: one chart per curve."""
    out = []
    for key, curve in _ordered_curves(analysis):
        label = catalog.curve_label(key)
        chart = svg.angle_cycle_chart(
            curve, title=label, toe_off_pct=curve.get("toe_off_pct"), width=WIDTH, height=HEIGHT
        )
        out.append((label, Markup(chart)))
    return out


def cadence_chart(analysis: dict[str, Any] | None, compare: dict[str, Any] | None = None) -> Markup | None:
    """Cadence over the run in seconds into the session (not the station clock)."""
    series = session_series(analysis)
    if not series:
        return None
    normal = (((analysis or {}).get("metrics") or {}).get("cadence_spm") or {}).get("normal")
    before = session_series(compare) if compare is not None else None
    return Markup(svg.cadence_chart(series, normal=normal, width=WIDTH, height=HEIGHT, compare=before))


def compare_charts(a: dict[str, Any] | None, b: dict[str, Any] | None) -> list[tuple[str, Markup]]:
    """The later session's curves solid with the earlier one dashed ("before"), plus cadence."""
    before = (a or {}).get("curves") or {}
    out = []
    for key, curve in _ordered_curves(b):
        label = catalog.curve_label(key)
        chart = svg.angle_cycle_chart(
            curve, title=label, width=WIDTH, height=HEIGHT, compare=before.get(key) or {}
        )
        out.append((label, Markup(chart)))
    cad = cadence_chart(b, compare=a or {})
    if cad is not None:
        out.append(("Cadence", cad))
    return out


def trend_chart(sessions: list[dict[str, Any]]) -> Markup | None:
    """Cadence per session over a runner's history (session number on x, oldest first)."""
    pts = [s.get("cadence_spm") for s in reversed(sessions)]
    if sum(1 for p in pts if isinstance(p, int | float)) < 2:
        return None
    xs = list(range(1, len(pts) + 1))
    chart = svg.line_chart(
        [svg.Series("cadence", xs, pts, svg.LEFT_COLOR)],
        title="Cadence by session",
        x_axis=svg.Axis("session (oldest first)", ticks=xs if len(xs) <= 12 else None, fmt="{:g}"),
        y_axis=svg.Axis("steps/min"),
        style=svg.ChartStyle(width=WIDTH, height=HEIGHT),
    )
    return Markup(chart)
