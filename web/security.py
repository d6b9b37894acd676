"""Who may do what: login sessions, the API bearer token, CSRF tokens and the login rate limit.

Default-deny: :func:`install` adds one ``before_request`` check to the app, so every route —
including ones added later — needs a logged-in session or the API token, except the few named
in :data:`PUBLIC_ENDPOINTS`. Pages redirect to the login page; the API and the live streams
answer 401 JSON. Every state-changing request made with the session cookie must carry the
session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``); bearer-token
requests carry no cookie, so they need none.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, jsonify, redirect, request, session, url_for

from web.auth import load_pin_hash, pin_fingerprint

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


class LoginRateLimiter:
    """At most ``per_minute`` failed logins per client IP in any 60 s window.

    Memory stays bounded: entries older than the window are dropped on every call.
    """

    WINDOW_S = 60.0

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = max(1, int(per_minute))
        self.clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}

    def _prune(self, now: float) -> None:
        cutoff = now - self.WINDOW_S
        for ip in list(self._failures):
            q = self._failures[ip]
            while q and q[0] <= cutoff:
                q.popleft()
            if not q:
                del self._failures[ip]

    def retry_after(self, ip: str) -> int:
        """Seconds until ``ip`` may try again (0 = may try now)."""
        with self._lock:
            now = self.clock()
            self._prune(now)
            q = self._failures.get(ip)
            if not q or len(q) < self.per_minute:
                return 0
            return max(1, int(q[0] + self.WINDOW_S - now + 0.999))

    def record_failure(self, ip: str) -> None:
        with self._lock:
            self._failures.setdefault(ip, deque()).append(self.clock())

    def reset(self, ip: str) -> None:
        with self._lock:
            self._failures.pop(ip, None)


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


def log_in() -> None:
    pins: PinStore = current_app.extensions["gait_pins"]
    session.clear()
    session.permanent = True
    session["auth"] = {"fp": pin_fingerprint(pins.current()), "at": time.time()}
    session["csrf"] = secrets.token_urlsafe(32)  # a fresh token after login (no fixation)


def log_out() -> None:
    session.clear()


def session_is_logged_in() -> bool:
    auth = session.get("auth")
    if not isinstance(auth, dict):
        return False
    pins: PinStore = current_app.extensions["gait_pins"]
    current = pins.current()
    if not current or auth.get("fp") != pin_fingerprint(current):
        return False  # PIN changed (or removed) since this login
    lifetime_s = current_app.permanent_session_lifetime.total_seconds()
    at = auth.get("at")
    return isinstance(at, int | float) and 0 <= time.time() - at <= lifetime_s


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


def install(app: Flask, pins: PinStore, limiter: LoginRateLimiter) -> None:
    app.extensions["gait_pins"] = pins
    app.extensions["gait_login_limiter"] = limiter
    app.before_request(_check_request)
    app.after_request(_security_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
