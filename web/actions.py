"""What the dashboard and the API ask the station to do, in one place so both behave the same."""

from __future__ import annotations

import logging
import shutil
from typing import Any

from flask import abort

from device.errors import DiskFullError
from web import context
from web.errors import WrongStateError
from web.export_gate import gate
from web.forms import SessionForm

log = logging.getLogger(__name__)


def check_disk() -> None:
    """Refuse up front, before a new runner is created, what the capture controller would refuse
    anyway (same error class, so the same 507)."""
    cfg = context.config()
    need = cfg.storage.min_free_mb
    if need <= 0:
        return
    try:
        free_mb = shutil.disk_usage(cfg.data_dir).free / 1e6
    except OSError:
        return  # the controller reports an unusable data folder with its own message
    if free_mb < need:
        raise DiskFullError(
            f"disk nearly full: {free_mb:.0f} MB free, need {need} MB to capture; delete old sessions"
        )


class DuplicateRunnerError(WrongStateError):
    """A new runner's name is already taken: the form offers the existing runner instead."""

    def __init__(self, name: str, existing: list[dict[str, Any]]) -> None:
        super().__init__(
            f"a runner named {name!r} already exists: choose them, or confirm a different person"
        )
        self.existing = existing


def check_new_runner(req: SessionForm) -> None:
    """A typed name that exists is offered, not duplicated (unless confirmed a different person)."""
    if req.runner_id is not None or req.new_runner_confirmed:
        return
    existing = context.store().find_runners(req.runner_name or "")
    if existing:
        raise DuplicateRunnerError(req.runner_name or "", existing)


def _station_args(req: SessionForm) -> dict[str, Any]:
    """The station creates a new runner itself, so a run that never starts (refused, cancelled
    "get ready") leaves no runner behind and no height changed."""
    if req.runner_id is None:
        return {
            "runner": {"name": req.runner_name or "", "height_cm": req.height_cm},
            "session": req.session_fields(),
        }
    return {"runner_id": req.runner_id, "session": req.session_fields(), "height_cm": req.height_cm}


def start_capture(req: SessionForm | None) -> int:
    """Start a capture for an existing or new runner (``None``: the details prepared earlier);
    returns the new session id. A refused start (busy, disk full, camera down) leaves nothing."""
    station = context.station()
    check_disk()
    session_id = station.start_capture() if req is None else station.start_capture(**_station_args(req))
    if session_id is None:
        state = station.status().get("state") or "busy"
        raise WrongStateError(f"the station is {state}: wait for it to finish, or stop the capture first")
    return int(session_id)


def prepare_capture(req: SessionForm) -> dict[str, Any]:
    """Enter the next run's details; the start button (GPIO or tablet) then starts it."""
    return dict(context.station().prepare(**_station_args(req)))


def print_session(session_id: int, what: str) -> str:
    """Print the receipt summary or the full report; returns a line saying what happened."""
    station = context.station()
    session = context.store().get_session(session_id)
    if session.get("status") != "done" or not session.get("analysis"):
        raise WrongStateError(f"session {session_id} has no analysis to print yet ({session.get('status')})")
    if what == "summary":
        station.print_summary(session_id)
        return "Summary sent to the printer."
    with gate().slot():  # the report is rendered first: a heavy export
        job = station.print_report(session_id)  # the CUPS job id
    return f"Full report sent to the printer ({job})." if job else "Full report sent to the printer."


def delete_runner(runner_id: int) -> None:
    """Delete a runner with all their data; refused while one of their sessions is being
    captured or analysed. If they are the prepared next run, that is withdrawn first."""
    station = context.station()
    status = station.status()
    state = status.get("state")
    active_id = status.get("session_id")
    if active_id is not None and state in ("capturing", "analysing"):
        active = context.store().get_session(int(active_id))
        if active.get("runner_id") == runner_id:
            raise WrongStateError(
                f"this runner's session is {state} right now: wait, or stop the capture first"
            )
    if state == "ready" and station.prepared_runner_id() == runner_id:
        station.unprepare()
    context.store().delete_runner(runner_id)


def merge_runners(keep_id: int, other_id: int) -> dict[str, Any]:
    """Merge a duplicate runner into ``keep_id``; refused while a run is prepared or running
    (its request names a runner id that the merge would delete)."""
    state = context.station().status().get("state")
    if state in ("ready", "countdown", "starting", "capturing", "analysing"):
        raise WrongStateError(f"the station is {state}: merge runners when it is idle")
    return context.store().merge_runners(keep_id, other_id)


def delete_session(session_id: int) -> None:
    """Delete one session (keypoints, analysis, evidence frames, video); refused while it is being
    captured or analysed. NotFoundError (404) when there is no such session."""
    store = context.store()
    session = store.get_session(session_id)
    status = context.station().status()
    busy = status.get("session_id") == session_id and status.get("state") in ("capturing", "analysing")
    if busy or session.get("status") in ("capturing", "analysing"):
        state = status.get("state") if busy else session.get("status")
        raise WrongStateError(
            f"session {session_id} is {state} right now: stop the capture or wait for the analysis"
        )
    store.delete_session(session_id)


def _angles_for(analysis: dict[str, Any] | None, ev: dict[str, Any]) -> dict[str, Any]:
    meta = ev.get("meta") or {}
    if isinstance(meta.get("angles"), dict):
        return dict(meta["angles"])
    for item in (analysis or {}).get("evidence") or []:
        if (
            item.get("side") == ev.get("side")
            and item.get("phase") == ev.get("phase")
            and (
                item.get("frame") == ev.get("frame")
                or abs(float(item.get("t", -1e9)) - float(ev.get("t") or 0)) < 1e-3
            )
        ):
            return dict(item.get("angles") or {})
    return {}


