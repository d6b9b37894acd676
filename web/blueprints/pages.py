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
from web.errors import BusyError
from web.export_gate import gate, heavy
from web.forms import (
    VIEW_LABELS,
    VIEWS,
    imperial_values,
    parse_corrections,
    parse_runner_edit,
    parse_session_request,
)

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


def _units() -> str:
    return context.config().station.units


@bp.route("/metronome", methods=["POST"])
def metronome():
    """Switch the buzzer metronome from the dashboard (JSON from the live view, or a form)."""
    from flask import jsonify

    from device.errors import InputError, UserError
    from web.errors import status_for
    from web.security import json_error

    data = request.get_json(silent=True) if request.is_json else request.form
    raw = "off" if (data or {}).get("off") else (data or {}).get("spm")
    try:
        try:
            spm = float(raw) if raw not in (None, "", "off") else 0.0
        except (TypeError, ValueError):
            raise InputError("metronome: give a cadence in steps/min, or off") from None
        running = context.station().set_metronome(spm)
    except UserError as exc:
        if request.is_json:
            return json_error(status_for(exc), str(exc))
        raise
    if request.is_json:
        return jsonify({"metronome_spm": running})
    flash(f"Metronome at {running:.0f} steps/min." if running else "Metronome off.", "ok")
    return redirect(url_for("pages.home"))


@bp.route("/sessions/new", methods=["GET", "POST"])
def new_session():
    store = context.store()
    runners = store.list_runners()
    values: dict[str, Any] = {"view": "side", "incline_pct": "0"}
    errors: dict[str, str] = {}
    duplicates: list[dict[str, Any]] = []
    status_code = 200
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
        use = request.form.get("use_runner", type=int)
        if use is not None:  # "use the existing runner" offered for a name typed again
            values["runner_id"] = str(use)
            for k in ("height_ft", "height_in", "height_cm"):  # theirs is on record
                values.pop(k, None)
        if request.form.get("new_runner_anyway"):
            values["new_runner"] = "1"
        if use is not None or request.form.get("new_runner_anyway"):
            values["action"] = request.form.get("offer_action", "start")  # what was pressed before
        req, errs = parse_session_request(values, {int(r["id"]) for r in runners}, units=_units())
        if not errs:
            try:
                actions.check_new_runner(req)
            except actions.DuplicateRunnerError as exc:
                duplicates = exc.existing
                status_code = 409
            else:
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
    if errors:
        status_code = 400
    if _units() == "imperial":
        values = imperial_values(values)
    return (
        render_template(
            "new_session.html",
            runners=runners,
            values=values,
            errors=errors,
            duplicates=duplicates,
            imperial=_units() == "imperial",
            views=[(v, VIEW_LABELS[v]) for v in VIEWS],
            status=context.station().status(),
        ),
        status_code,
    )


@bp.route("/sessions")
def sessions():
    return render_template("sessions.html", sessions=context.store().list_sessions(limit=300))


