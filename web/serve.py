"""`gait-station run`: the station (camera, pose, buttons, printers) plus the dashboard, on
exactly the configured host and port, until SIGTERM/SIGINT.

The dashboard is served by uvicorn (event loop uvloop, else asyncio; HTTP/1.1 parsed by
httptools, else h11: both in C, so a request costs the station little Python) in front of the
Flask app:

- pages and API requests run in a pool of ``[web] threads`` threads (a2wsgi), each request's
  body read in full on the event loop first, so a slow sender never holds a thread;
- the live streams (SSE status, MJPEG previews) are handed over by the Flask view after its
  login check and streamed by coroutines on the event loop (:mod:`web.live_hub`): 20 tablets
  cost 20 sockets, not 20 threads, so Stop, status and login always find a free thread;
- connections that never finish a request head are closed after ``HEAD_TIMEOUT_S``; one
  address may hold at most ``PER_ADDRESS_CONNECTIONS``; over ``MAX_CONNECTIONS`` the oldest
  idle connection makes room. 120 half-sent connections cost 120 sockets and lock nobody out
  (waitress's connection limit did); a request head is at most ``MAX_HEAD_BYTES``;
- the event loop and the request threads run at the capture's priority and the GIL changes
  hands every millisecond (see ``DASHBOARD_NICE`` and docs/load.md): what holds the GIL must
  not be preempted by the capture's own threads while the camera loop waits for it.

Shutdown order: the app's shutdown event ends the live streams within a second, the server
stops accepting and finishes the requests in progress, then the station stops the camera,
finishes or interrupts the capture and closes the store.

This module is imported by the CLI at startup: keep heavy imports inside functions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import resource
import signal
import socket
import sys
import threading
import time
from collections import OrderedDict
from typing import Any

from device.cli_args import number
from device.errors import UserError

log = logging.getLogger(__name__)

HEAD_TIMEOUT_S = 10.0  # a request head (or the next one on a kept-alive connection) within this
BODY_TIMEOUT_S = 20.0  # a request body (≤ 256 KB) within this
PER_ADDRESS_CONNECTIONS = 32  # a browser opens ≤ 6 per host; the live page 2 more
MAX_CONNECTIONS = 512
MAX_HEAD_BYTES = 16 * 1024  # a request head (request line + headers) at most this long
HEAD_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
)
WRITE_TIMEOUT_S = 20.0  # a live viewer that accepts no data this long is dropped
# The event loop and request threads run at the capture's own priority: they hold the GIL in
# turns with the camera loop, and a lower-priority thread preempted while holding it makes the
# camera wait for it (measured by bench/bench_load.py with 20 viewers: nice 5 cost the camera
# loop 36 % of its frame rate, nice 0 none). What is slow without the GIL (the PIN hash) runs
# lower (:class:`web.security.PinChecker`).
DASHBOARD_NICE = 0
# How long a thread may hold the GIL while another waits for it (CPython's default is 5 ms): the
# camera loop takes the GIL back after every OpenCV call, several times a frame at 120 fps, and
# must not wait 5 ms each time for the dashboard's Python.
GIL_SWITCH_INTERVAL_S = 0.001
STREAM_PATHS = frozenset({"/live/events", "/live/preview.mjpg", "/live/rear.mjpg"})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        metavar="SPEC",
        help="camera: picamera[:N] | webcam[:N] | synthetic | a video file | auto "
        "(default: [camera] source; auto = the Pi camera where Picamera2 is installed, else synthetic)",
    )
    parser.add_argument("--host", help="address to listen on (default: [web] host, 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=number("port", 1, 65535, integer=True),
        help="port to listen on (default: [web] port, 8080)",
    )
    parser.add_argument("--config", metavar="FILE", help="configuration file (TOML)")
    parser.add_argument(
        "--data-dir", metavar="DIR", help="station data directory (default: per-user data dir)"
    )


def _http_protocol() -> type:
    """uvicorn's httptools protocol (a C parser: a request costs a fraction of h11's pure-Python
    parsing, which is what a login flood and 20 viewers' writes spend the CPU on), else h11."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # httptools not installed: the pure-Python parser works the same
        from uvicorn.protocols.http.h11_impl import H11Protocol

        return H11Protocol
    return HttpToolsProtocol


