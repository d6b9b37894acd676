"""The JSON API and the live streams (station stand-in; real-station flows in test_web_station_flow)."""

from __future__ import annotations

import json
import time

import numpy as np

from device.keypoints import Timeline
from tests.web.sample_data import make_analysis


def _post(c, url, body=None):
    return c.post(url, json=body or {}, headers={"X-CSRF-Token": c.csrf})


def test_status(logged_in):
    resp = logged_in.get("/api/status")
    assert resp.status_code == 200
    assert resp.json["state"] == "idle" and "server_time" in resp.json


def test_start_validation_errors_are_400_with_fields(logged_in, station):
    resp = _post(
        logged_in, "/api/capture/start", {"runner": {"name": "", "height_cm": "tall"}, "speed_kmh": 99}
    )
    assert resp.status_code == 400
    assert set(resp.json["fields"]) == {"runner_name", "height_cm", "speed_kmh"}
    assert station.calls == []


def test_start_body_must_be_json_object(logged_in):
    resp = logged_in.post(
        "/api/capture/start",
        data="{nope",
        content_type="application/json",
        headers={"X-CSRF-Token": logged_in.csrf},
    )
    assert resp.status_code == 400 and "JSON" in resp.json["error"]
    resp = _post(logged_in, "/api/capture/start", [1, 2])
    assert resp.status_code == 400


def test_start_stop_flow(logged_in, station, store):
    resp = _post(
        logged_in,
        "/api/capture/start",
        {"runner": {"name": "Ann", "height_cm": 168}, "speed_kmh": 12, "shoes": "Clifton"},
    )
    assert resp.status_code == 201, resp.json
    sid = resp.json["session_id"]
    assert store.get_session(sid)["shoes"] == "Clifton"
    # a second start while capturing is a state conflict
    resp = _post(
        logged_in, "/api/capture/start", {"runner_id": store.get_session(sid)["runner_id"], "speed_kmh": 12}
    )
    assert resp.status_code == 409
    assert len(store.list_runners()) == 1
    resp = _post(logged_in, "/api/capture/stop")
    assert resp.status_code == 200 and resp.json["session_id"] == sid
    resp = _post(logged_in, "/api/capture/stop")
    assert resp.status_code == 409 and "nothing to stop" in resp.json["error"]


def test_prepare_then_start_like_the_button(logged_in, station, store):
    resp = _post(logged_in, "/api/capture/start", {})
    assert resp.status_code == 400 and "prepare" in resp.json["error"]
    resp = _post(
        logged_in, "/api/capture/prepare", {"runner": {"name": "Ann", "height_cm": 168}, "speed_kmh": 11}
    )
    assert resp.status_code == 200 and station.state == "ready"
    resp = _post(logged_in, "/api/capture/start", {})
    assert resp.status_code == 201
    s = store.get_session(resp.json["session_id"])
    assert s["runner"]["name"] == "Ann" and s["speed_kmh"] == 11


def test_cancel_when_ready_unprepares(logged_in, station):
    _post(logged_in, "/api/capture/prepare", {"runner": {"name": "Ann", "height_cm": 168}, "speed_kmh": 11})
    assert _post(logged_in, "/api/capture/cancel").status_code == 200
    assert station.state == "idle" and ("unprepare", None) in station.calls


def test_disk_full_precheck_is_507(logged_in, station, cfg, store):
    cfg.storage.min_free_mb = 10**9  # more than any disk
    resp = _post(
        logged_in, "/api/capture/start", {"runner": {"name": "Ann", "height_cm": 168}, "speed_kmh": 12}
    )
    assert resp.status_code == 507 and "disk nearly full" in resp.json["error"]
    assert station.calls == [] and store.list_runners() == []


def test_disk_full_is_507(logged_in, station):
    from device.errors import DiskFullError

    station.start_error = DiskFullError("disk nearly full: 12 MB free")
    resp = _post(
        logged_in, "/api/capture/start", {"runner": {"name": "Ann", "height_cm": 168}, "speed_kmh": 12}
    )
    assert resp.status_code == 507 and "disk" in resp.json["error"]
    station.start_error = OSError(28, "No space left on device")
    resp = _post(
        logged_in, "/api/capture/start", {"runner": {"name": "Ann", "height_cm": 168}, "speed_kmh": 12}
    )
    assert resp.status_code == 507