def _no_store(resp: Response) -> Response:
    # health data: never kept by a tablet's cache or a proxy for the next person to see
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.route("/sessions/<int:session_id>")
def session_page(session_id: int):
    from device.corrections import Corrections, near_leg_of, strides
    from device.report.units import units_for
    from device.store import NotFoundError

    s = _session_or_404(session_id)
    history = context.store().list_analyses(session_id)
    shown = request.args.get("analysis", type=int)
    earlier = None
    if shown is not None and shown != s.get("analysis_id"):
        try:
            earlier = context.store().get_analysis(shown)
        except NotFoundError:
            abort(404, description=f"There is no analysis {shown}.")
        if earlier["session_id"] != session_id:
            abort(404, description=f"Analysis {shown} is not part of session {session_id}.")
        s = {**s, "analysis": earlier["analysis"]}
    analysis = present.session_analysis(s, context.config())  # through the evidence gate
    rows = present.metric_rows(analysis)
    from device.report.render import accuracy_note, quality_note
    from device.report.review import demo_note

    _verdict, _warnings, quality = present.quality_items(analysis)
    evidence = present.session_evidence(
        actions.evidence_items(s, earlier["id"] if earlier else None), analysis
    )
    units = units_for(context.config())
    for h in history:
        h["described"] = Corrections.from_dict(h["corrections"]).describe(units) if h["corrections"] else []
    current = next((h for h in history if h["current"]), None)
    from device.report.review import time_origin

    t0 = time_origin(analysis)  # strides read as seconds into the run, like every caption
    return render_template(
        "session.html",
        s=s,
        a=analysis,
        history=history,
        earlier=earlier,
        corrections=(current or {}).get("corrections") or {},
        near_leg=near_leg_of(analysis) if analysis else None,
        strides=[(st, st.t_start - t0, st.t_end - t0) for st in strides(analysis)] if not earlier else [],
        imperial=_units() == "imperial",
        views=[(v, VIEW_LABELS[v]) for v in VIEWS],
        has_video=bool(s.get("video_path")),
        groups=present.grouped(rows),
        rear=present.rear_view(analysis, rows),
        note=quality_note((analysis or {}).get("quality") or {}),
        accuracy=accuracy_note((analysis or {}).get("quality"), units_for(context.config())),
        demo=demo_note(s),
        quality=quality,
        evidence=evidence,
        curve_charts=charts.curve_charts(analysis),
        cadence_chart=charts.cadence_chart(analysis),
        active=s.get("status") in ACTIVE,
        others=[x for x in context.store().list_sessions(s["runner_id"]) if x["id"] != s["id"]]
        if s.get("runner_id") is not None
        else [],
    )


@bp.route("/sessions/<int:session_id>/reanalyse", methods=["POST"])
def reanalyse(session_id: int):
    """Correct a finished session and analyse it again; the earlier analyses stay listed."""
    _session_or_404(session_id)
    req, errs = parse_corrections(request.form, _units())
    if errs:
        flash("Not re-analysed: " + errs.summary(), "error")
        return redirect(url_for("pages.session_page", session_id=session_id) + "#corrections")
    actions.reanalyse(session_id, req.corrections, req.created_by, req.note)
    flash(f"Re-analysed by {req.created_by}; the earlier analysis is kept in the list below.", "ok")
    return redirect(url_for("pages.session_page", session_id=session_id))


@bp.route("/sessions/<int:session_id>/video.json")
@heavy
def video_info(session_id: int) -> Response:
    from flask import jsonify

    from device.store.video import VideoUnavailableError

    try:
        return _no_store(jsonify(actions.video_info(_session_or_404(session_id))))
    except VideoUnavailableError as exc:
        abort(404, description=str(exc))


@bp.route("/sessions/<int:session_id>/video/<int:index>.jpg")
def video_frame(session_id: int, index: int) -> Response:
    from device.store.video import VideoUnavailableError

    try:
        jpeg = actions.video_frame(_session_or_404(session_id), index)
    except VideoUnavailableError as exc:
        abort(404, description=str(exc))
    return _no_store(Response(jpeg, mimetype="image/jpeg"))


@bp.route("/sessions/<int:session_id>/evidence/<int:evidence_id>.jpg")
def evidence_image(session_id: int, evidence_id: int) -> Response:
    jpeg = actions.evidence_jpeg(session_id, evidence_id)
    return _no_store(Response(jpeg, mimetype="image/jpeg"))


def _print_failed(exc: Exception, pdf_url: str, back_url: str, what: str):
    """A print that failed says why and offers the PDF (to print elsewhere) and a way back."""
    from web.errors import status_for

    return (
        render_template("print_failed.html", message=str(exc), pdf_url=pdf_url, back_url=back_url, what=what),
        status_for(exc),
    )


@bp.route("/sessions/<int:session_id>/print", methods=["POST"])
def print_session(session_id: int):
    from device.printing.errors import PrintError

    _session_or_404(session_id)
    what = request.form.get("what", "summary")
    if what not in ("summary", "report"):
        abort(400, description="Choose what to print: summary or report.")
    try:
        result = actions.print_session(session_id, what)
    except (PrintError, BusyError) as exc:  # busy: not printed either, and the PDF is still there
        return _print_failed(
            exc,
            url_for("api.report_pdf", session_id=session_id),
            url_for("pages.session_page", session_id=session_id),
            "summary" if what == "summary" else "report",
        )
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


