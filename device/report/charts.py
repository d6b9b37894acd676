"""Server-side SVG charts for the printed report and the dashboard.

Pure functions: data in, a self-contained ``<svg>`` string out (no scripts, no external fonts
or links, every text escaped), so the same chart prints through WeasyPrint and shows inline in a
browser. Missing samples (None/NaN) break a line instead of being drawn as zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any, TypeGuard

LEFT_COLOR = "#1f6fb4"  # blue / orange: distinguishable with the common colour-vision deficiencies
RIGHT_COLOR = "#e07b1a"
SIDE_COLORS = {"left": LEFT_COLOR, "right": RIGHT_COLOR}
INK = "#1d2733"
MUTED = "#6b7785"
GRID = "#e3e7ec"
NORMAL_FILL = "#e4f3e8"
FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"


@dataclass
class Series:
    """One line on a chart: ``ys`` over ``xs`` (None/NaN = gap), optional ``band`` (low, high)
    arrays drawn as a translucent area (e.g. mean ± sd), ``dashed`` for a second session."""

    label: str
    xs: Sequence[float | None]  # None/NaN = gap, as in ys
    ys: Sequence[float | None]
    color: str = INK
    band: tuple[Sequence[float | None], Sequence[float | None]] | None = None
    dashed: bool = False
    width: float = 1.8


@dataclass
class Axis:
    label: str = ""
    lo: float | None = None  # fixed limits; None = from the data
    hi: float | None = None
    ticks: Sequence[float] | None = None
    fmt: str = "{:g}"


@dataclass
class ChartStyle:
    width: int = 340
    height: int = 200
    font_size: float = 10.0
    margin: tuple[int, int, int, int] = (26, 12, 30, 40)  # top, right, bottom, left
    extra_css_class: str = ""
    notes: list[str] = field(default_factory=list)


def _finite(v: object) -> TypeGuard[float]:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (1/2/5 × 10^k steps)."""
    if not (_finite(lo) and _finite(hi)):
        return [0.0, 1.0]
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(1, target)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks: list[float] = []
    v = start
    while (not ticks or ticks[-1] < hi - 1e-9) and len(ticks) < 50:
        ticks.append(round(v, 10))
        v += step
    return ticks


