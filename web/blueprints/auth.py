"""PIN login/logout and the first-run set-PIN page (only from the station itself)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from web.auth import check_pin, hash_pin, save_pin_hash, validate_pin
from web.security import (
    LoginRateLimiter,
    PinStore,
    client_ip,
    is_local_request,
    log_in,
    log_out,
    session_is_logged_in,
)

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: never bounce a freshly logged-in browser to another host.
    # Browsers read "/\\host" like "//host": refuse backslashes and control characters too.
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and target.isprintable()
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("pages.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    pins: PinStore = current_app.extensions["gait_pins"]
    limiter: LoginRateLimiter = current_app.extensions["gait_login_limiter"]
    nxt = request.values.get("next")
    if not pins.is_set():
        return render_template("login.html", no_pin=True, local=is_local_request(), next=nxt), 200
    if request.method == "GET":
        if session_is_logged_in():
            return redirect(_safe_next(nxt))
        return render_template("login.html", next=nxt)
    ip = client_ip()
    wait = limiter.retry_after(ip)
    if wait:
        msg = f"Too many wrong PINs from this device. Try again in {wait} s."
        resp = current_app.make_response((render_template("login.html", error=msg, next=nxt), 429))
        resp.headers["Retry-After"] = str(wait)
        return resp
    pin = request.form.get("pin", "")
    if not check_pin(pins.current(), pin):
        limiter.record_failure(ip)
        wait = limiter.retry_after(ip)
        msg = "Wrong PIN." + (f" Too many tries: try again in {wait} s." if wait else "")
        return render_template("login.html", error=msg, next=nxt), 401
    limiter.reset(ip)
    log_in()
    return redirect(_safe_next(nxt))


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    """First run: choose the PIN. Only while none is set, and only from a browser on the station."""
    pins: PinStore = current_app.extensions["gait_pins"]
    if pins.is_set():
        return redirect(url_for("auth.login"))
    if not is_local_request():
        return render_template("login.html", no_pin=True, local=False), 403
    if request.method == "GET":
        return render_template("setup.html")
    pin, again = request.form.get("pin", ""), request.form.get("pin_again", "")
    problem = validate_pin(pin)
    if not problem and pin != again:
        problem = "the two PINs differ"
    if problem:
        return render_template("setup.html", error=problem[0].upper() + problem[1:] + "."), 400
    save_pin_hash(pins.data_dir, hash_pin(pin))
    log_in()
    return redirect(url_for("pages.home"))


@bp.route("/logout", methods=["POST"])
def logout():
    log_out()
    return redirect(url_for("auth.login"))
