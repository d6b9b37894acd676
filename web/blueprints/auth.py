"""PIN login/logout and the first-run set-PIN page (only from the station itself)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from web.auth import hash_pin, save_pin_hash, validate_pin
from web.security import (
    LoginLimiter,
    PinChecker,
    PinStore,
    is_local_request,
    log_in,
    log_out,
    login_client,
    remember_device,
    request_host_is_station,
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


def _too_many(msg: str, wait: int, nxt: str | None):
    resp = current_app.make_response((render_template("login.html", error=msg, next=nxt), 429))
    resp.headers["Retry-After"] = str(wait)
    return resp


@bp.route("/login", methods=["GET", "POST"])
def login():
    pins: PinStore = current_app.extensions["gait_pins"]
    limiter: LoginLimiter = current_app.extensions["gait_login_limiter"]
    checker: PinChecker = current_app.extensions["gait_pin_checker"]
    nxt = request.values.get("next")
    if not pins.is_set():
        return render_template("login.html", no_pin=True, local=is_local_request(), next=nxt), 200
    if request.method == "GET":
        if session_is_logged_in():
            return redirect(_safe_next(nxt))
        return render_template("login.html", next=nxt)
    # Cheapest refusals first: the rate limits (one lock, no hashing), then the scrypt check.
    client, trusted = login_client()
    wait = limiter.admit(client, trusted)
    if wait:
        own = limiter.retry_after(client)
        who = "this device" if own else "many devices"
        return _too_many(f"Too many wrong PINs from {who}. Try again in {wait} s.", wait, nxt)
    pin = request.form.get("pin", "")
    ok = checker.check(pins.current(), pin)
    if ok is None:
        return _too_many("The station is busy checking other logins. Try again in 5 s.", 5, nxt)
    if not ok:
        wait = limiter.retry_after(client)
        msg = "Wrong PIN." + (f" Too many tries: try again in {wait} s." if wait else "")
        return render_template("login.html", error=msg, next=nxt), 401
    limiter.succeeded(client)
    log_in()
    if validate_pin(pin):  # a PIN from before the 6-character rule: works, but ask for a new one
        flash(
            "This PIN is short or easy to guess: set a new one of at least 6 digits with "
            "`gait-station set-pin` on the station.",
            "error",
        )
    resp = redirect(_safe_next(nxt))
    remember_device(resp)
    return resp


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    """First run: choose the PIN. Only while none is set, only from a browser on the station,
    and only under the station's own name (not a DNS-rebinding page's)."""
    pins: PinStore = current_app.extensions["gait_pins"]
    if pins.is_set():
        return redirect(url_for("auth.login"))
    if not is_local_request() or not request_host_is_station():
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
    resp = redirect(url_for("pages.home"))
    remember_device(resp)
    return resp


@bp.route("/logout", methods=["POST"])
def logout():
    log_out()
    return redirect(url_for("auth.login"))
