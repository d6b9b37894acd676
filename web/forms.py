"""Server-side validation of the new-session form and the capture/start JSON body.

One validator for both, so the tablet form and the API accept and refuse exactly the same
things, with a message per field a clinician can act on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from device.report.units import CM_PER_INCH, KM_PER_MILE
from device.store import validate as store_limits

# The store's limits, so the form, the API and the store refuse exactly the same values.
NAME_MAX = store_limits.NAME_MAX
SHOES_MAX = store_limits.SHOES_MAX
NOTES_MAX = store_limits.NOTES_MAX
HEIGHT_RANGE = store_limits.HEIGHT_CM
SPEED_RANGE = (0.5, store_limits.SPEED_KMH[1])  # a capture needs a moving belt
INCLINE_RANGE = store_limits.INCLINE_PCT
VIEW_LABELS: dict[str, str] = {
    "side": "Side",
    "rear": "Rear",
    "front": "Front",
    "auto": "Detect",
}
VIEWS = tuple(v for v in VIEW_LABELS if v in store_limits.VIEWS)


@dataclass
class SessionForm:
    """The new-session form (or the capture/start JSON body) with its strings converted: the
    runner (an existing ``runner_id``, or a new ``runner_name`` and height) and the session fields,
    which the station turns into the one :class:`~device.capture.request.CaptureRequest`."""

    runner_id: int | None = None
    runner_name: str | None = None
    height_cm: float | None = None
    speed_kmh: float | None = None
    incline_pct: float = 0.0
    shoes: str = ""
    notes: str = ""
    view: str = "side"
    new_runner_confirmed: bool = False  # the name exists, and the clinician says it is someone else

    def session_fields(self) -> dict[str, Any]:
        return {
            "speed_kmh": self.speed_kmh,
            "incline_pct": self.incline_pct,
            "shoes": self.shoes,
            "notes": self.notes,
            "view": self.view,
        }


@dataclass
class FormErrors:
    fields: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, message)

    def __bool__(self) -> bool:
        return bool(self.fields)

    def summary(self) -> str:
        return "; ".join(f"{k}: {v}" for k, v in self.fields.items())


def _text(value: Any, name: str, max_len: int, errors: FormErrors, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(name, "must be text")
        return ""
    value = " ".join(value.split()) if name != "notes" else value.strip()
    if required and not value:
        errors.add(name, "is required")
    if len(value) > max_len:
        errors.add(name, f"is too long (at most {max_len} characters)")
    if any(ord(c) < 32 and c not in "\n\r\t" for c in value):
        errors.add(name, "contains control characters")
    return value


def _number(
    value: Any, name: str, rng: tuple[float, float], unit: str, errors: FormErrors, required: bool
) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.add(name, "is required")
        return None
    if isinstance(value, bool):
        errors.add(name, "must be a number")
        return None
    try:
        num = float(value.replace(",", ".") if isinstance(value, str) else value)
    except (TypeError, ValueError):
        errors.add(name, f"must be a number in {unit}")
        return None
    if not math.isfinite(num) or not (rng[0] <= num <= rng[1]):
        errors.add(name, f"must be between {rng[0]:g} and {rng[1]:g} {unit}")
        return None
    return num


def _imperial_height(data: dict[str, Any], errors: FormErrors, required: bool) -> float | None:
    """Height typed as feet + inches (either may be blank) → cm, checked in the units typed."""
    lo_in, hi_in = (round(x / CM_PER_INCH) for x in HEIGHT_RANGE)
    rng = (float(lo_in // 12), float(hi_in // 12 + 1))
    feet = _number(data.get("height_ft"), "height_cm", rng, "ft", errors, required=False)
    inches = _number(data.get("height_in"), "height_cm", (0.0, float(hi_in)), "in", errors, required=False)
    if "height_cm" in errors.fields:
        return None
    if feet is None and inches is None:
        if required:
            errors.add("height_cm", "is required")
        return None
    total_in = (feet or 0.0) * 12 + (inches or 0.0)
    if not lo_in <= total_in <= hi_in:
        errors.add(
            "height_cm",
            f"must be between {lo_in // 12} ft {lo_in % 12} in and {hi_in // 12} ft {hi_in % 12} in",
        )
        return None
    return round(total_in * CM_PER_INCH, 1)


def _imperial_speed(data: dict[str, Any], errors: FormErrors) -> float | None:
    lo, hi = (round(x / KM_PER_MILE, 1) for x in SPEED_RANGE)
    mph = _number(data.get("speed_mph"), "speed_kmh", (lo, hi), "mph", errors, required=True)
    return None if mph is None else round(mph * KM_PER_MILE, 2)


def imperial_values(values: dict[str, Any]) -> dict[str, Any]:
    """Form values with the metric ones (a runner's stored height, last session's speed) also
    given in feet/inches and mph, for a clinic that works in imperial units."""
    out = dict(values)
    try:
        if values.get("height_cm") not in (None, "") and not values.get("height_ft"):
            total = round(float(values["height_cm"]) / CM_PER_INCH)
            out["height_ft"], out["height_in"] = str(total // 12), str(total % 12)
        if values.get("speed_kmh") not in (None, "") and not values.get("speed_mph"):
            out["speed_mph"] = f"{float(values['speed_kmh']) / KM_PER_MILE:.1f}"
    except ValueError:
        pass
    return out


def parse_session_request(
    data: dict[str, Any], known_runner_ids: set[int] | None = None, units: str = "metric"
) -> tuple[SessionForm, FormErrors]:
    """Validate a form (strings) or JSON body (typed) into a :class:`SessionForm`.

    Accepts ``runner_id`` for an existing runner, or ``runner_name``/``height_cm`` (form) or
    ``runner: {name, height_cm}`` (JSON) for a new one. ``height_cm`` given with an existing
    runner updates the height used for this session. ``units="imperial"``: the dashboard form
    gives ``height_ft``/``height_in`` and ``speed_mph`` instead (the API stays metric).
    """
    imperial = units == "imperial" and any(k in data for k in ("height_ft", "height_in", "speed_mph"))
    errors = FormErrors()
    req = SessionForm()
    runner = data.get("runner")
    if runner is not None and not isinstance(runner, dict):
        errors.add("runner", "must be an object with name and height_cm")
        runner = None
    raw_id = data.get("runner_id")
    if raw_id not in (None, "", "new"):
        try:
            req.runner_id = int(raw_id)
        except (TypeError, ValueError):
            errors.add("runner_id", "must be the number of an existing runner")
        else:
            if known_runner_ids is not None and req.runner_id not in known_runner_ids:
                errors.add("runner_id", "no such runner (it may have been deleted)")
    name_val = runner.get("name") if runner else data.get("runner_name")
    height_val = runner.get("height_cm") if runner and "height_cm" in runner else data.get("height_cm")
    new_runner = req.runner_id is None and "runner_id" not in errors.fields
    if new_runner:
        req.runner_name = _text(name_val, "runner_name", NAME_MAX, errors, required=True) or None
    if imperial:
        req.height_cm = _imperial_height(data, errors, required=new_runner)
        req.speed_kmh = _imperial_speed(data, errors)
    else:
        req.height_cm = _number(height_val, "height_cm", HEIGHT_RANGE, "cm", errors, required=new_runner)
        req.speed_kmh = _number(
            data.get("speed_kmh"), "speed_kmh", SPEED_RANGE, "km/h", errors, required=True
        )
    incline = _number(data.get("incline_pct"), "incline_pct", INCLINE_RANGE, "%", errors, required=False)
    req.incline_pct = incline if incline is not None else 0.0
    req.shoes = _text(data.get("shoes"), "shoes", SHOES_MAX, errors)
    req.notes = _text(data.get("notes"), "notes", NOTES_MAX, errors)
    req.new_runner_confirmed = (
        str(data.get("new_runner") or "") in ("1", "true", "True") or data.get("new_runner") is True
    )
    view = data.get("view") or "side"
    if view not in VIEWS:
        errors.add("view", f"must be one of {', '.join(VIEWS)}")
    else:
        req.view = view
    return req, errors


@dataclass
class RunnerEdit:
    """A validated edit of a runner's record (name, height for new sessions, notes)."""

    name: str = ""
    height_cm: float | None = None
    notes: str = ""