def _segments(xs: Sequence[float | None], ys: Sequence[float | None]) -> list[list[tuple[float, float]]]:
    segs: list[list[tuple[float, float]]] = []
    cur: list[tuple[float, float]] = []
    for x, y in zip(xs, ys, strict=False):
        if _finite(x) and _finite(y):
            cur.append((float(x), float(y)))
        elif cur:
            segs.append(cur)
            cur = []
    if cur:
        segs.append(cur)
    return segs


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def line_chart(
    series: Sequence[Series],
    *,
    title: str = "",
    x_axis: Axis | None = None,
    y_axis: Axis | None = None,
    hbands: Sequence[tuple[float, float, str]] = (),
    vlines: Sequence[tuple[float, str]] = (),
    style: ChartStyle | None = None,
    empty_text: str = "no data",
    legend: bool = True,
) -> str:
    """A line chart as an SVG string.

    ``hbands``: horizontal shaded ranges (low, high, label), e.g. a normal range; ``vlines``:
    vertical markers (x, label), e.g. toe-off at 40 % of the cycle."""
    st = style or ChartStyle()
    xa = x_axis or Axis()
    ya = y_axis or Axis()
    w, h = st.width, st.height
    mt, mr, mb, ml = st.margin
    pw, ph = w - ml - mr, h - mt - mb
    fs = st.font_size

    xs_all: list[float] = []
    ys_all: list[float] = []
    for s in series:
        for seg in _segments(s.xs, s.ys):
            xs_all += [p[0] for p in seg]
            ys_all += [p[1] for p in seg]
        if s.band is not None:
            for arr in s.band:
                ys_all += [float(v) for v in arr if _finite(v)]
    for lo, hi, _ in hbands:
        ys_all += [v for v in (lo, hi) if _finite(v)]

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {escape(st.extra_css_class)}" '
        f'viewBox="0 0 {w} {h}" width="{w}" height="{h}" font-family="{FONT}" font-size="{fs:g}" '
        f'role="img" aria-label="{escape(title)}">'
    ]
    if title:
        out.append(f'<text x="{ml}" y="{fs + 4:g}" font-weight="bold" fill="{INK}">{escape(title)}</text>')
    if not xs_all or not ys_all:
        out.append(f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" fill="none" stroke="{GRID}"/>')
        out.append(
            f'<text x="{ml + pw / 2:g}" y="{mt + ph / 2:g}" text-anchor="middle" fill="{MUTED}">'
            f"{escape(empty_text)}</text></svg>"
        )
        return "".join(out)

    x0 = xa.lo if xa.lo is not None else min(xs_all)
    x1 = xa.hi if xa.hi is not None else max(xs_all)
    if x1 <= x0:
        x1 = x0 + 1.0
    yt = (
        list(ya.ticks)
        if ya.ticks
        else nice_ticks(
            ya.lo if ya.lo is not None else min(ys_all), ya.hi if ya.hi is not None else max(ys_all)
        )
    )
    y0 = ya.lo if ya.lo is not None else min(yt[0], min(ys_all))
    y1 = ya.hi if ya.hi is not None else max(yt[-1], max(ys_all))
    if y1 <= y0:
        y1 = y0 + 1.0
    xt = list(xa.ticks) if xa.ticks else nice_ticks(x0, x1)
    xt = [t for t in xt if x0 - 1e-9 <= t <= x1 + 1e-9]
    yt = [t for t in yt if y0 - 1e-9 <= t <= y1 + 1e-9]

    def px(x: float) -> float:
        return ml + (x - x0) / (x1 - x0) * pw

    def py(y: float) -> float:
        return mt + ph - (y - y0) / (y1 - y0) * ph

    for lo, hi, label in hbands:
        if not (_finite(lo) and _finite(hi)):
            continue
        a, b = py(min(max(hi, y0), y1)), py(max(min(lo, y1), y0))
        out.append(
            f'<rect x="{ml}" y="{a:.1f}" width="{pw}" height="{max(0.0, b - a):.1f}" fill="{NORMAL_FILL}"/>'
        )
        if label:
            out.append(
                f'<text x="{ml + pw - 3}" y="{a + fs:.1f}" text-anchor="end" fill="#3d7a4f" '
                f'font-size="{fs * 0.8:g}">{escape(label)}</text>'
            )
    for t in yt:
        y = py(t)
        out.append(
            f'<line x1="{ml}" x2="{ml + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}" stroke-width="0.8"/>'
        )
        out.append(
            f'<text x="{ml - 4}" y="{y + fs * 0.35:.1f}" text-anchor="end" fill="{MUTED}">'
            f"{escape(ya.fmt.format(t))}</text>"
        )
    for t in xt:
        x = px(t)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{mt + ph}" y2="{mt + ph + 3}" stroke="{MUTED}"/>')
        out.append(
            f'<text x="{x:.1f}" y="{mt + ph + fs + 4:.1f}" text-anchor="middle" fill="{MUTED}">'
            f"{escape(xa.fmt.format(t))}</text>"
        )
    for xv, label in vlines:
        if not _finite(xv) or not (x0 <= xv <= x1):
            continue
        x = px(xv)
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{mt}" y2="{mt + ph}" stroke="{MUTED}" '
            f'stroke-dasharray="3,3" stroke-width="0.8"/>'
        )
        if label:
            out.append(
                f'<text x="{x + 3:.1f}" y="{mt + fs:.1f}" fill="{MUTED}" font-size="{fs * 0.8:g}">'
                f"{escape(label)}</text>"
            )
    out.append(
        f'<line x1="{ml}" x2="{ml + pw}" y1="{mt + ph}" y2="{mt + ph}" stroke="{MUTED}" stroke-width="0.8"/>'
    )
    out.append(f'<line x1="{ml}" x2="{ml}" y1="{mt}" y2="{mt + ph}" stroke="{MUTED}" stroke-width="0.8"/>')
    if xa.label:
        out.append(
            f'<text x="{ml + pw / 2:g}" y="{h - 3}" text-anchor="middle" fill="{MUTED}">'
            f"{escape(xa.label)}</text>"
        )
    if ya.label:
        cy = mt + ph / 2
        out.append(
            f'<text x="{fs:g}" y="{cy:g}" text-anchor="middle" fill="{MUTED}" '
            f'transform="rotate(-90 {fs:g} {cy:g})">{escape(ya.label)}</text>'
        )

    def clip(v: float) -> float:
        return min(max(v, y0), y1)

    for s in series:
        if s.band is not None:
            lo_arr, hi_arr = s.band
            band = {
                i: (x, lo, hi)
                for i, (x, lo, hi) in enumerate(zip(s.xs, lo_arr, hi_arr, strict=False))
                if _finite(x) and _finite(lo) and _finite(hi)
            }
            runs: list[list[int]] = []
            for i in band:
                if runs and runs[-1][-1] == i - 1:
                    runs[-1].append(i)
                else:
                    runs.append([i])
            for run in runs:
                if len(run) < 2:
                    continue
                up = " ".join(f"{px(band[i][0]):.1f},{py(clip(band[i][2])):.1f}" for i in run)
                down = " ".join(f"{px(band[i][0]):.1f},{py(clip(band[i][1])):.1f}" for i in reversed(run))
                out.append(
                    f'<polygon points="{up} {down}" fill="{escape(s.color)}" fill-opacity="0.16" stroke="none"/>'
                )
    for s in series:
        dash = ' stroke-dasharray="5,3"' if s.dashed else ""
        for seg in _segments(s.xs, s.ys):
            if len(seg) == 1:
                x, y = seg[0]
                out.append(
                    f'<circle cx="{px(x):.1f}" cy="{py(clip(y)):.1f}" r="1.6" fill="{escape(s.color)}"/>'
                )
                continue
            pts = " ".join(f"{px(x):.1f},{py(clip(y)):.1f}" for x, y in seg)
            out.append(
                f'<polyline points="{pts}" fill="none" stroke="{escape(s.color)}" '
                f'stroke-width="{s.width:g}" stroke-linejoin="round"{dash}/>'
            )

    # Legend, top right, right-aligned entries.
    lx: float = ml + pw
    for s in reversed([s for s in series if s.label and legend]):
        tw = len(s.label) * fs * 0.58
        lx -= tw
        out.append(f'<text x="{lx:.1f}" y="{fs + 4:g}" fill="{INK}">{escape(s.label)}</text>')
        lx -= 20
        dash = ' stroke-dasharray="4,2"' if s.dashed else ""
        out.append(
            f'<line x1="{lx:.1f}" x2="{lx + 15:.1f}" y1="{fs:g}" y2="{fs:g}" stroke="{escape(s.color)}" '
            f'stroke-width="2.5"{dash}/>'
        )
        lx -= 8
    out.append("</svg>")
    return "".join(out)


