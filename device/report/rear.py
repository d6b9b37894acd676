"""The rear view: the frontal-plane metrics (pelvic drop, lateral sway, step width, knee alignment)
and what the rear camera delivered — or why it delivered nothing — in words for the session page
and the printed report alike.

The station's analysis carries ``analysis["rear"]`` when a rear camera was configured
(:func:`device.capture.rear.merge_rear`): ``metrics_from_rear`` (ids whose values came from it,
also tagged ``"source": "rear"``), ``frames``, ``view``, ``quality`` and ``error``.
"""

from __future__ import annotations

from typing import Any

from device.report import catalog

#: The table section that holds the rear-view metrics (catalog group).
REAR_GROUP = "Pelvis and knees (rear view)"
#: Rear/front-view metric ids, in contract order (gait-metrics.md).
REAR_IDS: tuple[str, ...] = tuple(m for m, inf in catalog.METRICS.items() if inf.group == REAR_GROUP)


def from_rear(m: dict[str, Any] | None) -> bool:
    """The metric's value came from the rear camera."""
    return m is not None and m.get("source") == "rear"


def rear_summary(analysis: dict[str, Any] | None) -> dict[str, Any]:
    """``{"text": one line, "ok": anything measured from behind, "camera": "rear" | "main" | None,
    "frames": int | None, "error": str | None, "front": filmed from the front}`` for the "Rear
    view" block ("Front view" when ``front``)."""
    a = analysis or {}
    rear = a.get("rear") if isinstance(a.get("rear"), dict) else None
    metrics = a.get("metrics") or {}
    measured = [m for m in REAR_IDS if _measured(metrics.get(m))]
    if rear is not None:
        taken = [m for m in rear.get("metrics_from_rear") or [] if m in metrics]
        frames = rear.get("frames") if isinstance(rear.get("frames"), int) else None
        error = str(rear["error"]) if rear.get("error") else None
        if taken:
            names = ", ".join(catalog.info(m).label.lower() for m in taken)
            frames_text = f" ({frames} frames)" if frames else ""
            text = f"Measured by the rear camera{frames_text}: {names}."
            if error:
                text += f" Note: {error}."
        elif error:
            text = f"Nothing measured from behind: {error}."
        else:
            frames_text = f"{frames} frames" if frames else "frames"
            text = f"The rear camera recorded {frames_text}, but none of its measurements was reliable (reasons below)."
        return {
            "text": text,
            "ok": bool(taken),
            "camera": "rear",
            "frames": frames,
            "error": error,
            "front": False,
        }
    kind = (a.get("view") or {}).get("kind")
    if kind in ("rear", "front"):
        where = "behind" if kind == "rear" else "the front"
        return {
            "text": f"Filmed from {where} by the main camera.",
            "ok": bool(measured),
            "camera": "main",
            "frames": None,
            "error": None,
            "front": kind == "front",
        }
    return {
        "text": "No rear camera on this session: these need a view from behind the treadmill.",
        "ok": bool(measured),
        "camera": None,
        "frames": None,
        "error": None,
        "front": False,
    }


def _measured(m: Any) -> bool:
    from device.report.units import is_number

    return isinstance(m, dict) and any(is_number(m.get(k)) for k in ("value", "left", "right"))
