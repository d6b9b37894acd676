"""Who may do what: login sessions, the API bearer token, CSRF tokens and the login rate limit.

Default-deny: :func:`install` adds one ``before_request`` check to the app, so every route —
including ones added later — needs a logged-in session or the API token, except the few named
in :data:`PUBLIC_ENDPOINTS`. Pages redirect to the login page; the API and the live streams
answer 401 JSON. Every state-changing request made with the session cookie must carry the
session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``); bearer-token
requests carry no cookie, so they need none.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import math
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, jsonify, redirect, request, session, url_for

from web.auth import MAX_PIN_LEN, check_pin, load_pin_hash, pin_fingerprint

log = logging.getLogger(__name__)

PUBLIC_ENDPOINTS = frozenset({"auth.login", "auth.setup", "static"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOCAL_ADDRS = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class PinStore:
    """The current PIN hash, re-read only when web_auth.json changes (set-pin while running)."""

    def __init__(self, data_dir: Path, config_hash: str = "") -> None:
        self.data_dir = Path(data_dir)
        self.config_hash = config_hash
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._hash = ""

    def current(self) -> str:
        path = self.data_dir / "web_auth.json"
        try:
            st = path.stat()
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp is None:
                return self.config_hash
            if stamp != self._stamp:
                self._hash = load_pin_hash(self.data_dir, self.config_hash)
                self._stamp = stamp
            return self._hash

    def is_set(self) -> bool:
        return bool(self.current())


class LoginLimiter:
    """Who may try a PIN now (``admit`` returns 0) and how long the others wait.

    Check and record happen under one lock: an admitted attempt counts as a failure from the
    moment it is admitted until :meth:`succeeded` says otherwise, so 40 concurrent guesses from
    one address get exactly ``per_minute`` checks, never more.

    - Per client (a trusted device, else an IP address): at most ``per_minute`` failed
      attempts in any 60 s window.
    - All untrusted clients together: a token bucket of ``global_burst`` attempts refilled at
      one per ``global_refill_s``. A flood from many addresses is slowed to that rate for every
      untrusted client (a delay of seconds, never a lock-out), which is what bounds guessing:
      10 per minute is about 35 days for half of the 6-digit PINs. Devices that logged in
      before with the current PIN (trusted-device cookie) and the station's own screen keep
      their own allowance, so the clinic's tablets are never locked out by somebody else's
      wrong PINs; a PIN change ends that trust.

    Memory stays bounded: only admitted attempts are recorded, and they expire after 60 s.
    """

    WINDOW_S = 60.0

    def __init__(
        self,
        per_minute: int,
        global_burst: int = 10,
        global_refill_s: float = 6.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = max(1, int(per_minute))
        self.global_burst = max(1, int(global_burst))
        self.global_refill_s = float(global_refill_s)
        self.clock = clock
        self._lock = threading.Lock()
        self._attempts: dict[str, deque[float]] = {}
        self._tokens = float(self.global_burst)
        self._refilled_at = clock()

    @property
    def clients_tracked(self) -> int:
        """Clients whose attempts the limiter holds in memory (expired ones go at the next check)."""
        with self._lock:
            return len(self._attempts)

    def _prune(self, now: float) -> None:
        cutoff = now - self.WINDOW_S
        for key in list(self._attempts):
            q = self._attempts[key]
            while q and q[0] <= cutoff:
                q.popleft()
            if not q:
                del self._attempts[key]

    def _refill(self, now: float) -> None:
        gained = (now - self._refilled_at) / self.global_refill_s
        self._tokens = min(float(self.global_burst), self._tokens + gained)
        self._refilled_at = now

    def admit(self, client: str, trusted: bool = False) -> int:
        """0 when ``client`` may check a PIN now (the attempt is recorded), else the seconds to wait."""
        with self._lock:
            now = self.clock()
            self._prune(now)
            q = self._attempts.get(client)
            if q is not None and len(q) >= self.per_minute:
                return max(1, math.ceil(q[0] + self.WINDOW_S - now))
            if not trusted:
                self._refill(now)
                if self._tokens < 1.0:
                    return max(1, math.ceil((1.0 - self._tokens) * self.global_refill_s))
                self._tokens -= 1.0
            self._attempts.setdefault(client, deque()).append(now)
            return 0

    def would_wait(self, client: str, trusted: bool = False) -> int:
        """What :meth:`admit` would answer now, without recording anything (the server's
        cheap early refusal, before a request thread is used)."""
        with self._lock:
            now = self.clock()
            q = self._attempts.get(client)
            if q is not None:
                live = [t for t in q if t > now - self.WINDOW_S]
                if len(live) >= self.per_minute:
                    return max(1, math.ceil(live[0] + self.WINDOW_S - now))
            if trusted:
                return 0
            tokens = min(
                float(self.global_burst), self._tokens + (now - self._refilled_at) / self.global_refill_s
            )
            return 0 if tokens >= 1.0 else max(1, math.ceil((1.0 - tokens) * self.global_refill_s))

    def retry_after(self, client: str) -> int:
        """Seconds until ``client`` may try again by its own failures (0 = now)."""
        with self._lock:
            now = self.clock()
            self._prune(now)
            q = self._attempts.get(client)
            if not q or len(q) < self.per_minute:
                return 0
            return max(1, math.ceil(q[0] + self.WINDOW_S - now))

    def succeeded(self, client: str) -> None:
        """The right PIN: forget this client's failures."""
        with self._lock:
            self._attempts.pop(client, None)