def _event_loop() -> str:
    """uvloop (libuv, in C: connections, timers and tasks cost a fraction of asyncio's pure
    Python, which a login flood spends the dashboard's CPU on), else asyncio."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def _guarded_protocol(limits: dict[str, Any]) -> type:
    """uvicorn's HTTP protocol with the connection limits above (one class per server: its
    counters are that server's)."""
    base = _http_protocol()
    per_address: dict[str, int] = {}
    open_conns: OrderedDict[Any, None] = OrderedDict()

    class GuardedProtocol(base):  # type: ignore[valid-type,misc]
        _head_bytes = 0

        def data_received(self, data: bytes) -> None:
            in_head = self._idle()
            super().data_received(data)
            if in_head and self._idle():
                # Still no whole request head: httptools (unlike h11) does not bound it. At
                # most MAX_HEAD_BYTES, as h11 allows, then 431 and the connection is closed. (A
                # chunk that completes a head, with a body behind it, is not counted.)
                self._head_bytes += len(data)
                if self._head_bytes > limits["max_head"] and not self.transport.is_closing():
                    self.transport.write(HEAD_TOO_LARGE)
                    self.transport.close()

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._head_timer: asyncio.TimerHandle | None = None
            self._address = self.client[0] if self.client else "?"
            per_address[self._address] = per_address.get(self._address, 0) + 1
            open_conns[self] = None
            if per_address[self._address] > limits["per_address"]:
                transport.close()  # one address may not hold the whole server
                return
            if len(open_conns) > limits["max"]:
                oldest_idle = next((c for c in open_conns if c is not self and c._idle()), None)
                if oldest_idle is not None:
                    oldest_idle.transport.close()
            self._arm_head_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
            if open_conns.pop(self, 0) is None:
                left = per_address.get(self._address, 1) - 1
                if left > 0:
                    per_address[self._address] = left
                else:
                    per_address.pop(self._address, None)
            super().connection_lost(exc)

        def _idle(self) -> bool:
            """No request in progress: nothing is lost by closing this connection."""
            return self.cycle is None or self.cycle.response_complete

        def _arm_head_timer(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
            self._head_timer = self.loop.call_later(limits["head_timeout"], self._head_timeout)

        def _head_timeout(self) -> None:
            self._head_timer = None
            if self._idle() and not self.transport.is_closing():
                self.transport.close()  # a half-sent (or never sent) request head

        def on_response_complete(self) -> None:
            self._head_bytes = 0
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm_head_timer()

    return GuardedProtocol


class DashboardApp:
    """The ASGI application uvicorn serves: the Flask app through a2wsgi's thread pool, with
    request bodies read before a thread is used, and live streams taken over after the Flask
    view said who may watch (:mod:`web.blueprints.live`)."""

    def __init__(self, app: Any, threads: int) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from a2wsgi import WSGIMiddleware

        from web.blueprints.live import HANDOFF_ENVIRON
        from web.security import lower_thread_priority

        self.app = app
        self.max_body = int(app.config.get("MAX_CONTENT_LENGTH") or 256 * 1024)
        self._handoff_key = HANDOFF_ENVIRON
        self.wsgi: Any = WSGIMiddleware(self._wsgi, workers=threads)
        self.wsgi.executor.shutdown(wait=False)
        self.executor = ThreadPoolExecutor(
            threads, thread_name_prefix="WSGI", initializer=lower_thread_priority, initargs=(DASHBOARD_NICE,)
        )
        self.wsgi.executor = self.executor

    def _wsgi(self, environ: Any, start_response: Any) -> Any:
        environ[self._handoff_key] = True
        return self.app(environ, start_response)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if (
            scope["path"] == "/login"
            and scope["method"] in ("GET", "POST")
            and await self._refuse_login(scope, send)
        ):
            return  # before its body is read: a refused PIN is never looked at
        body = await self._read_body(scope, receive, send)
        if body is None:
            return
        replay = _Replay(body, receive)
        if scope["path"] in STREAM_PATHS:  # every method: its internal headers never leave
            await self._maybe_stream(scope, replay, send)
        else:
            await self.wsgi(scope, replay, send)

    async def _refuse_login(self, scope: dict[str, Any], send: Any) -> bool:
        """A login the rate limits refuse anyway (and the login page for a client that must
        wait) is answered here, before a request thread or a template is used: a wrong-PIN
        flood then costs the station little. The login view admits and records under the
        limiter's lock; this only reads it."""
        from http.cookies import CookieError, SimpleCookie

        from web.security import DEVICE_COOKIE, login_client_for

        raw = b"; ".join(v for k, v in scope.get("headers") or [] if k == b"cookie").decode("latin-1")
        morsel = None
        if DEVICE_COOKIE in raw:  # parsed only when it may be there: a flood sends none
            with contextlib.suppress(CookieError):
                morsel = SimpleCookie(raw).get(DEVICE_COOKIE)
        address = (scope.get("client") or ("?", 0))[0]
        cookie = morsel.value if morsel else None
        pin_hash = self.app.extensions["gait_pins"].current()
        client, trusted = login_client_for(address, cookie, self.app.secret_key, pin_hash)
        wait = self.app.extensions["gait_login_limiter"].would_wait(client, trusted)
        if not wait:
            return False
        html = (
            "<!doctype html><meta charset=utf-8><title>Too many tries</title>"
            f"<p>Too many wrong PINs. Try again in {wait} s.</p><p><a href=/login>Back to the login</a></p>"
        )
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"retry-after", str(wait).encode()),
                    (b"cache-control", b"no-store"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"content-security-policy", b"default-src 'none'"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": html.encode(), "more_body": False})
        return True

    async def _read_body(self, scope: dict[str, Any], receive: Any, send: Any) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(BODY_TIMEOUT_S):
                while True:
                    msg = await receive()
                    if msg["type"] == "http.disconnect":
                        return None
                    chunk = msg.get("body", b"")
                    size += len(chunk)
                    if size > self.max_body + 1:
                        await _plain(send, 413, "request body too large")
                        return None
                    chunks.append(chunk)
                    if not msg.get("more_body"):
                        return b"".join(chunks)
        except TimeoutError:
            await _plain(send, 408, "the request body took too long")
            return None

    async def _maybe_stream(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """A live stream's path: the view's hand-over marker is taken over (GET) or answered with
        the stream's headers only (HEAD); the internal headers (which feed, whose login) are
        removed from whatever the view answered, for any method."""
        from web.blueprints.live import GRANT_HEADER, STREAM_HEADER

        marker, grant_name = STREAM_HEADER.lower().encode(), GRANT_HEADER.lower().encode()
        handoff: dict[str, Any] = {}

        async def capture(msg: dict[str, Any]) -> None:
            if msg["type"] == "http.response.start":
                raw = msg.get("headers") or []
                headers = dict(raw)
                kept = [(k, v) for k, v in raw if k not in (marker, grant_name)]
                if msg.get("status") == 200 and marker in headers:
                    handoff["kind"] = headers[marker].decode()
                    handoff["grant"] = headers.get(grant_name, b"").decode()
                    kept = [(k, v) for k, v in kept if k != b"content-length"]
                    handoff["start"] = {**msg, "headers": kept}
                    return
                msg = {**msg, "headers": kept}
            if "start" in handoff:
                return  # the marker's empty body
            await send(msg)

        await self.wsgi(scope, receive, capture)
        if "start" not in handoff:
            return
        if scope["method"] == "GET":
            await self._stream(handoff, receive, send)
        else:  # HEAD: what a GET would start with, and no stream
            await send(handoff["start"])
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _stream(self, handoff: dict[str, Any], receive: Any, send: Any) -> None:
        from web.live_hub import IDLE_CHECK_S, KEEPALIVE_S, SSE_KEEPALIVE, SSE_RETRY
        from web.security import grant_still_valid

        app = self.app
        feed = app.extensions["gait_live_hub"].feed(handoff["kind"])
        shutdown: threading.Event = app.extensions.setdefault("gait_shutdown", threading.Event())
        grant = handoff["grant"]
        events = handoff["kind"] == "events"
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        async def write(data: bytes) -> None:
            msg = {"type": "http.response.body", "body": data, "more_body": True}
            async with asyncio.timeout(WRITE_TIMEOUT_S):  # no task per write (wait_for makes one)
                await send(msg)

        loop = asyncio.get_running_loop()
        watcher = loop.create_task(watch())
        feed.join()
        try:
            await send(handoff["start"])
            if events:
                await write(SSE_RETRY)
            version, last, checked = 0, loop.time(), loop.time()
            while not gone.is_set() and not shutdown.is_set():
                if loop.time() - checked >= IDLE_CHECK_S:
                    # a logout or PIN change ends the stream within a second; checked at that
                    # pace, not per frame (it reads the PIN file's stamp)
                    if not grant_still_valid(app, grant):
                        break
                    checked = loop.time()
                got = await feed.wait_async(version, IDLE_CHECK_S)
                if got is not None:
                    version, data = got
                    await write(data)
                    last = loop.time()
                elif events and loop.time() - last >= KEEPALIVE_S:
                    await write(SSE_KEEPALIVE)
                    last = loop.time()
            if not gone.is_set():
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except TimeoutError:
            log.info("a live viewer accepted no data for %.0f s: dropped", WRITE_TIMEOUT_S)
            # returning without finishing the response makes uvicorn close the connection
        finally:
            feed.leave()
            watcher.cancel()


class _Replay:
    """``receive`` for the app: the body already read, then the client's own events (disconnect)."""

    def __init__(self, body: bytes, receive: Any) -> None:
        self._body: bytes | None = body
        self._receive = receive

    async def __call__(self) -> dict[str, Any]:
        if self._body is not None:
            body, self._body = self._body, None
            return {"type": "http.request", "body": body, "more_body": False}
        return await self._receive()


async def _plain(send: Any, status: int, text: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": text.encode() + b"\n", "more_body": False})


def _raise_fd_limit(want: int) -> None:
    # Each connection is a file descriptor: make room for MAX_CONNECTIONS plus the station's own.
    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target = want if hard == resource.RLIM_INFINITY else min(want, hard)
        if soft != resource.RLIM_INFINITY and soft < target:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _listen(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    family, _, _, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(addr)
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


class DashboardServer:
    """uvicorn serving one Flask app in a thread: :meth:`start` (tests, benchmarks) or
    :meth:`serve_forever` (until :meth:`stop`, e.g. from a signal handler); :meth:`stop`
    ends the streams and the server cleanly."""

    def __init__(self, app: Any, host: str, port: int, threads: int = 16) -> None:
        import uvicorn

        self.app = app
        _raise_fd_limit(MAX_CONNECTIONS + 512)
        self.sock = _listen(host, port)
        self.asgi = DashboardApp(app, threads)
        self.limits = {
            "per_address": PER_ADDRESS_CONNECTIONS,
            "max": MAX_CONNECTIONS,
            "head_timeout": HEAD_TIMEOUT_S,
            "max_head": MAX_HEAD_BYTES,
        }
        config = uvicorn.Config(
            self.asgi,
            http=_guarded_protocol(self.limits),
            ws="none",
            lifespan="off",
            interface="asgi3",
            loop=_event_loop(),
            log_config=None,
            access_log=False,
            proxy_headers=False,  # no proxy in front: X-Forwarded-For must never pick the client address
            server_header=False,
            timeout_keep_alive=5,
            timeout_graceful_shutdown=3,
        )
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()

    @property
    def host(self) -> str:
        return str(self.sock.getsockname()[0])

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    @property
    def url(self) -> str:
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    def _shutdown_event(self) -> threading.Event:
        return self.app.extensions.setdefault("gait_shutdown", threading.Event())

    def start(self) -> DashboardServer:
        # Process-wide: the dashboard shares this process (and its GIL) with the capture.
        sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_INTERVAL_S))
        self._thread = threading.Thread(target=self._run, name="dashboard-server", daemon=True)
        self._thread.start()
        end = time.monotonic() + 10
        while not self.server.started and self._thread.is_alive() and time.monotonic() < end:
            time.sleep(0.01)
        if not self.server.started:
            self.stop(timeout=2)
            raise UserError(f"the dashboard server did not start on {self.url} (see the log above)")
        return self

    def _run(self) -> None:
        from web.security import lower_thread_priority

        lower_thread_priority(DASHBOARD_NICE)
        try:
            self.server.run(sockets=[self.sock])
        finally:
            self._stopped.set()

    def serve_forever(self) -> None:
        """Serve until :meth:`stop` is called (from a signal handler or another thread)."""
        self.start()
        while not self._stopped.wait(0.5):
            pass

    def request_stop(self) -> None:
        """Begin stopping (safe in a signal handler): streams end, the server winds down."""
        self._shutdown_event().set()  # streams end within ~0.5 s
        self.server.should_exit = True

    def stop(self, timeout: float = 8.0) -> None:
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
        self.asgi.close()
        with contextlib.suppress(OSError):
            self.sock.close()


def _open_station(cfg: Any, source: str) -> Any:
    """The started station, or one line saying why not (a damaged or read-only database is a
    fact about the data folder, not a crash)."""
    import sqlite3

    from device.station import Station

    station = None
    try:
        station = Station(cfg, source_spec=source)
        station.start()
    except sqlite3.Error as exc:
        if station is not None:
            with contextlib.suppress(Exception):
                station.close()
        db = cfg.data_dir / "station.db"
        why = str(exc)
        hint = (
            "make the data folder and the database writable by the station's user"
            if "readonly" in why or "read-only" in why
            else "restore a backup or move the file away (`gait-station doctor` checks it)"
        )
        raise UserError(f"cannot use the database {db}: {why}; {hint}") from None
    return station


def main(args: argparse.Namespace) -> int:
    from device.config import load_config
    from web.app import create_app

    cfg = load_config(args.config, args.data_dir)
    if args.host:
        cfg.web.host = args.host
    if args.port is not None:
        cfg.web.port = int(args.port)
    source = args.source or cfg.camera.source or "auto"

    station = _open_station(cfg, source)
    try:
        app = create_app(station, cfg)
        server = DashboardServer(app, cfg.web.host, cfg.web.port, cfg.web.threads)
    except BaseException:
        station.close()
        raise

    def _on_signal(signum: int, _frame: Any) -> None:
        log.info("%s received: shutting down", signal.Signals(signum).name)
        server.request_stop()

    old = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    log.info("dashboard on %s (data in %s, camera %s)", server.url, cfg.data_dir, source)
    try:
        server.serve_forever()  # READY=1 and watchdog pings come from the station (device/station.py)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        server.stop()
        station.close()
        log.info("stopped")
    return 0