@bp.route("/runners/<int:runner_id>/edit", methods=["GET", "POST"])
def edit_runner(runner_id: int):
    """Correct a runner's name, height or notes. Sessions keep the height they were captured
    with: a new height applies from the next session on."""
    runner = _runner_or_404(runner_id)
    values: dict[str, Any] = {k: runner[k] for k in ("name", "height_cm", "notes")}
    values = {k: "" if v is None else str(v) for k, v in values.items()}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = request.form.to_dict()
        edit, errs = parse_runner_edit(values, _units())
        if not errs:
            context.store().update_runner(
                runner_id, name=edit.name, height_cm=edit.height_cm, notes=edit.notes
            )
            flash("Runner saved. Sessions already captured keep the height they were captured with.", "ok")
            return redirect(url_for("pages.runner_page", runner_id=runner_id))
        errors = errs.fields
    if _units() == "imperial":
        values = imperial_values(values)
    return (
        render_template(
            "edit_runner.html", runner=runner, values=values, errors=errors, imperial=_units() == "imperial"
        ),
        400 if errors else 200,
    )


@bp.route("/runners/<int:runner_id>/merge", methods=["GET", "POST"])
def merge_runner(runner_id: int):
    """Merge a duplicate into this runner: its sessions move here, the duplicate is deleted."""
    runner = _runner_or_404(runner_id)
    store = context.store()
    others = [r for r in store.list_runners() if r["id"] != runner_id]
    error = None
    if request.method == "POST":
        other_id = request.form.get("other", type=int)
        other = next((r for r in others if r["id"] == other_id), None)
        if other is None:
            error = "Choose the duplicate runner to merge into this one."
        elif request.form.get("confirm") != str(other_id):
            error = "Confirm the merge."
        else:
            actions.merge_runners(runner_id, other["id"])
            flash(
                f"Merged {other['name']} ({other['session_count']} session(s)) into {runner['name']}.", "ok"
            )
            return redirect(url_for("pages.runner_page", runner_id=runner_id))
    dupes = store.find_runners(runner["name"])
    return (
        render_template(
            "merge_runner.html",
            runner=runner,
            others=others,
            suggested=[r["id"] for r in dupes if r["id"] != runner_id],
            error=error,
        ),
        400 if error else 200,
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


def _compare_pair() -> tuple[dict[str, Any], dict[str, Any]]:
    a_id = request.values.get("a", type=int)
    b_id = request.values.get("b", type=int)
    if a_id is None or b_id is None:
        abort(400, description="Choose two sessions to compare.")
    a, b = _session_or_404(a_id), _session_or_404(b_id)
    # Older on the left, so Δ reads as "what changed since".
    if (a.get("started_at") or "") > (b.get("started_at") or ""):
        a, b = b, a
    return a, b


@bp.route("/compare/report.pdf")
@heavy
def compare_pdf() -> Response:
    a, b = _compare_pair()
    resp = Response(context.station().comparison_pdf(a["id"], b["id"]), mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'inline; filename="gait-comparison-{a["id"]}-{b["id"]}.pdf"'
    return _no_store(resp)


@bp.route("/compare/print", methods=["POST"])
def compare_print():
    from device.printing.errors import PrintError

    a, b = _compare_pair()
    back = url_for("pages.compare", a=a["id"], b=b["id"])
    for s in (a, b):
        if not s.get("analysis"):
            abort(409, description=f"Session {s['id']} has no analysis to print.")
    try:
        with gate().slot():  # the comparison is rendered first: a heavy export
            job = context.station().print_comparison(a["id"], b["id"])
    except (PrintError, BusyError) as exc:
        return _print_failed(exc, url_for("pages.compare_pdf", a=a["id"], b=b["id"]), back, "comparison")
    flash(f"Comparison sent to the printer (job {job}).", "ok")
    return redirect(back)


@bp.route("/compare")
def compare():
    from device.report.findings import withheld_between

    a, b = _compare_pair()
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
        withheld=withheld_between(a.get("analysis"), b.get("analysis")),
    )
