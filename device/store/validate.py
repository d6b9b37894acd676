"""Checks on what a clinician types in (runner and session fields), with one-line messages.

Each checker returns the cleaned value or raises :class:`device.errors.InputError` naming the
field and the accepted range, so the dashboard, the API and the CLI all say the same thing.
"""

from __future__ import annotations

import math
from typing import Any

from device.errors import InputError

NAME_MAX = 100
SHOES_MAX = 100
NOTES_MAX = 2000
SOURCE_MAX = 500
HEIGHT_CM = (50.0, 250.0)
SPEED_KMH = (0.0, 30.0)
INCLINE_PCT = (-5.0, 25.0)
VIEWS = ("auto", "side", "rear", "front")


def text(field: str, value: Any, max_len: int, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InputError(f"{field}: expected text, got {type(value).__name__}")
    value = value.strip()
    if "\x00" in value:
        raise InputError(f"{field}: contains a NUL character")
    if required and not value:
        raise InputError(f"{field}: required")
    if len(value) > max_len:
        raise InputError(f"{field}: at most {max_len} characters (got {len(value)})")
    return value


def number(
    field: str, value: Any, lo: float, hi: float, unit: str, *, required: bool = False
) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InputError(f"{field}: required ({lo:g}–{hi:g} {unit})")
        return None
    if isinstance(value, bool):
        raise InputError(f"{field}: expected a number of {unit}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{field}: expected a number of {unit}, got {value!r}") from None
    if not math.isfinite(v) or not lo <= v <= hi:
        raise InputError(f"{field}: must be between {lo:g} and {hi:g} {unit} (got {value})")
    return v


def runner_name(value: Any) -> str:
    return text("name", value, NAME_MAX, required=True)


def height_cm(value: Any) -> float | None:
    return number("height", value, *HEIGHT_CM, "cm")


def speed_kmh(value: Any) -> float | None:
    return number("speed", value, *SPEED_KMH, "km/h")


def incline_pct(value: Any) -> float | None:
    return number("incline", value, *INCLINE_PCT, "%")


def view(value: Any) -> str:
    v = (value or "auto") if isinstance(value, str | type(None)) else value
    if v not in VIEWS:
        raise InputError(f"view: must be one of {', '.join(VIEWS)} (got {value!r})")
    return v
