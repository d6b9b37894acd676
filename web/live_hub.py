"""The live view's streams (SSE status, MJPEG previews) for any number of tablets.

One producer thread per stream follows the station and keeps the newest item, already encoded
as the one bytes object every viewer sends (SSE event, or MJPEG part head + JPEG + CRLF), with a
version number (a :class:`Feed`). Every viewer sends the newest item whenever it is newer than
the one it sent last: a coroutine on the server's event loop when served by :mod:`web.serve` (no
thread per viewer), or a plain generator under any other WSGI server or the Flask test client. So
20 tablets cost one status subscription, one preview poller, one JSON encode and one MJPEG part per
update, whatever their number, and one write per viewer per update; a slow tablet only ever gets
the newest item, never a backlog. A producer runs only while its stream has viewers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from device.station_api import StationAPI

log = logging.getLogger(__name__)

KEEPALIVE_S = 5.0  # short enough that a vanished tablet is noticed quickly
BOUNDARY = "gaitframe"
SSE_RETRY = b"retry: 2000\n\n"
SSE_KEEPALIVE = b": keep-alive\n\n"
IDLE_CHECK_S = 0.5  # producers and viewers look at their stop conditions this often


def status_payload(status: dict[str, Any], station: StationAPI) -> dict[str, Any]:
    """The status as sent to the dashboard, plus the clocks needed to measure display latency:
    ``server_time`` (wall clock when sent) and ``frame_age_s`` (station clock now − frame_t).
    ``message`` is the line for the state (:func:`web.present.live_message`); the station's own
    text stays in ``station_message``."""
    from web.present import live_message

    out = dict(status)
    out["station_message"] = status.get("message")
    out["message"] = live_message(status)
    out["server_time"] = time.time()
    frame_t = status.get("frame_t")
    if isinstance(frame_t, int | float):
        age = station.clock() - float(frame_t)
        # Only when the source's timestamps are on the station clock (a camera); a video file's
        # container times are not, and a made-up age would mislead the latency figures.
        if -0.5 <= age <= 600:
            out["frame_age_s"] = round(age, 4)
    return out


def sse_event(data: dict[str, Any], event_id: int) -> bytes:
    text = json.dumps(data, separators=(",", ":"), default=str)
    return f"id: {event_id}\ndata: {text}\n\n".encode()


def mjpeg_head(size: int) -> bytes:
    return f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {size}\r\n\r\n".encode("ascii")


class Feed:
    """The newest item of one stream, as the bytes to send, with a version number."""

    def __init__(self, name: str, producer: Callable[[Feed], None]) -> None:
        self.name = name
        self._producer = producer
        self._cond = threading.Condition()
        self._version = 0
        self._data = b""
        self._viewers = 0
        self._running = False
        self._refresh = False
        # One event per event loop for the next item, shared by all that loop's viewers: a
        # publish wakes a loop once, however many tablets wait on it.
        self._wakers: dict[asyncio.AbstractEventLoop, asyncio.Event] = {}

    # -- viewers ----------------------------------------------------------------------------

    @property
    def viewers(self) -> int:
        with self._cond:
            return self._viewers

    @property
    def waiting_loops(self) -> int:
        """Event loops with viewers waiting for the next item (one wake-up each per publish)."""
        with self._cond:
            return len(self._wakers)

    def join(self) -> None:
        with self._cond:
            self._viewers += 1
            self._refresh = True  # the newcomer wants the current state, not the last change
            if self._running:
                return
            self._running = True
        threading.Thread(target=self._run, name=f"stream-{self.name}", daemon=True).start()

    def leave(self) -> None:
        with self._cond:
            self._viewers = max(0, self._viewers - 1)

    def newer(self, version: int) -> tuple[int, bytes] | None:
        with self._cond:
            return (self._version, self._data) if self._version > version else None

    def wait(self, version: int, timeout: float) -> tuple[int, bytes] | None:
        """Block (a WSGI thread) until an item newer than ``version``, at most ``timeout``."""
        with self._cond:
            self._cond.wait_for(lambda: self._version > version, timeout)
            return (self._version, self._data) if self._version > version else None

    async def wait_async(self, version: int, timeout: float) -> tuple[int, bytes] | None:
        """The same for a coroutine: wakes on the event loop, never blocks it."""
        loop = asyncio.get_running_loop()
        with self._cond:
            if self._version > version:
                return self._version, self._data
            event = self._wakers.get(loop)
            if event is None:
                event = self._wakers[loop] = asyncio.Event()
        try:
            async with asyncio.timeout(timeout):  # no task per wait (asyncio.wait_for makes one)
                await event.wait()
        except TimeoutError:
            return None
        return self.newer(version)

    # -- the producer side ------------------------------------------------------------------

    @property
    def version(self) -> int:
        with self._cond:
            return self._version

    def publish(self, *parts: bytes) -> None:
        """The new item: ``parts`` joined once here, so each viewer's write is one shared object."""
        data = b"".join(parts)
        with self._cond:
            self._version += 1
            self._data = data
            self._cond.notify_all()
            wakers, self._wakers = self._wakers, {}
        for loop, event in wakers.items():
            with contextlib.suppress(RuntimeError):  # that loop has closed (server stopped)
                loop.call_soon_threadsafe(event.set)

    def take_refresh(self) -> bool:
        with self._cond:
            wanted, self._refresh = self._refresh, False
            return wanted

    def keep_running(self) -> bool:
        """Whether the producer should go on; False (and marked stopped) once nobody watches."""
        with self._cond:
            if self._viewers > 0:
                return True
            self._running = False
            return False

    def _run(self) -> None:
        try:
            self._producer(self)
        except Exception:
            log.exception("live %s stream producer failed", self.name)
        finally:
            with self._cond:
                self._running = False


