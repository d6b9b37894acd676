"""Runner records (issues 12 item 5, 13 items 6 and 13): a session keeps what it was captured
with, names typed again are offered not duplicated, runners are edited and merged, a cancelled
"get ready" or capture leaves nothing, ids and evidence images are never reused or cached."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gpiozero.pins.mock import MockFactory

from device.config import Config
from device.station import Station
from device.synthetic.runner import RunnerParams, SyntheticRunner
from tests.device.capture.capture_fakes import PoseFromRunner, ScriptedSource
from tests.web.sample_data import make_analysis


def _form(client, **fields):
    return {"csrf_token": client.csrf, "view": "side", "speed_kmh": "12", **fields}


def test_typed_name_that_exists_is_offered_not_duplicated(logged_in, station, store):
    ann = store.create_runner("Ann Lee", 168)
    resp = logged_in.post(
        "/sessions/new", data=_form(logged_in, runner_id="new", runner_name=" ann  lee", height_cm="170")
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 409
    assert 'id="existing-runner"' in body and f'name="use_runner" value="{ann}"' in body
    assert station.calls == [] and len(store.list_runners()) == 1
    # "use Ann Lee": the session is hers, with her height on record, and no second runner
    resp = logged_in.post(
        "/sessions/new",
        data=_form(
            logged_in,
            runner_id="new",
            runner_name="ann lee",
            height_cm="170",
            use_runner=str(ann),
            offer_action="start",
        ),
    )
    assert resp.status_code == 302
    assert len(store.list_runners()) == 1
    s = store.get_session(station.session_id)
    assert s["runner_id"] == ann and s["runner"]["height_cm"] == 168


def test_a_different_person_with_the_same_name_can_be_added(logged_in, station, store):
    store.create_runner("Ann Lee", 168)
    resp = logged_in.post(
        "/sessions/new",
        data=_form(
            logged_in,
            runner_id="new",
            runner_name="Ann Lee",
            height_cm="150",
            new_runner_anyway="1",
            offer_action="prepare",
        ),
    )
    assert resp.status_code == 302
    assert [c[0] for c in station.calls] == ["prepare"]  # what was pressed before the offer
    assert len(store.find_runners("Ann Lee")) == 2


def _api(client, url, body):
    return client.post(url, json=body, headers={"X-CSRF-Token": client.csrf})


@pytest.mark.parametrize("url", ["/api/capture/start", "/api/capture/prepare"])
def test_api_offers_the_existing_runner_like_the_form(logged_in, station, store, url):
    """The API agrees with the form: a new runner's name that exists is a 409 naming the existing
    runner(s), nothing is created; the client then sends runner_id, or new_runner: true for a
    different person with the same name."""
    ann = store.create_runner("Ann Lee", 168)
    resp = _api(logged_in, url, {"runner": {"name": " ann  lee", "height_cm": 170}, "speed_kmh": 12})
    assert resp.status_code == 409, resp.json
    assert "already exists" in resp.json["error"]
    assert resp.json["existing"] == [{"id": ann, "name": "Ann Lee", "height_cm": 168.0}]
    assert station.calls == [] and len(store.list_runners()) == 1
    resp = _api(logged_in, url, {"runner_id": ann, "speed_kmh": 12})
    assert resp.status_code in (200, 201), resp.json
    assert len(store.list_runners()) == 1
    assert _api(logged_in, "/api/capture/cancel", {}).status_code == 200
    resp = _api(
        logged_in, url, {"runner": {"name": "Ann Lee", "height_cm": 150}, "speed_kmh": 12, "new_runner": True}
    )
    assert resp.status_code in (200, 201), resp.json
    assert len(store.find_runners("Ann Lee")) == 2


def test_prepare_then_cancel_leaves_no_runner(logged_in, station, store):
    resp = logged_in.post(
        "/sessions/new",
        data=_form(logged_in, runner_id="new", runner_name="Walk-in", height_cm="175", action="prepare"),
    )
    assert resp.status_code == 302 and station.state == "ready"
    assert [r["name"] for r in store.list_runners()] == ["Walk-in"]
    resp = logged_in.post("/api/capture/cancel", headers={"X-CSRF-Token": logged_in.csrf})
    assert resp.status_code == 200, resp.json
    assert store.list_runners() == [] and store.list_sessions() == []


def test_edit_runner_changes_new_sessions_only(logged_in, store):
    rid = store.create_runner("Sam", 170)
    old = store.create_session(rid, 10.0, 0.0, "Shoe A")
    store.save_analysis(old, make_analysis())
    page = logged_in.get(f"/runners/{rid}/edit")
    assert page.status_code == 200 and 'value="170.0"' in page.get_data(as_text=True)
    bad = logged_in.post(
        f"/runners/{rid}/edit", data={"csrf_token": logged_in.csrf, "name": "", "height_cm": "9"}
    )
    assert bad.status_code == 400 and store.get_runner(rid)["name"] == "Sam"
    resp = logged_in.post(
        f"/runners/{rid}/edit",
        data={"csrf_token": logged_in.csrf, "name": "Sam Ortiz", "height_cm": "181", "notes": "ACL 2024"},
    )
    assert resp.status_code == 302
    r = store.get_runner(rid)
    assert (r["name"], r["height_cm"], r["notes"]) == ("Sam Ortiz", 181, "ACL 2024")
    body = logged_in.get(f"/sessions/{old}").get_data(as_text=True)
    assert "170 cm" in body and "181 cm" not in body  # the old session keeps its height
    assert store.get_session(store.create_session(rid, 11.0))["runner"]["height_cm"] == 181


def test_merge_duplicate_runner(logged_in, store, station):
    keep = store.create_runner("Ann Lee", 168)
    dup = store.create_runner("ann lee", 168)
    s1 = store.create_session(keep, 10.0)
    s2 = store.create_session(dup, 11.0)
    page = logged_in.get(f"/runners/{keep}/merge").get_data(as_text=True)
    assert f'<option value="{dup}" selected' in page
    no_tick = logged_in.post(f"/runners/{keep}/merge", data={"csrf_token": logged_in.csrf, "other": str(dup)})
    assert no_tick.status_code == 400 and store.get_runner(dup)
    station.state = "capturing"
    busy = logged_in.post(
        f"/runners/{keep}/merge", data={"csrf_token": logged_in.csrf, "other": str(dup), "confirm": str(dup)}
    )
    assert busy.status_code == 409
    station.state = "idle"
    resp = logged_in.post(
        f"/runners/{keep}/merge", data={"csrf_token": logged_in.csrf, "other": str(dup), "confirm": str(dup)}
    )
    assert resp.status_code == 302
    assert {s["id"] for s in store.list_sessions(keep)} == {s1, s2}
    assert [r["id"] for r in store.list_runners()] == [keep]


def test_imperial_form_asks_feet_inches_and_mph(logged_in, station, store, cfg):
    cfg.station.units = "imperial"
    page = logged_in.get("/sessions/new").get_data(as_text=True)
    assert 'name="height_ft"' in page and 'name="speed_mph"' in page
    assert 'name="height_cm"' not in page and "km/h" not in page
    bad = logged_in.post(
        "/sessions/new",
        data={
            "csrf_token": logged_in.csrf,
            "runner_id": "new",
            "runner_name": "Joe",
            "height_ft": "12",
            "speed_mph": "7.5",
        },
    )
    assert bad.status_code == 400 and "ft" in bad.get_data(as_text=True)
    resp = logged_in.post(
        "/sessions/new",
        data={
            "csrf_token": logged_in.csrf,
            "runner_id": "new",
            "runner_name": "Joe",
            "height_ft": "5",
            "height_in": "10",
            "speed_mph": "7.5",
            "view": "side",
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    s = store.get_session(station.session_id)
    assert s["runner"]["height_cm"] == pytest.approx(177.8, abs=0.1)
    assert s["speed_kmh"] == pytest.approx(12.07, abs=0.01)
    # a follow-up session for Joe is prefilled in his units
    again = logged_in.get(f"/sessions/new?runner_id={s['runner_id']}").get_data(as_text=True)
    assert 'id="speed_mph" name="speed_mph"' in again and 'value="7.5"' in again
    edit = logged_in.get(f"/runners/{s['runner_id']}/edit").get_data(as_text=True)
    assert 'name="height_ft"' in edit and 'value="5"' in edit and 'value="10"' in edit


def test_evidence_images_are_not_cacheable(logged_in, store):
    rid = store.create_runner("Ann", 168)
    sid = store.create_session(rid, 12.0)
    store.save_analysis(sid, make_analysis())
    eid = store.add_evidence(sid, "left", "initial_contact", 0.5, 15, b"\xff\xd8\xff\xd9", np.zeros((17, 3)))
    resp = logged_in.get(f"/sessions/{sid}/evidence/{eid}.jpg")
    cc = resp.headers.get("Cache-Control", "")
    assert "no-store" in cc and "private" in cc and "max-age=3600" not in cc


def test_deleting_newest_runner_then_adding_gives_new_ids_through_the_dashboard(logged_in, store, station):
    rid = store.create_runner("First", 170)
    sid = store.create_session(rid, 10.0)
    store.save_analysis(sid, make_analysis())
    eid = store.add_evidence(sid, "left", "initial_contact", 0.5, 15, b"\xff\xd8\xff\xd9", np.zeros((17, 3)))
    resp = logged_in.post(
        f"/runners/{rid}/delete", data={"csrf_token": logged_in.csrf, "confirm_name": "First"}
    )
    assert resp.status_code == 302
    logged_in.post(
        "/sessions/new", data=_form(logged_in, runner_id="new", runner_name="Second", height_cm="160")
    )
    s2 = store.get_session(station.session_id)
    store.save_analysis(s2["id"], make_analysis())
    e2 = store.add_evidence(
        s2["id"], "left", "initial_contact", 0.5, 15, b"\xff\xd8\xff\xd9", np.zeros((17, 3))
    )
    assert s2["runner_id"] > rid and s2["id"] > sid and e2 > eid
    # the old printout's links find nothing rather than the next person's data
    assert logged_in.get(f"/sessions/{sid}").status_code == 404
    assert logged_in.get(f"/sessions/{sid}/evidence/{eid}.jpg").status_code == 404


# -- against the real Station (capture controller, store), no camera or model needed ----------


@pytest.fixture
def real_station(tmp_path: Path):
    cfg = Config()
    cfg.storage.data_dir = str(tmp_path / "data")
    cfg.storage.min_free_mb = 0
    cfg.capture.duration_s = 30.0
    cfg.capture.countdown_s = 0
    cfg.gpio.enabled = False
    src = ScriptedSource(size=(640, 360))
    runner = SyntheticRunner(
        RunnerParams(cadence_spm=172, width=640, height=360, duration_s=30, height_cm=180)
    )
    st = Station(
        cfg, "scripted", MockFactory(), estimator=PoseFromRunner(src, runner), source_factory=lambda: src
    )
    st.start()
    yield st
    st.close()


def test_station_prepare_then_cancel_keeps_no_runner_and_no_height_change(real_station):
    st = real_station
    st.prepare(runner={"name": "Walk-in", "height_cm": 175}, session={"speed_kmh": 10})
    assert [r["name"] for r in st.store.list_runners()] == ["Walk-in"]
    st.unprepare()
    assert st.store.list_runners() == [] and st.store.list_sessions() == []
    kim = st.store.create_runner("Kim", 165)
    st.prepare(runner_id=kim, session={"speed_kmh": 10}, height_cm=190)
    assert st.store.get_runner(kim)["height_cm"] == 190
    st.unprepare()
    assert st.store.get_runner(kim)["height_cm"] == 165
    # a second prepare replaces the first: the first one's new runner goes
    st.prepare(runner={"name": "First try", "height_cm": 170}, session={"speed_kmh": 10})
    st.prepare(runner_id=kim, session={"speed_kmh": 10})
    assert [r["name"] for r in st.store.list_runners()] == ["Kim"]
    st.unprepare()


def test_station_cancelled_capture_of_a_new_runner_leaves_nothing(real_station):
    st = real_station
    kim = st.store.create_runner("Kim", 165)
    st.prepare(runner={"name": "Walk-in", "height_cm": 175}, session={"speed_kmh": 10})
    sid = st.start_capture()
    assert sid is not None
    assert st.store.get_session(sid)["runner"]["height_cm"] == 175
    assert st.cancel_capture() == sid
    st.wait_for_state(("idle",), 10)
    assert [r["id"] for r in st.store.list_runners()] == [kim]
    assert st.store.list_sessions() == []
    # an existing runner's cancelled capture keeps the runner; the next session id is new
    sid2 = st.start_capture(runner_id=kim, session={"speed_kmh": 10})
    assert sid2 > sid
    st.cancel_capture()
    st.wait_for_state(("idle",), 10)
    assert [r["id"] for r in st.store.list_runners()] == [kim]


def test_metronome_switched_from_the_dashboard(logged_in, station):
    resp = logged_in.post("/metronome", json={"spm": 176}, headers={"X-CSRF-Token": logged_in.csrf})
    assert resp.status_code == 200 and resp.json["metronome_spm"] == 176.0
    resp = logged_in.post("/metronome", data={"csrf_token": logged_in.csrf, "spm": "170", "off": "1"})
    assert resp.status_code == 302 and station.metronome_spm == 0.0
    assert ("metronome", 176.0) in station.calls and 'id="metronome"' in logged_in.get("/").get_data(
        as_text=True
    )


def test_comparison_print_failure_offers_the_pdf_and_a_way_back(logged_in, store, station):
    from device.printing.errors import PrintError

    rid = store.create_runner("Ann", 168)
    a, b = (store.create_session(rid, 11.0) for _ in range(2))
    for sid in (a, b):
        store.save_analysis(sid, make_analysis())
    station.print_error = PrintError("the CUPS print service is not running")
    resp = logged_in.post("/compare/print", data={"csrf_token": logged_in.csrf, "a": str(a), "b": str(b)})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 502 and 'id="print-failed"' in body
    assert f"/compare/report.pdf?a={a}&amp;b={b}" in body and f"/compare?a={a}&amp;b={b}" in body
    pdf = logged_in.get(f"/compare/report.pdf?a={a}&b={b}")
    assert (
        pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and "no-store" in pdf.headers["Cache-Control"]
    )


def test_video_routes_say_when_there_is_no_video(logged_in, store):
    rid = store.create_runner("Ann", 168)
    sid = store.create_session(rid, 11.0)
    store.save_analysis(sid, make_analysis())
    assert logged_in.get(f"/sessions/{sid}/video.json").status_code == 404
    assert logged_in.get(f"/sessions/{sid}/video/0.jpg").status_code == 404
    assert 'id="no-video"' in logged_in.get(f"/sessions/{sid}").get_data(as_text=True)
