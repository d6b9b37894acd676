"""The JSON API (bearer token, or the dashboard's own session + CSRF header).

Errors are JSON ``{"error": "<one line>", "status": N}``: 400 bad input (with ``fields``), 401
not logged in / wrong token, 403 CSRF, 404 unknown id, 409 wrong state for that action (e.g. stop
while idle, report of a session still analysing), 503 busy with another heavy export (with
Retry-After), 507 disk full.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from web import actions, context, present
from web.export_gate import heavy
from web.forms import SessionForm, parse_session_request
from web.security import json_error

bp = Blueprint("api", __name__)


MAX_JSON_DEPTH = 20  # the API's bodies are two levels deep; anything deeper is not ours
SEARCH_MAX = 100  # characters in a runner search (a name is at most 100)


def _json_body() -> dict[str, Any]:
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # "[[[[…" 50,000 deep: the parser gives up; so do we, politely
        raise _BadRequest("the body is nested too deeply to be a request") from None
    if data is None and request.get_data(cache=True):
        raise _BadRequest("the body is not valid JSON")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _BadRequest("the body must be a JSON object")
    _check_json_values(data)
    return data


def _check_json_values(data: Any) -> None:
    """Refuse what JSON can carry but no text field may hold: lone surrogates ("\\udfff" is
    valid JSON, not valid text, and would fail later in SQLite) and absurd nesting."""
    todo: list[tuple[Any, int]] = [(data, 0)]
    while todo:
        value, depth = todo.pop()
        if depth > MAX_JSON_DEPTH:
            raise _BadRequest("the body is nested too deeply to be a request")
        if isinstance(value, dict):
            todo.extend((k, depth + 1) for k in value)
            todo.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            todo.extend((v, depth + 1) for v in value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise _BadRequest(
                    "the body contains text that is not valid Unicode (a lone surrogate)"
                ) from None


class _BadRequest(Exception):
    pass


@bp.errorhandler(_BadRequest)
def _bad_request(exc: _BadRequest):
    return json_error(400, str(exc))


def _session(session_id: int) -> dict[str, Any]:
    s = context.store().get_session(session_id)  # NotFoundError → 404 via the app handler
    # the analysis as the page, receipt and report show it: through the evidence gate
    s["analysis"] = present.session_analysis(s, context.config())
    return s


def _require_analysis(s: dict[str, Any]) -> dict[str, Any]:
    if not s.get("analysis"):
        from web.errors import WrongStateError

        status = s.get("status")
        why = f": {s['error']}" if status == "failed" and s.get("error") else ""
        raise WrongStateError(f"session {s['id']} has no analysis (status: {status}{why})")
    return s["analysis"]


def _filename(s: dict[str, Any], suffix: str) -> str:
    name = ((s.get("runner") or {}).get("name") or "session").strip()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower() or "session"
    day = (s.get("started_at") or "")[:10]
    return f"gait-{s['id']}-{slug}-{day}.{suffix}".replace("--", "-")


def _attachment(body: bytes | str, mimetype: str, filename: str) -> Response:
    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


@bp.get("/status")
def status():
    from web.live_hub import status_payload

    station = context.station()
    return jsonify(status_payload(station.status(), station))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _strict_types(data: dict[str, Any]) -> dict[str, str]:
    """JSON has types: the API takes them at their word. ``runner_id: true`` or ``1.7`` is not
    runner 1 and ``view: 0`` is not "side" (the form, which only has text, is parsed in forms.py)."""
    errors: dict[str, str] = {}
    rid = data.get("runner_id")
    if rid is not None and (not isinstance(rid, int) or isinstance(rid, bool)):
        errors["runner_id"] = "must be a whole number (the id of an existing runner)"
    for key in ("speed_kmh", "incline_pct"):
        if data.get(key) is not None and not _is_number(data[key]):
            errors[key] = "must be a number"
    runner = data.get("runner")
    if (
        isinstance(runner, dict)
        and runner.get("height_cm") is not None
        and not _is_number(runner["height_cm"])
    ):
        errors["height_cm"] = "must be a number"
    if data.get("height_cm") is not None and not _is_number(data["height_cm"]):
        errors["height_cm"] = "must be a number"
    for key in ("view", "shoes", "notes", "runner_name"):
        if key in data and data[key] is not None and not isinstance(data[key], str):
            errors[key] = "must be text"
    return errors


def _session_request(data: dict[str, Any]):
    runners = {int(r["id"]) for r in context.store().list_runners()}
    req, errors = parse_session_request(data, runners)
    errors.fields.update(_strict_types(data))  # the type error is the one to report
    return req, errors


def _duplicate_runner(req: SessionForm):
    """As the form does: a new runner's name that exists is offered (409 with the existing
    runners), not duplicated; the client sends their runner_id, or new_runner: true when it is a
    different person with the same name. None when the request may go ahead."""
    try:
        actions.check_new_runner(req)
    except actions.DuplicateRunnerError as exc:
        existing = [{"id": r["id"], "name": r["name"], "height_cm": r.get("height_cm")} for r in exc.existing]
        return json_error(409, str(exc), existing=existing)
    return None


@bp.post("/capture/start")
def capture_start():
    """Start a capture: with runner and details in the body, or with an empty body the details
    prepared earlier (state ``ready``), exactly like the start button."""
    data = _json_body()
    if not data:
        if context.station().status().get("state") != "ready":
            return json_error(
                400,
                "give runner_id (or runner: {name, height_cm}) and speed_kmh, or prepare the session first",
            )
        req = None
    else:
        req, errors = _session_request(data)
        if errors:
            return json_error(400, errors.summary(), fields=errors.fields)
        duplicate = _duplicate_runner(req)
        if duplicate is not None:
            return duplicate
    session_id = actions.start_capture(req)
    resp = jsonify(
        {
            "session_id": session_id,
            "url": url_for("api.session_detail", session_id=session_id),
            "status": context.station().status(),
        }
    )
    resp.status_code = 201
    return resp


@bp.post("/capture/prepare")
def capture_prepare():
    """Enter the next run's runner and details; the start button then starts it (state ``ready``)."""
    req, errors = _session_request(_json_body())
    if errors:
        return json_error(400, errors.summary(), fields=errors.fields)
    duplicate = _duplicate_runner(req)
    if duplicate is not None:
        return duplicate
    prepared = actions.prepare_capture(req)
    return jsonify({"prepared": prepared, "status": context.station().status()})