class LiveHub:
    """The station's three live streams: ``events`` (SSE status), ``preview`` and ``rear``
    (MJPEG) — each a :class:`Feed` with its producer."""

    def __init__(self, station: StationAPI, preview_fps: float) -> None:
        self.station = station
        self.period = 1.0 / max(0.5, preview_fps)
        self.feeds = {
            "events": Feed("events", self._status_producer),
            "preview": Feed("preview", lambda f: self._preview_producer(f, station.latest_preview)),
            "rear": Feed("rear", lambda f: self._preview_producer(f, station.latest_rear_preview)),
        }

    def feed(self, kind: str) -> Feed:
        return self.feeds[kind]

    def _status_producer(self, feed: Feed) -> None:
        station = self.station
        sub = station.subscribe()
        try:
            feed.take_refresh()
            feed.publish(sse_event(status_payload(station.status(), station), feed.version + 1))
            while feed.keep_running():
                try:
                    item = sub.get(timeout=IDLE_CHECK_S)
                except queue.Empty:
                    if feed.take_refresh():
                        item = station.status()
                    else:
                        continue
                if item is None:  # the station closed this subscription (shutting down)
                    break
                while True:  # the newest snapshot, not a backlog
                    try:
                        newer = sub.get_nowait()
                    except queue.Empty:
                        break
                    if newer is None:
                        return
                    item = newer
                feed.take_refresh()
                feed.publish(sse_event(status_payload(item, station), feed.version + 1))
        finally:
            sub.close()

    def _preview_producer(self, feed: Feed, latest: Callable[[], tuple[int, bytes] | None]) -> None:
        last_seq = None
        next_send = 0.0
        while feed.keep_running():
            now = time.monotonic()
            if now < next_send:
                time.sleep(min(next_send - now, IDLE_CHECK_S))
                continue
            got = latest()
            if got is None or got[0] == last_seq:
                time.sleep(min(self.period / 2, 0.1))
                continue
            last_seq, jpeg = got
            # One copy of the JPEG per frame, shared by every viewer: one write each.
            feed.publish(mjpeg_head(len(jpeg)), jpeg, b"\r\n")
            next_send = now + self.period


def iter_stream(
    feed: Feed, first: bytes | None, keepalive: bytes | None, go_on: Callable[[], bool]
) -> Iterator[bytes]:
    """A stream as a WSGI body (one thread per viewer): only where :mod:`web.serve`'s
    event-loop streaming is not in front (the Flask test client, another WSGI server)."""
    feed.join()
    try:
        if first:
            yield first
        version, last = 0, time.monotonic()
        while go_on():
            got = feed.wait(version, IDLE_CHECK_S)
            if got is not None:
                version, data = got
                yield data
                last = time.monotonic()
            elif keepalive and time.monotonic() - last >= KEEPALIVE_S:
                yield keepalive
                last = time.monotonic()
    finally:
        feed.leave()
