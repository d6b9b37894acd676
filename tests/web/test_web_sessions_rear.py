"""Deleting one session, the rear view (session page, live preview), the live status line, and
one name per metric across dashboard, report and receipt."""

from __future__ import annotations

import re

import numpy as np
import pytest

from device.gait.metric_ids import ALL_METRICS
from device.report import catalog
from device.report.rear import REAR_IDS
from tests.web.sample_data import make_analysis
from web.present import live_message


def _done_session(store, runner_id, analysis=None) -> int:
    sid = store.create_session(runner_id, 12.0, 1.0, "Pegasus", "", "side", "test", {})
    store.save_analysis(sid, analysis or make_analysis())
    return sid


def _with_data(store, sid: int) -> None:
    n = 5
    store.append_keypoints(sid, np.arange(n) / 30.0, np.ones((n, 17, 3), np.float32), np.arange(n))
    store.append_keypoints(
        sid, np.arange(n) / 30.0, np.ones((n, 17, 3), np.float32), np.arange(n), camera="rear"
    )
    store.add_evidence(sid, "left", "initial_contact", 0.1, 3, b"\xff\xd8jpeg", np.ones((17, 3)))


# -- deleting one session ------------------------------------------------------------------------


def test_delete_session_page_needs_confirmation_and_csrf(logged_in, store):
    rid = store.create_runner("Ann Lee", 168)
    keep = _done_session(store, rid)
    sid = _done_session(store, rid)
    _with_data(store, sid)
    page = logged_in.get(f"/sessions/{sid}").get_data(as_text=True)
    assert f'href="/sessions/{sid}/delete"' in page
    confirm = logged_in.get(f"/sessions/{sid}/delete").get_data(as_text=True)
    assert 'name="csrf_token"' in confirm and "cannot be undone" in confirm
    assert logged_in.post(f"/sessions/{sid}/delete", data={"confirm": str(sid)}).status_code == 403  # no CSRF
    assert logged_in.post(f"/sessions/{sid}/delete", data={"csrf_token": logged_in.csrf}).status_code == 400
    assert store.count_keypoints(sid) == 5  # nothing deleted yet
    resp = logged_in.post(f"/sessions/{sid}/delete", data={"csrf_token": logged_in.csrf, "confirm": str(sid)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/runners/{rid}")
    assert logged_in.get(f"/sessions/{sid}").status_code == 404
    assert store.count_keypoints(sid) == 0 and store.count_keypoints(sid, "rear") == 0
    assert store.list_evidence(sid) == []
    # the runner and their other session stay
    assert store.get_runner(rid)["name"] == "Ann Lee"
    assert logged_in.get(f"/sessions/{keep}").status_code == 200


def test_delete_session_api(logged_in, store, station):
    rid = store.create_runner("Bo", 180)
    sid = _done_session(store, rid)
    _with_data(store, sid)
    hdr = {"X-CSRF-Token": logged_in.csrf}
    assert logged_in.delete(f"/api/sessions/{sid}").status_code == 403  # cookie without the CSRF header
    resp = logged_in.delete(f"/api/sessions/{sid}", headers=hdr)
    assert resp.status_code == 200 and resp.json == {"deleted": sid}
    assert store.count_keypoints(sid) == 0 and store.list_evidence(sid) == []
    assert logged_in.delete(f"/api/sessions/{sid}", headers=hdr).status_code == 404
    # the session on the treadmill right now cannot be deleted
    live = station.start_capture(runner_id=rid, session={"speed_kmh": 10})
    resp = logged_in.delete(f"/api/sessions/{live}", headers=hdr)
    assert resp.status_code == 409 and "capturing" in resp.json["error"]
    assert (
        logged_in.post(
            f"/sessions/{live}/delete", data={"csrf_token": logged_in.csrf, "confirm": str(live)}
        ).status_code
        == 409
    )
    assert store.get_session(live)["id"] == live


# -- rear view on the session page ---------------------------------------------------------------


def _rear_analysis(error: str | None = None) -> dict:
    a = make_analysis()
    a["metrics"]["pelvic_drop_deg"] = {
        "value": 6.5,
        "left": 5.0,
        "right": 8.0,
        "sd": 1.2,
        "n": 14,
        "unit": "deg",
        "normal": [None, 5.0],
        "flag": "high",
        "reason": None,
        "source": "rear",
    }
    a["metrics"]["step_width_cm"] = {
        "value": None,
        "left": None,
        "right": None,
        "sd": None,
        "n": 0,
        "unit": "cm",
        "normal": None,
        "flag": None,
        "source": "rear",
        "reason": "not measured: ankles hidden by the treadmill rail",
    }
    a["rear"] = {
        "view": {"kind": "rear"},
        "metrics_from_rear": ["pelvic_drop_deg", "step_width_cm"],
        "frames": 3412,
        "error": error,
    }
    return a


def test_session_page_rear_view_block(logged_in, store):
    sid = _done_session(store, store.create_runner("Cy", 170), _rear_analysis())
    body = logged_in.get(f"/sessions/{sid}").get_data(as_text=True)
    main = re.search(r'<table id="metrics".*?</table>', body, re.S).group(0)
    rear = re.search(r'<table id="rear-metrics".*?</table>', body, re.S).group(0)
    assert all(f'data-metric="{m}"' not in main for m in REAR_IDS)  # one place for each number
    assert all(f'data-metric="{m}"' in rear for m in REAR_IDS)
    summary = re.search(r'<p[^>]*id="rear-summary">(.*?)</p>', body, re.S).group(1)
    assert "rear camera (3412 frames)" in summary and "pelvic drop" in summary
    drop = re.search(r'<tr id="m-pelvic_drop_deg".*?</tr>', rear, re.S).group(0)
    assert "rear camera" in drop and ">5°<" in drop and ">8°<" in drop and "above normal" in drop
    width = re.search(r'<tr id="m-step_width_cm".*?</tr>', rear, re.S).group(0)
    assert "not measurable — ankles hidden by the treadmill rail" in width  # no doubled "not measured:"


def test_session_page_says_why_the_rear_camera_gave_nothing(logged_in, store):
    a = make_analysis()
    a["rear"] = {"error": "rear camera not available: /dev/video2 busy", "metrics_from_rear": []}
    sid = _done_session(store, store.create_runner("Di", 160), a)
    body = logged_in.get(f"/sessions/{sid}").get_data(as_text=True)
    summary = re.search(r'<p[^>]*id="rear-summary">(.*?)</p>', body, re.S).group(1)
    assert "Nothing measured from behind: rear camera not available: /dev/video2 busy" in summary
    sid = _done_session(store, store.create_runner("Ed", 160), make_analysis())  # no rear camera at all
    body = logged_in.get(f"/sessions/{sid}").get_data(as_text=True)
    assert "No rear camera on this session" in body
    assert "not measurable — side view only: pelvic drop needs a rear camera" in body


def test_report_has_the_rear_view_block():
    from device.config import Config
    from device.report.render import render_report_html

    html = render_report_html(
        {
            "id": 3,
            "runner": {"name": "Cy", "height_cm": 170},
            "analysis": _rear_analysis(),
            "speed_kmh": 12.0,
        },
        Config(),
    )
    block = re.search(r'<section[^>]*id="rear-view".*?</section>', html, re.S).group(0)
    assert "Measured by the rear camera (3412 frames)" in block
    assert all(f'data-metric="{m}"' in block for m in REAR_IDS)
    assert "ankles hidden by the treadmill rail" in block and "rear camera" in block
    main = re.search(r'<table class="metrics">.*?</table>', html, re.S).group(0)
    assert 'data-metric="pelvic_drop_deg"' not in main


# -- every contract metric, one name everywhere -----------------------------------------------------


def test_every_contract_metric_is_on_the_session_page(logged_in, store):
    sid = _done_session(store, store.create_runner("Fa", 165), make_analysis())  # 5 of the 26 metrics
    body = logged_in.get(f"/sessions/{sid}").get_data(as_text=True)
    for mid in ALL_METRICS:
        row = re.search(rf'<tr id="m-{mid}".*?</tr>', body, re.S)
        assert row, f"{mid} missing from the session page"
        assert catalog.info(mid).label in row.group(0)
    flight = re.search(r'<tr id="m-flight_time_ms".*?</tr>', body, re.S).group(0)
    assert f"not measurable — {catalog.MISSING_REASON}" in flight
    contact = re.search(r'<tr id="m-contact_time_ms".*?</tr>', body, re.S).group(0)
    assert "248 ms" in contact and "252 ms" in contact and "180–280 ms" in contact


def test_catalog_names_every_contract_metric_once():
    """The labels the dashboard, report and receipt share cover exactly the contract's ids."""
    assert set(catalog.METRICS) == set(ALL_METRICS)
    labels = [inf.label for inf in catalog.METRICS.values()]
    assert len(labels) == len(set(labels))


def test_receipt_uses_the_catalog_labels():
    from device.printing.summary import format_summary

    session = {
        "id": 1,
        "runner": {"name": "Ann"},
        "speed_kmh": 12.0,
        "status": "done",
        "started_at": None,
        "analysis": make_analysis(),
    }
    text = "\n".join(format_summary(session, 48, "metric"))
    assert catalog.info("contact_time_ms").label in text or catalog.info("cadence_spm").label in text


# -- live page: rear preview and the status line ---------------------------------------------------


def test_rear_preview_only_with_a_rear_camera(logged_in, station, cfg):
    assert 'id="rear-preview"' not in logged_in.get("/").get_data(as_text=True)
    assert logged_in.get("/live/rear.mjpg").status_code == 404
    cfg.camera.rear_source = "webcam:1"
    station.rear_preview = (7, b"\xff\xd8rear-jpeg\xff\xd9")
    assert 'id="rear-preview"' in logged_in.get("/").get_data(as_text=True)
    resp = logged_in.get("/live/rear.mjpg", buffered=False)
    assert resp.status_code == 200 and resp.mimetype == "multipart/x-mixed-replace"
    chunks = b""
    for chunk in resp.response:
        chunks += chunk
        if b"rear-jpeg" in chunks:
            break
    resp.close()
    assert b"Content-Type: image/jpeg" in chunks and b"rear-jpeg" in chunks


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (
            {
                "state": "capturing",
                "session_id": 4,
                "countdown_s": 2.2,
                "message": "session 4: starting in 3 s",
            },
            "Starting in 3 s…",
        ),
        (
            {
                "state": "capturing",
                "session_id": 4,
                "countdown_s": None,
                "message": "session 4: starting in 3 s",
            },
            "Recording session 4",
        ),
        ({"state": "analysing", "session_id": 4, "message": "analysing session 4"}, "Analysing session 4…"),
        (
            {"state": "done", "session_id": 4, "message": "session 4 done: cadence 172 spm"},
            "Session 4 done: cadence 172 spm",
        ),
        (
            {"state": "failed", "session_id": 4, "message": "camera failed: unplugged"},
            "Camera failed: unplugged",
        ),
        ({"state": "ready", "message": "ready: press start"}, "Ready: press start"),
    ],
)
def test_live_message_for_each_state(status, expected):
    assert live_message(status) == expected


def test_live_page_and_status_api_use_the_state_message(logged_in, station, store):
    rid = store.create_runner("Gu", 170)
    sid = station.start_capture(runner_id=rid, session={"speed_kmh": 10})
    page = logged_in.get("/").get_data(as_text=True)
    assert f'data-field="message">Recording session {sid}<' in page
    st = logged_in.get("/api/status").json
    assert st["message"] == f"Recording session {sid}" and "station_message" in st