def evidence_items(session: dict[str, Any], analysis_id: int | None = None) -> list[dict[str, Any]]:
    """The evidence frames of the session's current (or ``analysis_id``'s) analysis with the
    angles it measured on each."""
    items = []
    for ev in context.store().list_evidence(session["id"], analysis_id):
        items.append({**ev, "angles": _angles_for(session.get("analysis"), ev)})
    return items


def evidence_jpeg(session_id: int, evidence_id: int) -> bytes:
    """The evidence frame with skeleton and the measured angles drawn (device.report.evidence)."""
    from device.report.evidence import draw_evidence
    from device.store import NotFoundError

    store = context.store()
    try:
        ev = store.get_evidence(evidence_id)
        session = store.get_session(session_id)
    except NotFoundError as exc:
        abort(404, description=str(exc))
    if ev.get("session_id") != session_id:
        abort(404, description=f"evidence frame {evidence_id} is not part of session {session_id}")
    try:
        return draw_evidence(
            ev["jpeg"],
            ev.get("keypoints") or [],
            _angles_for(session.get("analysis"), ev),
            ev.get("side") or "left",
            crop=True,
            out_height=480,
            units=context.config().station.units,
        )
    except ValueError as exc:
        log.warning("evidence frame %s not drawable: %s", evidence_id, exc)
        return bytes(ev["jpeg"])


def reanalyse(session_id: int, corrections: dict[str, Any], created_by: str, note: str = "") -> int:
    """Analyse a session again with a clinician's corrections; refused while it is captured or
    analysed, or while the station captures (the Pi's time belongs to the capture)."""
    session = context.store().get_session(session_id)
    if session.get("status") in ("capturing", "analysing"):
        raise WrongStateError(f"session {session_id} is {session['status']}: correct it once it is done")
    state = context.station().status().get("state")
    if state in ("countdown", "starting", "capturing", "analysing"):
        raise WrongStateError(f"the station is {state}: correct sessions once it has finished")
    return int(context.station().reanalyse(session_id, corrections, created_by, note))


def video_info(session: dict[str, Any]) -> dict[str, Any]:
    """What the player needs: per recorded frame its time (s from the first analysed frame) and
    keypoints in the frame's pixels (as the current analysis labels the sides), and where the
    evidence frames are. Raises VideoUnavailableError (404)."""
    import numpy as np

    from device.corrections import swap_sides
    from device.keypoints import KP, LEFT_RIGHT_PAIRS, SKELETON_EDGES
    from device.report.catalog import event_label
    from device.store.video import open_video

    video = open_video(session)
    store = context.store()
    tl = store.get_keypoints(session["id"])
    if ((session.get("analysis") or {}).get("input") or {}).get("sides_swapped"):
        tl = swap_sides(tl, mirror=False)
    frames = np.asarray(video.frames, np.int64)
    jpeg0 = video.jpeg(0) if len(video) else b""
    width, height, scale = _jpeg_size(jpeg0, session.get("frame_width"))
    from device.report.review import time_origin

    # seconds into the session, as the charts and evidence captions count
    t0 = (
        time_origin(session.get("analysis"))
        if session.get("analysis")
        else (float(tl.t[0]) if len(tl) else 0.0)
    )
    times = np.interp(frames, tl.frame, tl.t) - t0 if len(tl) > 1 else np.zeros(len(frames))
    rows = np.searchsorted(tl.frame, frames) if len(tl) else np.zeros(len(frames), np.int64)
    kps: list[Any] = []
    for i, f in enumerate(frames):
        r = int(rows[i])
        if r >= len(tl) or int(tl.frame[r]) != int(f):
            kps.append(None)
            continue
        xy = np.nan_to_num(tl.xy[r] * scale, nan=-1.0)
        kps.append(
            [
                [int(round(x)), int(round(y)), int(round(100 * s))]
                for (x, y), s in zip(xy, tl.score[r], strict=True)
            ]
        )
    evidence = []
    for ev in store.list_evidence(session["id"]):
        pos = video.index_of(int(ev["frame"]))
        if pos is not None:
            evidence.append(
                {
                    "index": pos,
                    "side": ev.get("side"),
                    "phase": ev.get("phase"),
                    "t": float(times[pos]),
                    "label": event_label(ev.get("side"), ev.get("phase")),
                }
            )
    return {
        "session_id": session["id"],
        "n": len(video),
        "width": width,
        "height": height,
        "t": [round(float(x), 3) for x in times],
        "kp": kps,
        "evidence": evidence,
        "edges": [list(e) for e in SKELETON_EDGES],
        "left": [a for a, _ in LEFT_RIGHT_PAIRS],
        "right": [b for _, b in LEFT_RIGHT_PAIRS],
        "nose": KP["nose"],
    }


def _jpeg_size(jpeg: bytes, frame_width: int | None) -> tuple[int, int, float]:
    """(width, height) of a recorded frame and the scale from full-frame pixels to it."""
    import cv2
    import numpy as np

    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE) if jpeg else None
    if img is None:
        return 0, 0, 1.0
    h, w = img.shape[:2]
    return w, h, (w / float(frame_width)) if frame_width else 1.0


def video_frame(session: dict[str, Any], index: int) -> bytes:
    from device.store.video import open_video

    video = open_video(session)
    if not 0 <= index < len(video):
        abort(404, description=f"frame {index} is outside this session's video (0–{len(video) - 1})")
    return video.jpeg(index)