def lower_thread_priority(by: int) -> None:
    """Make the calling thread ``by`` nice levels lower in priority than it is (Linux: a thread
    id names just that thread). The capture loop keeps its priority, so under full load it gets
    the CPU first: nice +5 gives it ~3x a dashboard thread's share, +10 ~10x."""
    with contextlib.suppress(OSError, AttributeError):
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + by))


def _lower_priority() -> None:
    lower_thread_priority(10)


class PinChecker:
    """The scrypt PIN check, one at a time in a single low-priority thread.

    A login flood can then use at most one core at nice 10 and one hash's memory (16 MB), never
    both cores the capture needs. Cheap rejections come first: an empty or over-long PIN is
    refused without hashing. Callers wait at most ``wait_s`` for their turn, then get None
    ("busy, try again").
    """

    def __init__(self, wait_s: float = 5.0) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.wait_s = wait_s
        self._slots = threading.BoundedSemaphore(2)  # one hashing, one queued
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="pin-check", initializer=_lower_priority)

    def check(self, pin_hash: str, pin: str) -> bool | None:
        if not pin_hash or not pin or len(pin) > MAX_PIN_LEN:
            return False
        if not self._slots.acquire(timeout=self.wait_s):
            return None
        try:
            return bool(self._pool.submit(check_pin, pin_hash, pin).result())
        finally:
            self._slots.release()