def parse_runner_edit(data: dict[str, Any], units: str = "metric") -> tuple[RunnerEdit, FormErrors]:
    errors = FormErrors()
    edit = RunnerEdit()
    edit.name = _text(data.get("name"), "name", NAME_MAX, errors, required=True)
    if units == "imperial" and ("height_ft" in data or "height_in" in data):
        edit.height_cm = _imperial_height(data, errors, required=False)
    else:
        edit.height_cm = _number(
            data.get("height_cm"), "height_cm", HEIGHT_RANGE, "cm", errors, required=False
        )
    edit.notes = _text(data.get("notes"), "notes", NOTES_MAX, errors)
    return edit, errors


@dataclass
class CorrectionRequest:
    """A clinician's corrections of a finished session (device.corrections.Corrections fields)."""

    corrections: dict[str, Any] = field(default_factory=dict)
    created_by: str = ""
    note: str = ""


def parse_corrections(
    data: MultiDict[str, str], units: str = "metric"
) -> tuple[CorrectionRequest, FormErrors]:
    """The correction form (a werkzeug MultiDict: ``exclude`` may repeat). Blank = as captured."""
    errors = FormErrors()
    out = CorrectionRequest()
    out.created_by = _text(data.get("created_by"), "created_by", NAME_MAX, errors, required=True)
    out.note = _text(data.get("note"), "note", NOTES_MAX, errors)
    c: dict[str, Any] = {"swap_sides": data.get("swap_sides") in ("1", "on", "true")}
    near = data.get("near_leg") or None
    if near not in (None, "left", "right"):
        errors.add("near_leg", "must be left or right")
    c["near_leg"] = near
    if units == "imperial":
        c["height_cm"] = _imperial_height(data, errors, required=False)
        if (data.get("speed_mph") or "").strip():
            c["speed_kmh"] = _imperial_speed(data, errors)
    else:
        c["height_cm"] = _number(
            data.get("height_cm"), "height_cm", HEIGHT_RANGE, "cm", errors, required=False
        )
        c["speed_kmh"] = _number(
            data.get("speed_kmh"), "speed_kmh", SPEED_RANGE, "km/h", errors, required=False
        )
    view = data.get("view") or None
    if view is not None and view not in VIEWS:
        errors.add("view", f"must be one of {', '.join(VIEWS)}")
    c["view"] = view
    spans = []
    for raw in data.getlist("exclude"):
        try:
            a, b = (float(x) for x in str(raw).split(":"))
        except ValueError:
            errors.add("exclude", "choose strides from the list")
            break
        spans.append([a, b])
    c["excluded"] = spans
    out.corrections = {k: val for k, val in c.items() if val not in (None, [], False)}
    return out, errors
