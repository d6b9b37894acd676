"""The live view's two streams: the MJPEG preview and the SSE status updates.

Both are long-lived responses, each holding one waitress thread. The preview re-sends the
station's already-encoded JPEG (one encode per preview frame however many tablets watch) at
most ``[capture] live_preview_fps``; the status stream forwards the station's pushed updates
(no polling of the capture loop) and writes a keep-alive comment when idle. Each stream ends on
client disconnect (waitress tells us), on station shutdown, or when a write fails.
"""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Blueprint, Response, abort, request

from web import context

bp = Blueprint("live", __name__)

KEEPALIVE_S = 5.0  # short enough that a vanished tablet is noticed quickly
BOUNDARY = "gaitframe"


def _disconnected() -> Callable[[], bool]:
    check = request.environ.get("waitress.client_disconnected")
    return check if callable(check) else (lambda: False)


def status_payload(status: dict[str, Any], station: Any) -> dict[str, Any]:
    """The status as sent to the dashboard, plus the clocks needed to measure display latency:
    ``server_time`` (wall clock when sent) and ``frame_age_s`` (station clock now − frame_t).
    ``message`` is the line for the state (:func:`web.present.live_message`); the station's own
    text stays in ``station_message``."""
    from web.present import live_message

    out = dict(status)
    out["station_message"] = status.get("message")
    out["message"] = live_message(status)
    out["server_time"] = time.time()
    clock = getattr(station, "clock", None)
    frame_t = status.get("frame_t")
    if callable(clock) and isinstance(frame_t, int | float):
        age = float(clock()) - float(frame_t)
        # Only when the source's timestamps are on the station clock (a camera); a video file's
        # container times are not, and a made-up age would mislead the latency figures.
        if -0.5 <= age <= 600:
            out["frame_age_s"] = round(age, 4)
    return out


def _sse(data: dict[str, Any], event_id: int | None = None) -> bytes:
    text = json.dumps(data, separators=(",", ":"), default=str)
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}data: {text}\n\n".encode()


def _subscription(station: Any) -> tuple[Any, Callable[[], None]]:
    sub = station.subscribe()

    def close() -> None:
        if hasattr(sub, "close"):
            sub.close()
        elif hasattr(station, "unsubscribe"):
            station.unsubscribe(sub)

    return sub, close


@bp.route("/events")
def events() -> Response:
    """Server-sent events: one JSON status per update (state, times, cadence, hints, frame_t)."""
    station = context.station()
    shutdown = context.shutdown_event()
    disconnected = _disconnected()

    def stream() -> Iterator[bytes]:
        sub, close = _subscription(station)
        seq = 0
        try:
            yield b"retry: 2000\n\n"
            seq += 1
            yield _sse(status_payload(station.status(), station), seq)
            last_write = time.monotonic()
            while not shutdown.is_set() and not disconnected():
                try:
                    item = sub.get(timeout=0.5)
                except queue.Empty:
                    if time.monotonic() - last_write >= KEEPALIVE_S:
                        yield b": keep-alive\n\n"
                        last_write = time.monotonic()
                    continue
                if item is None:  # the station closed this subscription
                    break
                # A slow tablet gets the newest snapshot, not a backlog.
                while True:
                    try:
                        newer = sub.get_nowait()
                    except queue.Empty:
                        break
                    if newer is None:
                        return
                    item = newer
                seq += 1
                yield _sse(status_payload(item, station), seq)
                last_write = time.monotonic()
        finally:
            close()

    resp = Response(stream(), mimetype="text/event-stream")
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Accel-Buffering"] = "no"
    return resp


def has_rear_camera(station: Any) -> bool:
    """A rear camera is configured (``[camera] rear_source``) or running on this station."""
    if context.config().camera.rear_source:
        return True
    return getattr(getattr(station, "controller", None), "rear", None) is not None


def _mjpeg(latest: Callable[[], tuple[int, bytes] | None]) -> Response:
    """multipart/x-mixed-replace MJPEG of ``latest()`` (the station's already-encoded preview)."""
    shutdown = context.shutdown_event()
    disconnected = _disconnected()
    period = 1.0 / max(0.5, context.config().capture.live_preview_fps)

    def stream() -> Iterator[bytes]:
        last_seq = None
        next_send = 0.0
        while not shutdown.is_set() and not disconnected():
            now = time.monotonic()
            if now < next_send:
                time.sleep(min(next_send - now, 0.5))
                continue
            got = latest()
            if got is None or got[0] == last_seq:
                time.sleep(min(period / 2, 0.1))
                continue
            last_seq, jpeg = got
            # Header, then the shared JPEG bytes object itself: no copy, no re-encode per viewer.
            yield (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n").encode(
                "ascii"
            )
            yield jpeg
            yield b"\r\n"
            next_send = now + period

    resp = Response(stream(), mimetype=f"multipart/x-mixed-replace; boundary={BOUNDARY}")
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/preview.mjpg")
def preview_stream() -> Response:
    """MJPEG of the station's preview (skeleton drawn by the station)."""
    return _mjpeg(context.station().latest_preview)


@bp.route("/rear.mjpg")
def rear_preview_stream() -> Response:
    """MJPEG of the rear camera's preview; 404 when the station has no rear camera."""
    station = context.station()
    getter = getattr(station, "latest_rear_preview", None)
    if getter is None or not has_rear_camera(station):
        abort(404, description="this station has no rear camera ([camera] rear_source)")
    return _mjpeg(getter)


@bp.route("/preview.jpg")
def preview_snapshot() -> Response:
    """The newest preview frame as one JPEG (204 when the camera has not produced one)."""
    latest = context.station().latest_preview()
    if latest is None:
        return Response(status=204)
    resp = Response(latest[1], mimetype="image/jpeg")
    resp.headers["X-Preview-Seq"] = str(latest[0])
    return resp