def test_sessions_and_detail(logged_in, store):
    rid = store.create_runner("Ann", 168)
    sid = store.create_session(rid, 12.0, 0.0, "", "", "side", "t", {})
    store.save_analysis(sid, make_analysis())
    listed = logged_in.get(f"/api/sessions?runner_id={rid}").json["sessions"]
    assert [s["id"] for s in listed] == [sid]
    detail = logged_in.get(f"/api/sessions/{sid}").json
    assert detail["analysis"]["metrics"]["overstride_cm"]["flag"] == "high"
    assert detail["runner"]["name"] == "Ann"
    assert logged_in.get("/api/sessions/999").status_code == 404
    assert "not found" in logged_in.get("/api/sessions/999").json["error"]
    assert logged_in.get("/api/sessions?runner_id=x").status_code == 400


def test_exports(logged_in, store):
    rid = store.create_runner("Ann Lee", 168)
    sid = store.create_session(rid, 12.0, 0.0, "", "", "side", "t", {})
    # before the analysis exists: 409 (wrong state), not an empty file
    resp = logged_in.get(f"/api/sessions/{sid}/analysis.json")
    assert resp.status_code == 409 and "capturing" in resp.json["error"]
    keypoints = np.zeros((2, 17, 3), np.float32) + 5  # x, y in pixels
    keypoints[..., 2] = 0.9  # scores are confidences in 0–1 (the CSV reader refuses others)
    store.append_keypoints(sid, np.array([0.0, 0.033]), keypoints, np.array([0, 1]))
    store.save_analysis(sid, make_analysis())
    resp = logged_in.get(f"/api/sessions/{sid}/analysis.json")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    assert "ann-lee" in resp.headers["Content-Disposition"]
    from device.gait.types import SCHEMA_VERSION

    assert json.loads(resp.data)["schema_version"] == SCHEMA_VERSION
    resp = logged_in.get(f"/api/sessions/{sid}/keypoints.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    import io

    from device.keypoints_csv import read_csv

    tl = read_csv(io.StringIO(resp.get_data(as_text=True)))
    assert isinstance(tl, Timeline) and len(tl) == 2


def test_print_api(logged_in, store, station):
    sid = store.create_session(store.create_runner("Ann", 168), 12.0, 0.0, "", "", "side", "t", {})
    resp = _post(logged_in, f"/api/sessions/{sid}/print", {"what": "summary"})
    assert resp.status_code == 409 and "no analysis" in resp.json["error"]  # still capturing
    store.save_analysis(sid, make_analysis())
    resp = _post(logged_in, f"/api/sessions/{sid}/print", {"what": "summary"})
    assert resp.status_code == 200 and ("print_summary", sid) in station.calls
    assert _post(logged_in, f"/api/sessions/{sid}/print", {"what": "poster"}).status_code == 400
    assert _post(logged_in, "/api/sessions/999/print", {"what": "summary"}).status_code == 404


def test_delete_runner_api(logged_in, store):
    rid = store.create_runner("Ann", 168)
    resp = logged_in.delete(f"/api/runners/{rid}", headers={"X-CSRF-Token": logged_in.csrf})
    assert resp.status_code == 200 and store.list_runners() == []
    assert (
        logged_in.delete(f"/api/runners/{rid}", headers={"X-CSRF-Token": logged_in.csrf}).status_code == 404
    )


# -- live streams ----------------------------------------------------------------------------


def _sse_events(resp, n):
    events, buf = [], b""
    for chunk in resp.response:
        buf += chunk
        while b"\n\n" in buf:
            block, buf = buf.split(b"\n\n", 1)
            data = [ln[6:] for ln in block.split(b"\n") if ln.startswith(b"data: ")]
            if data:
                events.append(json.loads(b"".join(data)))
        if len(events) >= n:
            break
    return events


def test_sse_pushes_status_and_unsubscribes(logged_in, station):
    resp = logged_in.get("/live/events", buffered=False)
    assert resp.mimetype == "text/event-stream"
    it = iter(resp.response)
    first = next(it)
    assert first.startswith(b"retry:")
    first_event = json.loads(next(it).split(b"data: ", 1)[1])
    assert first_event["state"] == "idle" and "server_time" in first_event
    assert len(station.subs) == 1
    station.state, station.frame_t = "capturing", 12.5
    station.publish()
    ev = json.loads(next(it).split(b"data: ", 1)[1])
    assert ev["state"] == "capturing" and ev["cadence_spm"] == 172.0 and ev["frame_t"] == 12.5
    resp.close()  # client went away: the last viewer left, so the status producer unsubscribes
    end = time.monotonic() + 3
    while station.subs and time.monotonic() < end:
        time.sleep(0.05)
    assert station.subs == []


def test_mjpeg_reuses_the_stations_jpeg(logged_in, station, app):
    jpeg = b"\xff\xd8fakejpeg\xff\xd9"
    station.preview = (1, jpeg)
    resp = logged_in.get("/live/preview.mjpg", buffered=False)
    assert resp.mimetype == "multipart/x-mixed-replace"
    it = iter(resp.response)
    part = next(it)  # one write per frame and viewer: part head, the station's JPEG, CRLF
    head, _, rest = part.partition(b"\r\n\r\n")
    assert rest == jpeg + b"\r\n"  # the station's JPEG as it is: no re-encode
    assert b"Content-Type: image/jpeg" in head and f"Content-Length: {len(jpeg)}".encode() in head
    second = iter(logged_in.get("/live/preview.mjpg", buffered=False).response)
    assert next(second) is part  # one part built per frame, the same object for every viewer
    app.extensions["gait_shutdown"].set()  # station shutting down: stream ends
    assert list(it) == []


def test_snapshot(logged_in, station):
    assert logged_in.get("/live/preview.jpg").status_code == 204
    station.preview = (7, b"\xff\xd8x\xff\xd9")
    resp = logged_in.get("/live/preview.jpg")
    assert resp.status_code == 200 and resp.headers["X-Preview-Seq"] == "7"


# -- issue 13: bad input that used to be a 500 ------------------------------------------------------


def _raw_post(c, url, raw: bytes):
    return c.post(url, data=raw, content_type="application/json", headers={"X-CSRF-Token": c.csrf})


def test_a_lone_surrogate_is_refused_and_the_next_start_works(logged_in, station, store):
    rid = store.create_runner("Ann", 168)
    body = b'{"runner_id": %d, "speed_kmh": 12, "shoes": "Clifton \\udfff"}' % rid
    for url in ("/api/capture/prepare", "/api/capture/start"):
        resp = _raw_post(logged_in, url, body)
        assert resp.status_code == 400 and "surrogate" in resp.json["error"], url
    assert station.calls == []
    resp = _post(logged_in, "/api/capture/start", {"runner_id": rid, "speed_kmh": 12, "shoes": "Zoë"})
    assert resp.status_code == 201 and store.get_session(resp.json["session_id"])["shoes"] == "Zoë"


def test_ids_beyond_sqlite_are_404_or_400_not_500(logged_in):
    big = 2**63
    for url in (f"/api/sessions/{big}", f"/api/sessions/{big * 10}/report.pdf", f"/sessions/{big}"):
        assert logged_in.get(url).status_code == 404, url
    assert (
        logged_in.delete(f"/api/runners/{big}", headers={"X-CSRF-Token": logged_in.csrf}).status_code == 404
    )
    assert logged_in.get(f"/api/sessions?runner_id={big}").status_code == 400
    assert logged_in.get(f"/compare?a={big}&b=1").status_code in (400, 404)


def test_json_nested_fifty_thousand_deep_is_400(logged_in, station):
    resp = _raw_post(logged_in, "/api/capture/start", b"[" * 50_000 + b"]" * 50_000)
    assert resp.status_code == 400 and "nested" in resp.json["error"]
    resp = _raw_post(logged_in, "/api/capture/start", b'{"runner": ' + b"[" * 500 + b"]" * 500 + b"}")
    assert resp.status_code == 400
    assert station.calls == [] and logged_in.get("/api/status").status_code == 200


def test_a_sixty_thousand_character_search_is_400(logged_in, store):
    store.create_runner("Ann", 168)
    resp = logged_in.get("/api/runners?q=" + "a" * 60_000)
    assert resp.status_code == 400 and "too long" in resp.json["error"]
    assert logged_in.get("/runners?q=" + "%" * 60_000).status_code == 200  # the page cuts it to 100
    assert logged_in.get("/api/runners?q=Ann").json["runners"][0]["name"] == "Ann"


def test_loose_json_types_are_refused(logged_in, station, store):
    rid = store.create_runner("Ann", 168)
    assert rid == 1
    for bad, field in (
        ({"runner_id": True}, "runner_id"),
        ({"runner_id": 1.7}, "runner_id"),
        ({"runner_id": "1"}, "runner_id"),
        ({"runner_id": 1, "view": 0}, "view"),
        ({"runner_id": 1, "view": ["side"]}, "view"),
        ({"runner_id": 1, "speed_kmh": "12"}, "speed_kmh"),
        ({"runner_id": 1, "incline_pct": False}, "incline_pct"),
    ):
        body = {"speed_kmh": 12, **bad}
        for url in ("/api/capture/start", "/api/capture/prepare"):
            resp = _post(logged_in, url, body)
            assert resp.status_code == 400 and field in resp.json["fields"], (bad, url, resp.json)
    assert station.calls == []
    assert (
        _post(logged_in, "/api/capture/start", {"runner_id": 1, "speed_kmh": 12, "view": "side"}).status_code
        == 201
    )
