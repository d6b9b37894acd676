"""The clinician's pages: live view, new session form, sessions, runner history, comparison."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from web import actions, charts, context, present
from web.forms import VIEW_LABELS, VIEWS, parse_session_request

bp = Blueprint("pages", __name__)

ACTIVE = ("capturing", "analysing")


def _session_or_404(session_id: int) -> dict[str, Any]:
    from device.store import NotFoundError

    try:
        return context.store().get_session(session_id)
    except NotFoundError:
        abort(404, description=f"There is no session {session_id} (it may have been deleted).")


def _runner_or_404(runner_id: int) -> dict[str, Any]:
    from device.store import NotFoundError

    try:
        return context.store().get_runner(runner_id)
    except NotFoundError:
        abort(404, description=f"There is no runner {runner_id} (they may have been deleted).")


@bp.route("/")
def home():
    from web.blueprints.live import has_rear_camera

    st = context.station()
    status = st.status()
    return render_template(
        "live.html",
        status=status,
        message=present.live_message(status),
        cfg=context.config(),
        rear_camera=has_rear_camera(st),
    )


@bp.route("/sessions/new", methods=["GET", "POST"])
def new_session():
    store = context.store()
    runners = store.list_runners()
    values: dict[str, Any] = {"view": "side", "incline_pct": "0"}
    errors: dict[str, str] = {}
    if request.method == "GET":
        rid = request.args.get("runner_id", type=int)
        if rid is not None:
            values["runner_id"] = str(rid)
            # Same shoes and belt settings as last time: the common case is a follow-up run.
            last = store.list_sessions(rid, limit=1)
            if last:
                s = last[0]
                for k in ("speed_kmh", "incline_pct", "shoes", "view"):
                    if s.get(k) not in (None, ""):
                        values[k] = str(s[k]) if not isinstance(s[k], str) else s[k]
    else:
        values = request.form.to_dict()
        req, errs = parse_session_request(values, {int(r["id"]) for r in runners})
        if not errs:
            if values.get("action") == "prepare":
                actions.prepare_capture(req)
                flash(
                    "Ready: press the start button on the station (or Start below) when the runner is running.",
                    "ok",
                )
            else:
                session_id = actions.start_capture(req)
                flash(f"Capture started (session {session_id}).", "ok")
            return redirect(url_for("pages.home"))
        errors = errs.fields
    status = 400 if errors else 200
    return (
        render_template(
            "new_session.html",
            runners=runners,
            values=values,
            errors=errors,
            views=[(v, VIEW_LABELS[v]) for v in VIEWS],
            status=context.station().status(),
        ),
        status,
    )


@bp.route("/sessions")
def sessions():
    return render_template("sessions.html", sessions=context.store().list_sessions(limit=300))


@bp.route("/sessions/<int:session_id>")
def session_page(session_id: int):
    s = _session_or_404(session_id)
    analysis = present.session_analysis(s, context.config())  # through the evidence gate
    rows = present.metric_rows(analysis)
    from device.report.render import quality_note

    _verdict, _warnings, quality = present.quality_items(analysis)
    evidence = present.session_evidence(actions.evidence_items(s), analysis)
    return render_template(
        "session.html",
        s=s,
        a=analysis,
        groups=present.grouped(rows),
        rear=present.rear_view(analysis, rows),
        note=quality_note((analysis or {}).get("quality") or {}),
        quality=quality,
        evidence=evidence,
        curve_charts=charts.curve_charts(analysis),
        cadence_chart=charts.cadence_chart(analysis),
        active=s.get("status") in ACTIVE,
        others=[x for x in context.store().list_sessions(s["runner_id"]) if x["id"] != s["id"]]
        if s.get("runner_id") is not None
        else [],
    )


@bp.route("/sessions/<int:session_id>/evidence/<int:evidence_id>.jpg")
def evidence_image(session_id: int, evidence_id: int) -> Response:
    jpeg = actions.evidence_jpeg(session_id, evidence_id)
    resp = Response(jpeg, mimetype="image/jpeg")
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp


@bp.route("/sessions/<int:session_id>/print", methods=["POST"])
def print_session(session_id: int):
    _session_or_404(session_id)
    what = request.form.get("what", "summary")
    if what not in ("summary", "report"):
        abort(400, description="Choose what to print: summary or report.")
    result = actions.print_session(session_id, what)
    flash(result, "ok")
    return redirect(url_for("pages.session_page", session_id=session_id))


@bp.route("/sessions/<int:session_id>/delete", methods=["GET", "POST"])
def delete_session(session_id: int):
    """Confirmation page, then the delete (CSRF-checked like every POST)."""
    s = _session_or_404(session_id)
    if request.method == "GET":
        return render_template("delete_session.html", s=s)
    if request.form.get("confirm") != str(session_id):
        abort(400, description="Confirm the delete from the session's delete page.")
    actions.delete_session(session_id)
    flash(f"Deleted session {session_id}.", "ok")
    if s.get("runner_id") is not None:
        return redirect(url_for("pages.runner_page", runner_id=s["runner_id"]))
    return redirect(url_for("pages.sessions"))


@bp.route("/runners")
def runners():
    q = (request.args.get("q") or "").strip()[:100]
    return render_template("runners.html", runners=context.store().list_runners(q or None), q=q)


@bp.route("/runners/<int:runner_id>")
def runner_page(runner_id: int):
    runner = _runner_or_404(runner_id)
    sessions = context.store().list_sessions(runner_id)
    done = [s for s in sessions if s.get("status") == "done"]
    return render_template(
        "runner.html",
        runner=runner,
        sessions=sessions,
        done=done,
        trend_chart=charts.trend_chart(done),
    )


@bp.route("/runners/<int:runner_id>/delete", methods=["GET", "POST"])
def delete_runner(runner_id: int):
    runner = _runner_or_404(runner_id)
    sessions = context.store().list_sessions(runner_id)
    if request.method == "GET":
        return render_template("delete_runner.html", runner=runner, sessions=sessions)
    if request.form.get("confirm_name", "").strip() != runner["name"].strip():
        return (
            render_template(
                "delete_runner.html",
                runner=runner,
                sessions=sessions,
                error="Type the runner's name exactly as shown to confirm.",
            ),
            400,
        )
    actions.delete_runner(runner_id)
    flash(f"Deleted {runner['name']} and {len(sessions)} session(s).", "ok")
    return redirect(url_for("pages.runners"))


@bp.route("/compare")
def compare():
    a_id = request.args.get("a", type=int)
    b_id = request.args.get("b", type=int)
    if a_id is None or b_id is None:
        abort(400, description="Choose two sessions to compare.")
    a, b = _session_or_404(a_id), _session_or_404(b_id)
    # Older on the left, so Δ reads as "what changed since".
    if (a.get("started_at") or "") > (b.get("started_at") or ""):
        a, b = b, a
    a["analysis"] = present.session_analysis(a, context.config())  # through the evidence gate
    b["analysis"] = present.session_analysis(b, context.config())
    rows = present.compare_rows(a.get("analysis"), b.get("analysis"))
    return render_template(
        "compare.html",
        a=a,
        b=b,
        rows=[r for r in rows if not r.neither_measured],
        neither=present.by_reason([r for r in rows if r.neither_measured]),
        charts=charts.compare_charts(a.get("analysis"), b.get("analysis")),
    )
