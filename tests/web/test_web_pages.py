"""The clinician's pages: form validation, escaping, session page, comparison, runner deletion."""

from __future__ import annotations

import re

import numpy as np

from device.gait.types import Metric
from tests.web.sample_data import make_analysis
from web.forms import parse_session_request
from web.present import compare_rows

XSS = "<script>alert('x')</script> O'Brien & Co"


def _done_session(store, runner_id, analysis=None, **kw) -> int:
    sid = store.create_session(
        runner_id, kw.get("speed", 12.0), 1.0, kw.get("shoes", "Pegasus"), "", "side", "test", {}
    )
    store.save_analysis(sid, analysis or make_analysis())
    return sid


# -- form validation -------------------------------------------------------------------------


def test_form_requires_name_height_and_speed_for_new_runner():
    req, errs = parse_session_request(
        {"runner_id": "new", "runner_name": "  ", "height_cm": "", "speed_kmh": ""}
    )
    assert set(errs.fields) == {"runner_name", "height_cm", "speed_kmh"}


def test_form_ranges_and_types():
    _, errs = parse_session_request(
        {
            "runner_name": "A",
            "height_cm": "3000",
            "speed_kmh": "fast",
            "incline_pct": "99",
            "view": "top",
            "shoes": "x" * 500,
        }
    )
    assert "between" in errs.fields["height_cm"]
    assert "number" in errs.fields["speed_kmh"]
    assert "between" in errs.fields["incline_pct"]
    assert "one of" in errs.fields["view"]
    assert "too long" in errs.fields["shoes"]


def test_form_accepts_json_runner_object_and_comma_decimal():
    req, errs = parse_session_request({"runner": {"name": "Ann", "height_cm": 168}, "speed_kmh": "11,5"})
    assert not errs, errs.fields
    assert req.runner_name == "Ann" and req.height_cm == 168 and req.speed_kmh == 11.5 and req.view == "side"


def test_form_unknown_runner_id():
    _, errs = parse_session_request({"runner_id": "99", "speed_kmh": "10"}, known_runner_ids={1, 2})
    assert "no such runner" in errs.fields["runner_id"]


