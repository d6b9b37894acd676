"""Printing test fixtures: a realistic stored session and the private CUPS server."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.cups_server import cups_server  # noqa: F401 - session fixture re-exported for this package


def _metric(
    value: Any,
    unit: str,
    *,
    left: Any = None,
    right: Any = None,
    flag: str | None = None,
    reason: str | None = None,
    normal: list[Any] | None = None,
    n: int = 40,
) -> dict[str, Any]:
    return {
        "value": value,
        "unit": unit,
        "left": left,
        "right": right,
        "sd": None if value is None else 1.0,
        "n": 0 if value is None else n,
        "flag": flag,
        "reason": reason,
        "normal": normal,
    }


SESSION: dict[str, Any] = {
    "id": 7,
    "runner_id": 3,
    "runner": {"id": 3, "name": "Jane Müller", "height_cm": 170.0},
    "status": "done",
    "started_at": "2026-11-22T10:30:00.000+00:00",
    "speed_kmh": 12.0,
    "incline_pct": 1.0,
    "shoes": "Pegasus 40",
    "error": None,
    "analysis": {
        "schema_version": 1,
        "cadence_spm": 164.4,
        "view": {"kind": "side", "facing": "right"},
        "metrics": {
            "cadence_spm": _metric(164.4, "spm", flag="low", normal=[170, 185]),
            "contact_time_ms": _metric(252.0, "ms", left=248.0, right=256.0, normal=[180, 280]),
            "overstride_cm": _metric(14.2, "cm", left=13.9, right=14.5, flag="high", normal=[None, 10]),
            "knee_flexion_ic_deg": _metric(12.0, "deg", left=11.0, right=13.0, normal=[10, 25]),
            "vertical_oscillation_cm": _metric(None, "cm", reason="hips not seen in enough strides"),
        },
        "quality": {"verdict": "Good side view; feet visible throughout."},
    },
}


@pytest.fixture
def session() -> dict[str, Any]:
    return copy.deepcopy(SESSION)