def _curve_side(curve: dict[str, Any], side: str) -> tuple[list[float | None], list[float | None]] | None:
    d = curve.get(side) if isinstance(curve, dict) else None
    if not isinstance(d, dict) or not d.get("mean"):
        return None
    mean = [v if _finite(v) else None for v in d["mean"]]
    sd = d.get("sd") or []
    sd = [v if _finite(v) else None for v in sd] + [None] * (len(mean) - len(sd))
    return mean, sd


def angle_cycle_chart(
    curve: dict[str, Any],
    *,
    title: str = "",
    y_label: str = "degrees",
    toe_off_pct: dict[str, float] | float | None = None,
    width: int = 340,
    height: int = 200,
    compare: dict[str, Any] | None = None,
    labels: tuple[str, str] = ("Left", "Right"),
    legend: bool = True,
) -> str:
    """Joint angle over the gait cycle (0–100 %, initial contact to the next one), left and right
    mean ± sd. ``curve`` = ``{"left": {"mean": [...], "sd": [...]}, "right": {...}}`` as in
    ``analysis.curves``; ``compare``: a second session's curve drawn dashed (before/after);
    ``toe_off_pct``: where toe-off falls in the cycle (per side or one value), drawn as a marker;
    ``legend``: False when the page around the chart already explains the colours."""
    series: list[Series] = []
    for side, label in zip(("left", "right"), labels, strict=True):
        got = _curve_side(curve, side)
        if got is None:
            continue
        mean, sd = got
        xs = [100.0 * i / max(1, len(mean) - 1) for i in range(len(mean))]
        band = None
        if any(v is not None for v in sd) and compare is None:
            lo = [m - s if m is not None and s is not None else None for m, s in zip(mean, sd, strict=True)]
            hi = [m + s if m is not None and s is not None else None for m, s in zip(mean, sd, strict=True)]
            band = (lo, hi)
        series.append(Series(label, xs, mean, SIDE_COLORS[side], band=band))
        if compare is not None:
            got_b = _curve_side(compare, side)
            if got_b is not None:
                mb = got_b[0]
                xb = [100.0 * i / max(1, len(mb) - 1) for i in range(len(mb))]
                series.append(Series(f"{label} (before)", xb, mb, SIDE_COLORS[side], dashed=True, width=1.2))
    vlines: list[tuple[float, str]] = []
    if isinstance(toe_off_pct, dict):
        vals = [v for v in toe_off_pct.values() if _finite(v)]
        if vals:
            vlines.append((sum(vals) / len(vals), "toe-off"))
    elif _finite(toe_off_pct):
        vlines.append((float(toe_off_pct), "toe-off"))
    return line_chart(
        series,
        title=title,
        x_axis=Axis("% of gait cycle (from foot strike)", 0, 100, ticks=(0, 20, 40, 60, 80, 100)),
        y_axis=Axis(y_label, fmt="{:g}"),
        vlines=vlines,
        style=ChartStyle(width=width, height=height),
        empty_text="not measured",
        legend=legend,
    )


