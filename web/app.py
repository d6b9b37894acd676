"""The Flask application factory for the tablet dashboard and the HTTP API.

``create_app(station, config)`` wires the station (camera, pose, store, buttons, printers —
:class:`device.station.Station`) into four blueprints: ``auth`` (PIN login), ``pages`` (forms,
sessions, history, comparison), ``live`` (MJPEG preview and SSE status stream) and ``api``
(JSON, bearer token or logged-in session + CSRF). Every route needs a login or the API token
unless :data:`web.security.PUBLIC_ENDPOINTS` names it.
"""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from device.config import Config
from device.errors import UserError
from device.station_api import StationAPI
from web.errors import BusyError, status_for
from web.export_gate import EXTENSION as EXPORT_GATE
from web.export_gate import ExportGate
from web.live_hub import LiveHub
from web.security import LoginLimiter, PinStore, SessionRegistry, install, json_error

log = logging.getLogger(__name__)

SQLITE_INT_MAX = 2**63 - 1


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: ids that SQLite can hold (≥ 2^63 is 404, not an overflow)."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", SQLITE_INT_MAX)
        super().__init__(url_map, *args, **kwargs)


def create_app(station: StationAPI, config: Config, testing: bool = False) -> Flask:
    """Build the dashboard app for ``station`` (a :class:`device.station.Station`, or any other
    :class:`~device.station_api.StationAPI`)."""
    from web import filters
    from web.blueprints import api, auth, live, pages
    from web.settings import settings_for

    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.url_map.converters["int"] = IdConverter
    app.config.from_mapping(settings_for(config, testing=testing))
    app.extensions["gait_station"] = station
    app.extensions["gait_config"] = config
    app.extensions["gait_live_hub"] = LiveHub(station, config.capture.live_preview_fps)
    app.extensions[EXPORT_GATE] = ExportGate()
    install(
        app,
        PinStore(config.data_dir, config.web.pin_hash),
        LoginLimiter(config.web.login_attempts_per_minute),
        SessionRegistry(config.data_dir),
    )
    filters.register(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(live.bp, url_prefix="/live")
    app.register_blueprint(api.bp, url_prefix="/api")

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = exc.code or 500
        if request.path.startswith(("/api/", "/live/")):
            return json_error(code, exc.description or exc.name)
        return render_template("error.html", code=code, title=exc.name, message=exc.description), code

    @app.errorhandler(UserError)
    def _user_error(exc: UserError):
        code = status_for(exc)
        if request.path.startswith(("/api/", "/live/")):
            return json_error(code, str(exc))
        return render_template("error.html", code=code, title="Cannot do that", message=str(exc)), code

    @app.errorhandler(BusyError)
    def _busy(exc: BusyError):
        resp = app.make_response(_user_error(exc))
        resp.headers["Retry-After"] = str(exc.retry_after_s)
        return resp

    @app.errorhandler(OverflowError)
    def _overflow(exc: OverflowError):
        # A number too large for SQLite in a query string (?a=99999999999999999999): bad input.
        msg = "a number in the request is out of range"
        if request.path.startswith(("/api/", "/live/")):
            return json_error(400, msg)
        return render_template("error.html", code=400, title="Bad request", message=msg), 400

    @app.errorhandler(OSError)
    def _os_error(exc: OSError):
        code = status_for(exc)
        if code == 500:
            log.exception("unexpected OS error")
        msg = "the station's disk is full: free space or delete old sessions" if code == 507 else str(exc)
        if request.path.startswith(("/api/", "/live/")):
            return json_error(code, msg)
        return render_template("error.html", code=code, title="Station error", message=msg), code

    return app
