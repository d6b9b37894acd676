"""Turning per-stride values into contract metrics: mean / sd / n per side, symmetry, flags."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from device.gait.norms import Norms
from device.gait.types import Metric

MIN_STRIDES = 3  # pooled strides needed for a metric's value
MIN_SIDE_STRIDES = 2  # strides needed for a side's value


def _finite(vals: Sequence[float]) -> np.ndarray:
    a = np.asarray([v for v in vals if v is not None], dtype=float)
    return a[np.isfinite(a)]


def symmetry_index(left: float | None, right: float | None) -> float | None:
    """100·|L−R| / ((L+R)/2); None when a side is missing or the mean is ~0 / the sides have
    opposite signs (the index is meaningless there: e.g. an overstride of −1 vs +1 cm)."""
    if left is None or right is None:
        return None
    m = (left + right) / 2.0
    if left * right <= 0 or abs(m) < 1e-6:
        return None
    return float(100.0 * abs(left - right) / abs(m))


def summarize(
    unit: str,
    left: Sequence[float],
    right: Sequence[float],
    sided: bool = True,
    what: str = "strides",
    min_n: int = MIN_STRIDES,
) -> Metric:
    """A Metric from per-stride values of each side (for unsided metrics pass all in ``left``)."""
    lv, rv = _finite(left), _finite(right)
    allv = np.concatenate([lv, rv])
    n = int(allv.size)
    if n < min_n:
        why = f"too few valid {what} ({n}; need {min_n})" if n else f"no valid {what}"
        m = Metric.unmeasurable(unit, why)
        m.n = n
        return m
    lm = float(lv.mean()) if sided and lv.size >= MIN_SIDE_STRIDES else None
    rm = float(rv.mean()) if sided and rv.size >= MIN_SIDE_STRIDES else None
    sd = float(allv.std(ddof=1)) if n >= 2 else None
    met = Metric(value=float(allv.mean()), unit=unit, left=lm, right=rm, sd=sd, n=n)
    if sided:
        met.symmetry_index_pct = symmetry_index(lm, rm)
        met.n_left, met.n_right = int(lv.size), int(rv.size)
        met.sd_left = float(lv.std(ddof=1)) if lv.size >= 2 else None
        met.sd_right = float(rv.std(ddof=1)) if rv.size >= 2 else None
    return met


def apply_norm(metric_id: str, m: Metric, norms: Norms | None) -> None:
    """Set ``normal`` and ``flag`` of ``m`` from the clinic's norms (in place)."""
    if norms is None or m.value is None:
        return
    rng = norms.get(metric_id)
    if rng is None:
        return
    m.normal = (rng.low, rng.high)
    if rng.applies_to == "sides" and (m.left is not None or m.right is not None):
        flags = [rng.flag(v) for v in (m.left, m.right) if v is not None]
        flag = next((f for f in flags if f), None)
    else:
        flag = rng.flag(m.value)
    m.flag = flag


def finite_or_none(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)
