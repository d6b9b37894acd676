"""Units and number formatting for everything a person reads (report, dashboard, comparison).

The analysis is always metric (gait-metrics.md). Conversion to the clinic's display units
(``cfg.station.units``) happens here and only here, so a value, its sd and its normal range
are always converted together and formatted with the same precision.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TypeGuard

from device.config import Config
from device.gait.evidence import margin_digits

CM_PER_INCH = 2.54
KM_PER_MILE = 1.609344

# Decimal places per display unit: precision a 2D video measurement can honestly claim.
_DECIMALS = {"spm": 0, "ms": 0, "ratio": 2, "cm": 1, "in": 1, "%": 1, "deg": 0, "km/h": 1, "mph": 1}
_SUFFIX = {"deg": "°", "%": "%", "ratio": "", "spm": " spm", "ms": " ms", "cm": " cm", "in": " in"}


def is_number(v: Any) -> TypeGuard[float]:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


@dataclass(frozen=True)
class Units:
    """Display units: ``Units("metric")`` or ``Units("imperial")`` (cm→in, km/h→mph)."""

    system: str = "metric"

    def __post_init__(self) -> None:
        if self.system not in ("metric", "imperial"):
            raise ValueError(f"units must be 'metric' or 'imperial', not {self.system!r}")

    @property
    def imperial(self) -> bool:
        return self.system == "imperial"

    def unit(self, unit: str) -> str:
        """The display unit for an analysis unit."""
        if self.imperial and unit == "cm":
            return "in"
        return unit

    def convert(self, v: float | None, unit: str) -> float | None:
        """An analysis value in ``unit`` converted to display units (None stays None).

        Only lengths convert; a difference (sd, Δ) converts the same way as a value."""
        if not is_number(v):
            return None
        if self.imperial and unit == "cm":
            return float(v) / CM_PER_INCH
        return float(v)

    def number(self, v: float | None, unit: str, *, signed: bool = False) -> str:
        """A value formatted in display units without the unit ("12.3"); "—" when missing."""
        c = self.convert(v, unit)
        if c is None:
            return "—"
        d = _DECIMALS.get(self.unit(unit), 1)
        text = f"{c:+.{d}f}" if signed else f"{c:.{d}f}"
        # "-0" reads as a sign error on paper.
        if float(text) == 0:
            text = f"{0:.{d}f}"
        return text.replace("-", "−")

    def value(self, v: float | None, unit: str, *, signed: bool = False) -> str:
        """A value with its unit ("12.3 cm", "4.8 in", "176 spm", "12°"); "—" when missing."""
        text = self.number(v, unit, signed=signed)
        if text == "—":
            return text
        return text + _SUFFIX.get(self.unit(unit), f" {self.unit(unit)}")

    def margin(self, v: float | None, unit: str) -> str:
        """How far a value may be off, with its unit, to two significant figures ("0.21 in",
        "4.5°", "29 ms"): finer than :meth:`value` (a ± of 0.2 in is not 0); "—" when missing."""
        c = self.convert(v, unit)
        if c is None:
            return "—"
        return margin_digits(c) + _SUFFIX.get(self.unit(unit), f" {self.unit(unit)}")

    def range(self, normal: Any, unit: str) -> str:
        """A normal range [low, high] (either end may be null) as "170–180 spm", "≤ 5.0 cm"."""
        if not normal or len(normal) != 2:
            return ""
        lo, hi = normal
        if is_number(lo) and is_number(hi):
            return f"{self.number(lo, unit)}–{self.value(hi, unit)}"
        if is_number(hi):
            return f"≤ {self.value(hi, unit)}"
        if is_number(lo):
            return f"≥ {self.value(lo, unit)}"
        return ""

    def speed(self, kmh: float | None) -> str:
        if not is_number(kmh):
            return "—"
        if self.imperial:
            return f"{kmh / KM_PER_MILE:.1f} mph"
        return f"{kmh:.1f} km/h"

    def height(self, cm: float | None) -> str:
        if not is_number(cm):
            return "—"
        if self.imperial:
            inches = round(cm / CM_PER_INCH)
            return f"{inches // 12}′ {inches % 12}″"
        return f"{cm:.0f} cm"


def units_for(config: Config) -> Units:
    """The display units of a station configuration."""
    return Units(config.station.units or "metric")
