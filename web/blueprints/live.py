"""The live view's two streams (the MJPEG preview and the SSE status updates) and a snapshot.

The views only decide who may watch (the app's default-deny login check has already run) and
hand the stream over: served by :mod:`web.serve`, the response is a hand-over marker and the
server's event loop streams from the :class:`web.live_hub.LiveHub` without holding a request
thread; elsewhere (Flask test client, another WSGI server) the same feed is streamed by
:func:`web.live_hub.iter_stream`. Every stream ends on client disconnect, station shutdown,
logout, or a PIN change (:func:`web.security.grant_still_valid`).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request

from device.station_api import StationAPI
from web import context
from web.live_hub import (
    BOUNDARY,
    SSE_KEEPALIVE,
    SSE_RETRY,
    LiveHub,
    iter_stream,
    status_payload,
)
from web.security import grant_still_valid, stream_grant

bp = Blueprint("live", __name__)

__all__ = ["bp", "has_rear_camera", "status_payload"]

HANDOFF_ENVIRON = "gait.stream_handoff"  # set by web.serve: it streams the response itself
STREAM_HEADER = "X-Gait-Stream"  # the hand-over marker: which feed (never sent to the client)
GRANT_HEADER = "X-Gait-Stream-Grant"  # whose login the stream lives on (never sent either)


def hub() -> LiveHub:
    return current_app.extensions["gait_live_hub"]


def _stream(kind: str, mimetype: str) -> Response:
    grant = stream_grant()
    if request.environ.get(HANDOFF_ENVIRON):
        resp = Response(b"", mimetype=mimetype)
        resp.headers[STREAM_HEADER] = kind
        resp.headers[GRANT_HEADER] = grant
    else:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        shutdown = context.shutdown_event()
        events = kind == "events"
        body = iter_stream(
            hub().feed(kind),
            SSE_RETRY if events else None,
            SSE_KEEPALIVE if events else None,
            lambda: not shutdown.is_set() and grant_still_valid(app, grant),
        )
        resp = Response(body, mimetype=mimetype)
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Accel-Buffering"] = "no"
    return resp


@bp.route("/events")
def events() -> Response:
    """Server-sent events: one JSON status per update (state, times, cadence, hints, frame_t)."""
    return _stream("events", "text/event-stream")


def has_rear_camera(station: StationAPI) -> bool:
    """A rear camera is configured (``[camera] rear_source``) or running on this station."""
    return bool(context.config().camera.rear_source) or station.has_rear_camera()


@bp.route("/preview.mjpg")
def preview_stream() -> Response:
    """MJPEG of the station's preview (skeleton drawn by the station), at most
    ``[capture] live_preview_fps``; one encode per frame however many tablets watch."""
    return _stream("preview", f"multipart/x-mixed-replace; boundary={BOUNDARY}")


@bp.route("/rear.mjpg")
def rear_preview_stream() -> Response:
    """MJPEG of the rear camera's preview; 404 when the station has no rear camera."""
    if not has_rear_camera(context.station()):
        abort(404, description="this station has no rear camera ([camera] rear_source)")
    return _stream("rear", f"multipart/x-mixed-replace; boundary={BOUNDARY}")


@bp.route("/preview.jpg")
def preview_snapshot() -> Response:
    """The newest preview frame as one JPEG (204 when the camera has not produced one)."""
    latest = context.station().latest_preview()
    if latest is None:
        return Response(status=204)
    resp = Response(latest[1], mimetype="image/jpeg")
    resp.headers["X-Preview-Seq"] = str(latest[0])
    return resp
