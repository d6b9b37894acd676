"""Server-side validation of the new-session form and the capture/start JSON body.

One validator for both, so the tablet form and the API accept and refuse exactly the same
things, with a message per field a clinician can act on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

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
class SessionRequest:
    """A validated capture request: either ``runner_id`` or a new ``runner_name``."""

    runner_id: int | None = None
    runner_name: str | None = None
    height_cm: float | None = None
    speed_kmh: float | None = None
    incline_pct: float = 0.0
    shoes: str = ""
    notes: str = ""
    view: str = "side"

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


def parse_session_request(
    data: dict[str, Any], known_runner_ids: set[int] | None = None
) -> tuple[SessionRequest, FormErrors]:
    """Validate a form (strings) or JSON body (typed) into a :class:`SessionRequest`.

    Accepts ``runner_id`` for an existing runner, or ``runner_name``/``height_cm`` (form) or
    ``runner: {name, height_cm}`` (JSON) for a new one. ``height_cm`` given with an existing
    runner updates the height used for this session.
    """
    errors = FormErrors()
    req = SessionRequest()
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
    if req.runner_id is None and "runner_id" not in errors.fields:
        req.runner_name = _text(name_val, "runner_name", NAME_MAX, errors, required=True) or None
        req.height_cm = _number(height_val, "height_cm", HEIGHT_RANGE, "cm", errors, required=True)
    else:
        req.height_cm = _number(height_val, "height_cm", HEIGHT_RANGE, "cm", errors, required=False)
    req.speed_kmh = _number(data.get("speed_kmh"), "speed_kmh", SPEED_RANGE, "km/h", errors, required=True)
    incline = _number(data.get("incline_pct"), "incline_pct", INCLINE_RANGE, "%", errors, required=False)
    req.incline_pct = incline if incline is not None else 0.0
    req.shoes = _text(data.get("shoes"), "shoes", SHOES_MAX, errors)
    req.notes = _text(data.get("notes"), "notes", NOTES_MAX, errors)
    view = data.get("view") or "side"
    if view not in VIEWS:
        errors.add("view", f"must be one of {', '.join(VIEWS)}")
    else:
        req.view = view
    return req, errors
