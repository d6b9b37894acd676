"""One capture request type, validated once when it is made.

The web form layer converts strings to a :class:`CaptureRequest`; the station, the controller
and the store take it as it is. Limits are the store's (``device.store.validate``), so the form,
the API and the store refuse exactly the same values.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from device.errors import InputError
from device.store import validate as limits

_SESSION_FIELDS = ("speed_kmh", "incline_pct", "shoes", "notes", "view")


@dataclass(frozen=True)
class CaptureRequest:
    """What a capture is for: the runner and the session details entered by the clinician.

    Construction validates (:class:`~device.errors.InputError` with the field's name), so a
    ``CaptureRequest`` that exists is a valid one.
    """

    runner_id: int | None = None
    speed_kmh: float | None = None
    incline_pct: float | None = None
    shoes: str = ""
    notes: str = ""
    view: str = "auto"

    def __post_init__(self) -> None:
        rid = self.runner_id
        if rid is not None and (isinstance(rid, bool) or not isinstance(rid, int) or rid < 1):
            raise InputError(f"runner_id: must be the number of an existing runner (got {rid!r})")
        set_ = object.__setattr__  # frozen: normalised values are set once, here
        set_(self, "speed_kmh", limits.speed_kmh(self.speed_kmh))
        set_(self, "incline_pct", limits.incline_pct(self.incline_pct))
        set_(self, "shoes", limits.text("shoes", self.shoes, limits.SHOES_MAX))
        set_(self, "notes", limits.text("notes", self.notes, limits.NOTES_MAX))
        if not isinstance(self.view, str):
            raise InputError(f"view: must be one of {', '.join(limits.VIEWS)} (got {self.view!r})")
        set_(self, "view", limits.view(self.view))

    @classmethod
    def from_dict(cls, runner_id: int | None, d: dict[str, Any] | None) -> CaptureRequest:
        """From the API's ``session`` object (unknown fields refused)."""
        d = dict(d or {})
        unknown = set(d) - set(_SESSION_FIELDS) - {"runner_id"}
        if unknown:
            raise InputError(f"unknown session field(s): {', '.join(sorted(unknown))}")
        rid = runner_id if runner_id is not None else d.get("runner_id")
        return cls(runner_id=rid, **{k: d[k] for k in _SESSION_FIELDS if d.get(k) is not None})

    def for_runner(self, runner_id: int) -> CaptureRequest:
        """The same request for ``runner_id`` (a runner created for it)."""
        return dataclasses.replace(self, runner_id=runner_id)

    def session_fields(self) -> dict[str, Any]:
        return {
            "speed_kmh": self.speed_kmh,
            "incline_pct": self.incline_pct,
            "shoes": self.shoes,
            "notes": self.notes,
            "view": self.view,
        }