def cadence_chart(
    series: Sequence[Sequence[float | None]],
    *,
    title: str = "Cadence over the run",
    normal: Sequence[float | None] | None = None,
    width: int = 340,
    height: int = 200,
    compare: Sequence[Sequence[float | None]] | None = None,
    legend: bool = True,
) -> str:
    """Cadence (spm) over the run from ``analysis.cadence_series`` ([[t seconds, spm], ...]);
    ``normal``: the [low, high] range shaded; ``compare``: a second session, dashed."""
    xs = [p[0] for p in series if len(p) >= 2]
    ys = [p[1] for p in series if len(p) >= 2]
    lines = [Series("this run" if compare is not None else "", xs, ys, LEFT_COLOR)]
    if compare is not None:
        lines.append(
            Series(
                "before",
                [p[0] for p in compare if len(p) >= 2],
                [p[1] for p in compare if len(p) >= 2],
                MUTED,
                dashed=True,
                width=1.2,
            )
        )
    xs_ok = [x for x in xs if _finite(x)]
    hb: list[tuple[float, float, str]] = []
    if normal and len(normal) == 2 and _finite(normal[0]) and _finite(normal[1]):
        hb.append((float(normal[0]), float(normal[1]), f"normal {_fmt(normal[0])}–{_fmt(normal[1])}"))
    return line_chart(
        lines,
        title=title,
        x_axis=Axis("time into the run (s)", lo=0 if xs_ok and min(xs_ok) >= 0 else None),
        y_axis=Axis("steps/min"),
        hbands=hb,
        style=ChartStyle(width=width, height=height),
        empty_text="no cadence over time",
        legend=legend,
    )