class SessionRegistry:
    """Server-side login sessions: a login cookie is only good while its id is listed here, so
    logging out really ends it (a copied cookie stops working) and live streams can check their
    login is still valid. Kept in ``<data_dir>/web_sessions.json`` (0600) so logins survive a
    restart; at most :attr:`MAX_SESSIONS`, the oldest dropped first."""

    FILE = "web_sessions.json"
    MAX_SESSIONS = 200

    def __init__(self, data_dir: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(data_dir) / self.FILE
        self.clock = clock
        self._lock = threading.Lock()
        self._expires: dict[str, float] = {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                self._expires = {
                    str(k): float(v)
                    for k, v in data.items()
                    if isinstance(v, int | float) and not isinstance(v, bool)
                }
        except (OSError, ValueError):
            self._expires = {}  # missing or damaged: everyone logs in again, nothing worse

    def _save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self._expires, fh)
            os.replace(tmp, self.path)
        except OSError:
            log.warning("cannot save %s: logins end at the next restart", self.path)

    def create(self, lifetime_s: float) -> str:
        sid = secrets.token_urlsafe(24)
        with self._lock:
            now = self.clock()
            self._expires = {k: v for k, v in self._expires.items() if v > now}
            while len(self._expires) >= self.MAX_SESSIONS:
                del self._expires[min(self._expires, key=self._expires.__getitem__)]
            self._expires[sid] = now + lifetime_s
            self._save()
        return sid

    def valid(self, sid: Any) -> bool:
        if not isinstance(sid, str):
            return False
        with self._lock:
            exp = self._expires.get(sid)
            return exp is not None and exp > self.clock()

    def end(self, sid: Any) -> None:
        with self._lock:
            if isinstance(sid, str) and self._expires.pop(sid, None) is not None:
                self._save()

    def __len__(self) -> int:
        with self._lock:
            return len(self._expires)


# ----------------------------------------------------------------------------- helpers for views


def client_ip() -> str:
    # Waitress serves the tablet directly (no proxy), so REMOTE_ADDR is the real peer; never trust
    # X-Forwarded-For here or anyone could pick their own rate-limit bucket or claim to be local.
    return request.remote_addr or "?"


def is_local_request() -> bool:
    return client_ip() in LOCAL_ADDRS


def csrf_token() -> str:
    """This browser session's CSRF token (created on first use); templates call it."""
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def log_in() -> str:
    """Start a login session (server-side id in the registry); returns its id."""
    pins: PinStore = current_app.extensions["gait_pins"]
    sessions: SessionRegistry = current_app.extensions["gait_sessions"]
    old = session.get("auth")
    if isinstance(old, dict):
        sessions.end(old.get("sid"))
    session.clear()
    session.permanent = True
    sid = sessions.create(current_app.permanent_session_lifetime.total_seconds())
    session["auth"] = {"fp": pin_fingerprint(pins.current()), "at": time.time(), "sid": sid}
    session["csrf"] = secrets.token_urlsafe(32)  # a fresh token after login (no fixation)
    return sid


def log_out() -> None:
    """End the login server-side too: the cookie (and any copy of it) no longer works, and the
    live streams it opened close within a second."""
    auth = session.get("auth")
    if isinstance(auth, dict):
        current_app.extensions["gait_sessions"].end(auth.get("sid"))
    session.clear()


def session_is_logged_in() -> bool:
    auth = session.get("auth")
    if not isinstance(auth, dict):
        return False
    pins: PinStore = current_app.extensions["gait_pins"]
    current = pins.current()
    if not current or auth.get("fp") != pin_fingerprint(current):
        return False  # PIN changed (or removed) since this login
    if not current_app.extensions["gait_sessions"].valid(auth.get("sid")):
        return False  # logged out (or never registered): a replayed cookie
    lifetime_s = current_app.permanent_session_lifetime.total_seconds()
    at = auth.get("at")
    return isinstance(at, int | float) and 0 <= time.time() - at <= lifetime_s


def stream_grant() -> str:
    """Who opened a live stream, for :func:`grant_still_valid`: ``token`` or ``session:<id>:<fp>``."""
    if g.get("auth") == "token":
        return "token"
    auth = session.get("auth") or {}
    return f"session:{auth.get('sid')}:{auth.get('fp')}"


def grant_still_valid(app: Flask, grant: str) -> bool:
    """A live stream may go on: its login has not been logged out, expired or outdated by a PIN change."""
    if grant == "token":
        return bool(app.config.get("GAIT_API_TOKEN"))
    kind, _, rest = grant.partition(":")
    sid, _, fp = rest.partition(":")
    if kind != "session" or not app.extensions["gait_sessions"].valid(sid):
        return False
    current = app.extensions["gait_pins"].current()
    return bool(current) and fp == pin_fingerprint(current)


# ----------------------------------------------------------------------------- trusted devices

DEVICE_COOKIE = "gait_device"
DEVICE_COOKIE_DAYS = 400


def _device_serializer() -> Any:
    from itsdangerous import URLSafeSerializer

    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="gait-station trusted device")


def login_client_for(
    remote_addr: str, device_cookie: str | None, secret_key: Any, pin_hash: str | None
) -> tuple[str, bool]:
    """The rate-limit key of a login attempt and whether it has its own allowance: a device
    that logged in with the current PIN, or the station's own screen. (The station's screen
    is never held up by the global limit: a slow flood from many addresses could otherwise
    keep every new browser out for as long as it lasts, and staff log in there.)"""
    device = device_from_cookie(device_cookie, secret_key, pin_hash)
    if device is not None:
        return f"device:{device}", True
    return f"ip:{remote_addr}", remote_addr in LOCAL_ADDRS


def device_from_cookie(raw: str | None, secret_key: Any, pin_hash: str | None) -> str | None:
    """The device id in a ``gait_device`` cookie value when its signature is good and it was
    given under the current PIN, else None. A PIN change ends every device's trust: cookies
    collected by somebody who knew the old PIN no longer buy PIN checks of their own."""
    from itsdangerous import BadSignature, URLSafeSerializer

    if not raw or len(raw) > 200 or not pin_hash:
        return None
    try:
        value = URLSafeSerializer(secret_key, salt="gait-station trusted device").loads(raw)
    except BadSignature:
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        return None  # also a cookie from before the PIN was part of it
    device, fp = value
    return device if 16 <= len(device) <= 64 and fp == pin_fingerprint(pin_hash) else None


