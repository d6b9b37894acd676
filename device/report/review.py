"""The one reading of a stored analysis that every surface shows: the dashboard page, the API,
the receipt and the printed report all pass the analysis through :func:`reviewed`, which applies
the evidence gate (:func:`device.gait.evidence.review`) with the clinic's current norms and
coaching profile. The gate is pure; reading the norms file is done here (cached on the file's
path and modification time, so an edited norms file is picked up without a restart)."""

from __future__ import annotations

import math
import os
import threading
from typing import Any, overload

from device.camera import is_synthetic
from device.config import Config
from device.gait.cues import PROFILES
from device.gait.evidence import margin_why, review
from device.gait.norms import Norms
from device.norms_file import DEFAULT_PATH, load_norms
from device.report.units import Units, is_number, units_for

#: What every surface says of a capture of the synthetic runner (the station's demo camera).
DEMO_NOTE = (
    "Demo capture: the synthetic runner, drawn by the station, not a person. Its numbers describe no one."
)


def demo_note(session: dict[str, Any]) -> str | None:
    """:data:`DEMO_NOTE` for a session filmed from the synthetic runner, else None."""
    return DEMO_NOTE if is_synthetic(str(session.get("source") or "")) else None


_lock = threading.Lock()
_cache: dict[tuple[str, float], Norms] = {}


def clinic_norms(config: Config | None = None) -> Norms:
    """The clinic's norms (``[station] norms_file``; the packaged file when empty)."""
    path = str(config.station.norms_file or DEFAULT_PATH) if config is not None else str(DEFAULT_PATH)
    try:
        key = (path, os.stat(path).st_mtime)
    except OSError:
        return load_norms(path)  # raises the one-line ConfigError
    with _lock:
        norms = _cache.get(key)
    if norms is None:
        norms = load_norms(path)
        with _lock:
            _cache.clear()
            _cache[key] = norms
    return norms


def clinic_profile(config: Config | None = None) -> str:
    profile = config.station.coaching_profile if config is not None else "neutral"
    return profile if profile in PROFILES else "neutral"


@overload
def reviewed(
    analysis: dict[str, Any], config: Config | None = None, units: Units | None = None
) -> dict[str, Any]: ...
@overload
def reviewed(analysis: None, config: Config | None = None, units: Units | None = None) -> None: ...
def reviewed(
    analysis: dict[str, Any] | None, config: Config | None = None, units: Units | None = None
) -> dict[str, Any] | None:
    """The analysis with only the findings its evidence supports (None stays None), its reasons
    worded in the clinic's display units (``units``; else the configuration's, else metric):
    the gate words them in the analysis' own, and its numbers stay so."""
    if not isinstance(analysis, dict):
        return analysis
    a = review(analysis, clinic_norms(config), clinic_profile(config))
    shown = units or (units_for(config) if config is not None else Units())
    for ev in ((a.get("quality") or {}).get("evidence") or {}).values():
        margin = ev.get("margin") if isinstance(ev, dict) else None
        if isinstance(margin, dict) and is_number(margin.get("bound")) and is_number(margin.get("pm")):
            unit = str(margin.get("unit") or "")
            # a no-break space keeps "0.21 in" on one line in the narrow flag column
            bound = shown.value(margin["bound"], unit).replace(" ", "\u00a0")
            ev["why"] = margin_why(margin, bound, shown.margin(margin["pm"], unit).replace(" ", "\u00a0"))
    return a


def session_time(analysis: dict[str, Any] | None, t: Any) -> float | None:
    """A source-clock time (s) as seconds into the session: charts, captions and evidence
    frames count from the start of the capture, not the station clock."""
    if not isinstance(t, int | float) or isinstance(t, bool) or not math.isfinite(t):
        return None
    return float(t) - time_origin(analysis)


def time_origin(analysis: dict[str, Any] | None) -> float:
    """The source time of the session's first frame (``input.t0_s``); analyses made before it
    was recorded count from their first gait event (or first time they carry)."""
    a = analysis or {}
    t0 = (a.get("input") or {}).get("t0_s")
    if isinstance(t0, int | float) and not isinstance(t0, bool) and math.isfinite(t0):
        return float(t0)
    times = [e.get("t") for e in a.get("events") or [] if isinstance(e, dict)]
    times += [p[0] for p in a.get("cadence_series") or [] if isinstance(p, list | tuple) and p]
    times += [e.get("t") for e in a.get("evidence") or [] if isinstance(e, dict)]
    finite = [float(x) for x in times if isinstance(x, int | float) and math.isfinite(x)]
    return math.floor(min(finite)) if finite else 0.0


def session_series(analysis: dict[str, Any] | None) -> list[list[float]]:
    """The cadence series against seconds into the session (the two sessions of a comparison
    then share one time axis)."""
    out = []
    for p in (analysis or {}).get("cadence_series") or []:
        if isinstance(p, list | tuple) and len(p) >= 2:
            t = session_time(analysis, p[0])
            if t is not None:
                out.append([round(t, 3), p[1]])
    return out