def test_new_session_form_shows_errors_and_keeps_values(logged_in, station):
    resp = logged_in.post(
        "/sessions/new",
        data={
            "csrf_token": logged_in.csrf,
            "runner_id": "new",
            "runner_name": XSS,
            "height_cm": "abc",
            "speed_kmh": "40",
        },
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert 'id="err-height_cm"' in body and 'id="err-speed_kmh"' in body
    assert "<script>alert" not in body and "&lt;script&gt;alert" in body  # kept, escaped
    assert station.calls == []


def test_new_session_form_starts_capture_for_new_runner(logged_in, station, store):
    resp = logged_in.post(
        "/sessions/new",
        data={
            "csrf_token": logged_in.csrf,
            "runner_id": "new",
            "runner_name": "Ann Lee",
            "height_cm": "168",
            "speed_kmh": "12",
            "incline_pct": "1",
            "shoes": "Clifton",
            "view": "side",
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    ((name, kw),) = station.calls
    assert name == "start"
    assert kw["runner"] == {"name": "Ann Lee", "height_cm": 168.0}  # the station creates it
    runner = store.get_session(station.session_id)["runner"]
    assert runner["name"] == "Ann Lee" and runner["height_cm"] == 168
    assert kw["session"] == {
        "speed_kmh": 12.0,
        "incline_pct": 1.0,
        "shoes": "Clifton",
        "notes": "",
        "view": "side",
    }


def test_refused_start_leaves_no_orphan_runner(logged_in, station, store):
    station.state = "analysing"
    resp = logged_in.post(
        "/sessions/new",
        data={"csrf_token": logged_in.csrf, "runner_name": "Ghost", "height_cm": "170", "speed_kmh": "10"},
    )
    assert resp.status_code == 409 and "analysing" in resp.get_data(as_text=True)
    assert store.list_runners() == []


# -- escaping --------------------------------------------------------------------------------


def test_runner_name_with_script_is_escaped_everywhere(logged_in, store):
    rid = store.create_runner(XSS, 170)
    sid = _done_session(store, rid, shoes="<img src=x onerror=alert(1)>")
    for url in (
        "/runners",
        f"/runners/{rid}",
        f"/sessions/{sid}",
        "/sessions",
        f"/runners/{rid}/delete",
        f"/sessions/new?runner_id={rid}",
        f"/compare?a={sid}&b={sid}",
    ):
        body = logged_in.get(url).get_data(as_text=True)
        assert "<script>alert" not in body, url
        assert "<img src=x" not in body, url
        assert "&lt;script&gt;" in body, url


# -- session page ----------------------------------------------------------------------------


def test_session_page_shows_every_metric_with_sides_ranges_flags(logged_in, store):
    rid = store.create_runner("Ann", 168)
    sid = _done_session(store, rid)
    body = logged_in.get(f"/sessions/{sid}").get_data(as_text=True)
    for mid in ("cadence_spm", "contact_time_ms", "overstride_cm", "knee_flexion_ic_deg", "pelvic_drop_deg"):
        assert f'data-metric="{mid}"' in body
    row = re.search(r'<tr id="m-overstride_cm".*?</tr>', body, re.S).group(0)
    # above 8 cm by more than the engine's overstride error (±3.4 cm): a flag
    assert "12.0 cm" in row and "11.0 cm" in row and "13.0 cm" in row  # value, left, right
    assert "above normal" in row and "≤ 8.0 cm" in row
    pelvic = re.search(r'<tr id="m-pelvic_drop_deg".*?</tr>', body, re.S).group(0)
    assert "not measurable — side view only: pelvic drop needs a rear camera" in pelvic
    assert body.count("<svg") >= 2  # knee curve + cadence over time
    assert (
        "Good capture" in body and "Overstriding" in body
    )  # the cue library's, re-derived by the evidence gate
    assert 'id="print-summary"' in body and 'id="print-report"' in body
    # which numbers were checked against a reference, as on the printed report
    accuracy = re.search(r'<p class="muted small" id="accuracy">(.*?)</p>', body, re.S).group(1)
    assert "ground contact time ±29 ms" in accuracy and "others: synthetic runner only" in accuracy


def test_session_page_marks_every_number_of_an_unusable_capture(logged_in, store):
    """A wrong-view capture: a metric without a normal range (flight time) is marked like the
    ones with a range, with the pointer to the note at the top, not shown as a valid number."""
    a = make_analysis()
    a["metrics"]["flight_time_ms"] = Metric(95.0, "ms", left=94.0, right=96.0, sd=8.0, n=40).to_dict()
    a["view"]["detected"] = "rear"
    sid = _done_session(store, store.create_runner("Ann", 168), a)
    body = logged_in.get(f"/sessions/{sid}").get_data(as_text=True)
    for mid in ("flight_time_ms", "cadence_spm"):
        row = re.search(rf'<tr id="m-{mid}".*?</tr>', body, re.S).group(0)
        assert 'data-status="not_enough_evidence">not enough evidence</span>' in row, mid
        assert '<span class="why">see the note at the top</span>' in row, mid


def test_session_page_says_at_the_limit_not_in_range_within_the_margin(logged_in, store):
    """Contact time 270 ms against the clinic's 280 ms limit: inside it by less than the engine's
    error (±29 ms), so the page says "at the limit" and why, in the gate's one vocabulary."""
    a = make_analysis()
    a["metrics"]["contact_time_ms"].update(value=270.0, left=269.0, right=271.0)
    sid = _done_session(store, store.create_runner("Ann", 168), a)
    body = logged_in.get(f"/sessions/{sid}").get_data(as_text=True)
    row = re.search(r'<tr id="m-contact_time_ms".*?</tr>', body, re.S).group(0)
    assert 'data-status="at_limit">at the limit</span>' in row and "in range" not in row
    assert "of the 280" in row and "limit: may be outside the range" in row


def test_no_cadence_chart_where_the_cadence_is_not_measurable(logged_in, store):
    """An analysis stored with a cadence over the run beside a cadence withheld (cuts between
    takes): the page shows the reason, not a chart of it."""
    a = make_analysis()
    assert len(a["cadence_series"]) >= 3
    a["metrics"]["cadence_spm"] = Metric.unmeasurable("spm", "not one continuous take").to_dict()
    a["cadence_spm"] = None
    sid = _done_session(store, store.create_runner("Ann", 168), a)
    body = logged_in.get(f"/sessions/{sid}").get_data(as_text=True)
    assert "not one continuous take" in body
    assert 'data-chart="cadence"' not in body


def test_a_capture_of_the_synthetic_runner_is_marked_as_a_demo(logged_in, store):
    rid = store.create_runner("Demo", 170)
    real = _done_session(store, rid)
    demo = store.create_session(rid, 11.0, 0.0, "", "", "side", "synthetic", {})
    store.save_analysis(demo, make_analysis())
    assert 'id="demo-source"' not in logged_in.get(f"/sessions/{real}").get_data(as_text=True)
    body = logged_in.get(f"/sessions/{demo}").get_data(as_text=True)
    note = re.search(r'<p class="flash demo-source" id="demo-source" role="status">(.*?)</p>', body, re.S)
    assert note and "the synthetic runner, drawn by the station, not a person" in note.group(1)


def test_session_page_404(logged_in):
    resp = logged_in.get("/sessions/999")
    assert resp.status_code == 404 and "no session 999" in resp.get_data(as_text=True)


def test_print_buttons_call_the_station(logged_in, store, station):
    sid = _done_session(store, store.create_runner("Ann", 168))
    resp = logged_in.post(f"/sessions/{sid}/print", data={"csrf_token": logged_in.csrf, "what": "report"})
    assert resp.status_code == 302
    assert ("print_report", sid) in station.calls


def test_print_failure_is_reported_not_crashing(logged_in, store, station):
    from device.printing.errors import PrintError

    station.print_error = PrintError("receipt printer not connected")
    sid = _done_session(store, store.create_runner("Ann", 168))
    resp = logged_in.post(f"/sessions/{sid}/print", data={"csrf_token": logged_in.csrf, "what": "summary"})
    assert resp.status_code == 502 and "receipt printer not connected" in resp.get_data(as_text=True)


def test_evidence_frame_drawn(logged_in, store):
    import cv2

    sid = _done_session(store, store.create_runner("Ann", 168))
    img = np.full((360, 640, 3), 90, np.uint8)
    jpeg = cv2.imencode(".jpg", img)[1].tobytes()
    kp = np.full((17, 3), np.nan)
    kp[11] = (320, 150, 0.9)  # left hip
    kp[13] = (340, 230, 0.9)  # left knee
    kp[15] = (360, 310, 0.9)  # left ankle
    kp[5] = (310, 60, 0.9)  # left shoulder
    eid = store.add_evidence(sid, "left", "initial_contact", 0.5, 15, jpeg, kp)
    body = logged_in.get(f"/sessions/{sid}").get_data(as_text=True)
    assert f"/sessions/{sid}/evidence/{eid}.jpg" in body
    resp = logged_in.get(f"/sessions/{sid}/evidence/{eid}.jpg")
    assert resp.status_code == 200 and resp.mimetype == "image/jpeg"
    drawn = cv2.imdecode(np.frombuffer(resp.data, np.uint8), cv2.IMREAD_COLOR)
    assert drawn is not None and drawn.std() > 1.0  # something was drawn on the flat grey frame
    other = _done_session(store, store.create_runner("Bob", 180))
    assert logged_in.get(f"/sessions/{other}/evidence/{eid}.jpg").status_code == 404


def test_a_walking_capture_shows_no_running_range(logged_in, store):
    """Walking: the page says the running norms are not applied, and shows none: "—" in the
    normal column (as the report), no band on the cadence chart."""
    a = make_analysis(cadence=112.0)
    a["activity"] = "walking"
    sid = _done_session(store, store.create_runner("Ann", 168), a)
    body = logged_in.get(f"/sessions/{sid}").get_data(as_text=True)
    assert "the running norms are not applied" in body
    table = body[
        body.index('<table id="metrics"') : body.index("</table>", body.index('<table id="metrics"'))
    ]
    normals = re.findall(r'<td class="normal">(.*?)</td>', table)
    assert normals and set(normals) == {"—"}
    assert "170–185" not in body and "normal 170" not in body


def test_evidence_caption_names_angles_as_the_drawing_does(logged_in, store):
    """The caption under a push-off frame says "Hip extension: 14°", the name and sign drawn on
    the frame (and the table's "Hip extension at push-off"), not "Hip flexion: -14°"."""
    import cv2

    sid = _done_session(store, store.create_runner("Ann", 168))
    jpeg = cv2.imencode(".jpg", np.full((360, 640, 3), 90, np.uint8))[1].tobytes()
    angles = {"knee_flexion": 22.5, "hip_flexion": -14.3, "shank": -0.2, "trunk_lean": 4.2}
    store.add_evidence(
        sid, "left", "toe_off", 0.5, 15, jpeg, np.full((17, 3), np.nan), meta={"angles": angles}
    )
    body = logged_in.get(f"/sessions/{sid}").get_data(as_text=True)
    caption = body[body.index("<figcaption><strong>Left · Push-off") :].split("</figcaption>")[0]
    assert "Hip extension: 14°" in caption and "Hip flexion" not in caption
    assert "Knee bend: 22°" in caption and "Trunk lean: 4°" in caption
    assert "Shin angle: 0°" in caption  # no "-0°"


# -- history and comparison --------------------------------------------------------------------


def test_compare_marks_only_changes_beyond_noise():
    a = make_analysis(cadence=170.0, overstride=10.0, sd=1.0, n=40)
    b = make_analysis(cadence=171.5, overstride=6.0, sd=1.0, n=40)
    rows = {r.id: r for r in compare_rows(a, b)}
    assert rows["overstride_cm"].verdict == "changed" and rows["overstride_cm"].delta == -4.0
    assert rows["overstride_cm"].trend == "toward normal"  # 10 → 6 cm, normal ≤ 8 cm
    assert rows["cadence_spm"].verdict == "within noise"  # 1.5 spm vs the cadence sd of 2 spm
    assert rows["pelvic_drop_deg"].verdict == "not measurable"


def test_dashboard_and_printed_comparison_use_one_rule():
    """The page marks exactly the metrics the printed comparison marks (one implementation)."""
    from device.report.render import comparison_rows
    from device.report.units import Units

    a = make_analysis(cadence=170.0, overstride=10.0, sd=1.5, n=12)
    for cadence, overstride in ((171.9, 8.6), (172.1, 8.4), (168.0, 11.6)):
        b = make_analysis(cadence=cadence, overstride=overstride, sd=1.5, n=12)
        page = {r.id: r.changed for r in compare_rows(a, b) if r.verdict != "not measurable"}
        paper = {r["id"]: r["beyond_noise"] for r in comparison_rows(a, b, Units())}
        assert page == {k: v for k, v in paper.items() if k in page}, (cadence, overstride)


def test_runner_history_and_compare_page(logged_in, store):
    rid = store.create_runner("Ann", 168)
    a = _done_session(store, rid, make_analysis(overstride=10.0))
    b = _done_session(store, rid, make_analysis(overstride=6.0))
    body = logged_in.get(f"/runners/{rid}").get_data(as_text=True)
    assert f'data-session="{a}"' in body and f'data-session="{b}"' in body and 'id="compare-form"' in body
    body = logged_in.get(f"/compare?a={b}&b={a}").get_data(as_text=True)
    row = re.search(r'<tr id="c-overstride_cm".*?</tr>', body, re.S).group(0)
    assert 'data-verdict="changed"' in row and "−4.0 cm" in row
    assert logged_in.get("/compare?a=1").status_code == 400


def test_delete_runner_needs_confirmation_and_csrf(logged_in, store):
    rid = store.create_runner("Ann Lee", 168)
    sid = _done_session(store, rid)
    page = logged_in.get(f"/runners/{rid}/delete").get_data(as_text=True)
    assert "1 session(s)" in page
    assert logged_in.post(f"/runners/{rid}/delete", data={"confirm_name": "Ann Lee"}).status_code == 403
    resp = logged_in.post(
        f"/runners/{rid}/delete", data={"confirm_name": "Ann", "csrf_token": logged_in.csrf}
    )
    assert resp.status_code == 400 and store.get_runner(rid)
    resp = logged_in.post(
        f"/runners/{rid}/delete", data={"confirm_name": "Ann Lee", "csrf_token": logged_in.csrf}
    )
    assert resp.status_code == 302
    assert logged_in.get(f"/runners/{rid}").status_code == 404
    assert logged_in.get(f"/sessions/{sid}").status_code == 404


def test_live_page_renders_status(logged_in, station):
    body = logged_in.get("/").get_data(as_text=True)
    assert 'id="live"' in body and 'data-state="idle"' in body and "/live/preview.mjpg" in body
    # no second hint to list: no "Capture quality" heading over an empty list
    assert '<h2 id="hints-heading" hidden>' in body
    assert 'id="demo-source"' not in body
    station.synthetic_runner = True  # no camera: the station films the drawn runner
    body = logged_in.get("/").get_data(as_text=True)
    assert re.search(r'id="demo-source"><strong>Demo camera: the synthetic runner.</strong>', body)


def test_compare_page_when_a_metric_was_measured_in_only_one_session(logged_in, store):
    rid = store.create_runner("Cy", 175)
    before = make_analysis(overstride=10.0)
    after = make_analysis(overstride=6.0)
    after["metrics"]["overstride_cm"].update(
        value=None, left=None, right=None, sd=None, n=0, reason="ankles hidden by the treadmill rail"
    )
    a = _done_session(store, rid, before)
    b = _done_session(store, rid, after)
    resp = logged_in.get(f"/compare?a={a}&b={b}")
    assert resp.status_code == 200
    row = re.search(r'<tr id="c-overstride_cm".*?</tr>', resp.get_data(as_text=True), re.S).group(0)
    assert "not measurable after — ankles hidden by the treadmill rail" in row
    # the page orders the two sessions by date: the same verdict whichever way they are asked for
    resp = logged_in.get(f"/compare?a={b}&b={a}")
    row = re.search(r'<tr id="c-overstride_cm".*?</tr>', resp.get_data(as_text=True), re.S).group(0)
    assert "not measurable after — ankles hidden by the treadmill rail" in row


def test_compare_page_says_once_why_no_change_is_read(logged_in, store):
    rid = store.create_runner("Cy", 175)
    short = make_analysis(overstride=10.0)
    short["quality"]["duration_s"] = 12.0  # too short: no findings from it
    a, b = _done_session(store, rid, short), _done_session(store, rid, make_analysis(overstride=6.0))
    body = logged_in.get(f"/compare?a={a}&b={b}").get_data(as_text=True)
    note = re.search(r'<p class="flash error" id="compare-withheld" role="status">(.*?)</p>', body, re.S)
    assert note and "no findings from the before capture (The capture is 12.0 s" in note.group(1)
    row = re.search(r'<tr id="c-overstride_cm".*?</tr>', body, re.S).group(0)
    assert "cannot tell" in row and "findings withheld (see above)" in row and "toward normal" not in row
    assert body.count("no findings from the before capture") == 1