def trusted_device() -> str | None:
    """This browser's device id when it logged in here with the current PIN (a signed cookie)."""
    pins: PinStore = current_app.extensions["gait_pins"]
    return device_from_cookie(request.cookies.get(DEVICE_COOKIE), current_app.secret_key, pins.current())


def remember_device(resp: Any) -> None:
    """Mark this browser as a device that knows the PIN (its own login allowance from now on,
    until the PIN changes)."""
    pins: PinStore = current_app.extensions["gait_pins"]
    device = trusted_device() or secrets.token_urlsafe(18)
    resp.set_cookie(
        DEVICE_COOKIE,
        _device_serializer().dumps([device, pin_fingerprint(pins.current())]),
        max_age=DEVICE_COOKIE_DAYS * 86400,
        httponly=True,
        samesite="Strict",
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
    )


def login_client() -> tuple[str, bool]:
    """The rate-limit key of this login attempt and whether it comes from a trusted device."""
    pins: PinStore = current_app.extensions["gait_pins"]
    return login_client_for(
        client_ip(), request.cookies.get(DEVICE_COOKIE), current_app.secret_key, pins.current()
    )


def station_host_names(app: Flask) -> frozenset[str]:
    """The names this station answers to on its own screen: the /setup page accepts no other
    Host header (a DNS-rebinding page in the station's browser would send its own name)."""
    import socket

    names = {"localhost", "127.0.0.1", "::1", "[::1]"}
    hostname = socket.gethostname().lower()
    if hostname:
        names |= {hostname, f"{hostname}.local"}
    configured = str(app.extensions["gait_config"].web.host or "").lower()
    if configured and configured not in ("0.0.0.0", "::"):
        names.add(configured)
    return frozenset(names)


def request_host_is_station() -> bool:
    host = (request.host or "").lower()
    if host.startswith("["):
        name = host[: host.find("]") + 1]
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return name in station_host_names(current_app)


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/live/")


def json_error(status: int, message: str, **extra: Any):
    body = {"error": message, "status": status}
    body.update(extra)
    resp = jsonify(body)
    resp.status_code = status
    return resp


def _unauthenticated(message: str):
    if _wants_json():
        resp = json_error(401, message)
        resp.headers["WWW-Authenticate"] = 'Bearer realm="gait-station"'
        return resp
    nxt = request.full_path if request.method == "GET" else None
    return redirect(url_for("auth.login", next=nxt.rstrip("?") if nxt else None))


def _check_request() -> Any:
    g.auth = None
    token = _bearer_token()
    if token is not None:
        expected = current_app.config.get("GAIT_API_TOKEN") or ""
        if expected and hmac.compare_digest(token.encode("utf-8"), expected.encode("utf-8")):
            g.auth = "token"
        else:
            return _unauthenticated("the API token is wrong (or no API token is configured on the station)")
    elif session_is_logged_in():
        g.auth = "session"

    if request.endpoint in PUBLIC_ENDPOINTS:
        pass
    elif g.auth is None:
        if request.endpoint is None:  # unknown URL: do not reveal which URLs exist before login
            return _unauthenticated("log in first")
        return _unauthenticated("log in with the PIN, or send the API token as 'Authorization: Bearer …'")

    if request.method not in SAFE_METHODS and g.auth != "token":
        sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
        expected_csrf = session.get("csrf") or ""
        if not (sent and expected_csrf and hmac.compare_digest(str(sent), str(expected_csrf))):
            msg = "this form has expired (missing or wrong CSRF token): reload the page and try again"
            if _wants_json():
                return json_error(403, msg)
            return current_app.make_response((msg, 403, {"Content-Type": "text/plain; charset=utf-8"}))
    return None


def _security_headers(resp):
    # Everything is served from the station itself: nothing may load from elsewhere.
    resp.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    )
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("X-Frame-Options", "DENY")
    resp.headers.setdefault("Referrer-Policy", "no-referrer")
    if request.endpoint != "static":
        resp.headers.setdefault("Cache-Control", "no-store")
    return resp


def install(
    app: Flask,
    pins: PinStore,
    limiter: LoginLimiter,
    sessions: SessionRegistry,
    checker: PinChecker | None = None,
) -> None:
    app.extensions["gait_pins"] = pins
    app.extensions["gait_login_limiter"] = limiter
    app.extensions["gait_sessions"] = sessions
    app.extensions["gait_pin_checker"] = checker or PinChecker()
    app.before_request(_check_request)
    app.after_request(_security_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