def _capture_action(name: str):
    station = context.station()
    before = station.status()
    state = before.get("state")
    if name == "cancel" and state == "ready":
        station.unprepare()
        return jsonify({"session_id": None, "status": station.status()})
    if state not in ("capturing", "countdown", "starting"):
        from web.errors import WrongStateError

        raise WrongStateError(f"nothing to {name}: the station is {state or 'idle'}")
    session_id = station.stop_capture() if name == "stop" else station.cancel_capture()
    if session_id is None:
        session_id = before.get("session_id")
    return jsonify({"session_id": session_id, "status": station.status()})


@bp.post("/capture/stop")
def capture_stop():
    """Stop the capture and analyse what was recorded (like the stop button)."""
    return _capture_action("stop")


@bp.post("/capture/cancel")
def capture_cancel():
    """Abandon the capture without analysis (like holding the stop button)."""
    return _capture_action("cancel")


@bp.get("/runners")
def runners():
    q = request.args.get("q") or None
    if q is not None and len(q) > SEARCH_MAX:
        return json_error(400, f"the search is too long (at most {SEARCH_MAX} characters)")
    return jsonify({"runners": context.store().list_runners(q)})


@bp.delete("/runners/<int:runner_id>")
def delete_runner(runner_id: int):
    context.store().get_runner(runner_id)
    actions.delete_runner(runner_id)
    return jsonify({"deleted": runner_id})


@bp.get("/sessions")
def sessions():
    runner_id = request.args.get("runner_id", type=int)
    if request.args.get("runner_id") and runner_id is None:
        return json_error(400, "runner_id must be a number")
    limit = request.args.get("limit", default=200, type=int)
    return jsonify({"sessions": context.store().list_sessions(runner_id, limit=max(1, min(limit, 1000)))})


@bp.get("/sessions/<int:session_id>")
def session_detail(session_id: int):
    s = _session(session_id)
    s["evidence_frames"] = [
        {
            **{k: v for k, v in ev.items() if k != "keypoints"},
            "url": url_for("pages.evidence_image", session_id=session_id, evidence_id=ev["id"]),
        }
        # t: seconds into the session, as the page and the report caption it (t_source: the clock)
        for ev in present.session_evidence(context.store().list_evidence(session_id), s["analysis"])
    ]
    return jsonify(s)


@bp.delete("/sessions/<int:session_id>")
def delete_session(session_id: int):
    """Delete one session (keypoints, analysis, evidence); 409 while it is captured or analysed."""
    actions.delete_session(session_id)
    return jsonify({"deleted": session_id})


@bp.post("/sessions/<int:session_id>/print")
def print_session(session_id: int):
    _session(session_id)
    what = _json_body().get("what", "summary")
    if what not in ("summary", "report"):
        return json_error(400, "what must be 'summary' or 'report'", fields={"what": "summary or report"})
    return jsonify(
        {"session_id": session_id, "what": what, "message": actions.print_session(session_id, what)}
    )


@bp.get("/sessions/<int:session_id>/report.pdf")
@heavy
def report_pdf(session_id: int):
    s = _session(session_id)
    _require_analysis(s)
    pdf = context.station().report_pdf(session_id)  # device.report's render_report_pdf with evidence
    resp = Response(pdf, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'inline; filename="{_filename(s, "pdf")}"'
    return resp


@bp.get("/sessions/<int:session_id>/analysis.json")
def analysis_json(session_id: int):
    s = _session(session_id)
    analysis = _require_analysis(s)
    body = json.dumps(analysis, indent=2, allow_nan=False)
    return _attachment(body, "application/json", _filename(s, "json"))


@bp.get("/sessions/<int:session_id>/keypoints.csv")
@heavy
def keypoints_csv(session_id: int):
    from device.keypoints_csv import write_csv

    s = _session(session_id)
    camera = request.args.get("camera", "main")
    if camera not in ("main", "rear"):
        return json_error(400, "camera must be 'main' or 'rear'")
    timeline = context.store().get_keypoints(session_id, camera)
    buf = io.StringIO()
    write_csv(timeline, buf)
    suffix = "csv" if camera == "main" else "rear.csv"
    return _attachment(buf.getvalue(), "text/csv", _filename(s, suffix))
