"""API flows against the real Station (camera loop, MoveNet, store, analysis) with short captures."""

from __future__ import annotations

import io
import json
import time

import pytest

from device.keypoints_csv import read_csv
from tests.support.live_rig import source_spec

pytestmark = pytest.mark.slow  # the real Station with MoveNet behind the API

TOKEN = "flow-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def real(tmp_path, model_path):
    from device.station import Station
    from tests.web.conftest import make_config
    from web.app import create_app

    cfg = make_config(tmp_path / "data")
    cfg.pose.model_path = str(model_path)
    cfg.pose.num_threads = 1
    cfg.capture.duration_s = 3.0  # below the config file's minimum on purpose: a fast test
    cfg.capture.countdown_s = 0
    cfg.web.api_token = TOKEN
    station = Station(cfg, source_spec=source_spec())
    station.start()
    app = create_app(station, cfg, testing=True)
    yield station, app.test_client()
    station.close()


def _wait_state(client, states, timeout=60.0):
    end = time.monotonic() + timeout
    st = None
    while time.monotonic() < end:
        st = client.get("/api/status", headers=AUTH).json
        if st["state"] in states:
            return st
        time.sleep(0.1)
    raise AssertionError(f"state {st and st['state']} never became {states}")


def test_capture_flow_and_exports(real):
    station, c = real
    assert c.post("/api/capture/stop", headers=AUTH).status_code == 409
    resp = c.post(
        "/api/capture/start",
        headers=AUTH,
        json={"runner": {"name": "Flo", "height_cm": 175}, "speed_kmh": 12.5, "shoes": "Ride 17"},
    )
    assert resp.status_code == 201, resp.json
    sid = resp.json["session_id"]
    # a second start while capturing is refused as a state conflict, and creates no runner
    again = c.post(
        "/api/capture/start",
        headers=AUTH,
        json={"runner": {"name": "Other", "height_cm": 170}, "speed_kmh": 10},
    )
    assert again.status_code == 409, again.json
    assert [r["name"] for r in c.get("/api/runners", headers=AUTH).json["runners"]] == ["Flo"]

    sub = station.subscribe()
    try:
        frame_ts = set()
        end = time.monotonic() + 30
        while time.monotonic() < end and len(frame_ts) < 3:
            item = sub.get(timeout=5)
            if item and item.get("state") == "capturing" and item.get("frame_t") is not None:
                frame_ts.add(item["frame_t"])
        assert len(frame_ts) >= 3, "status updates with frame times are pushed while capturing"
    finally:
        sub.close()

    st = _wait_state(c, ("done", "failed"))
    assert st["state"] == "done", st
    detail = c.get(f"/api/sessions/{sid}", headers=AUTH).json
    assert detail["status"] == "done" and detail["runner"]["name"] == "Flo"
    assert "metrics" in detail["analysis"] and "cadence_spm" in detail["analysis"]["metrics"]

    exported = json.loads(c.get(f"/api/sessions/{sid}/analysis.json", headers=AUTH).data)
    assert exported == detail["analysis"]
    tl = read_csv(
        io.StringIO(c.get(f"/api/sessions/{sid}/keypoints.csv", headers=AUTH).get_data(as_text=True))
    )
    assert len(tl) >= 30  # 3 s of frames

    pdf = c.get(f"/api/sessions/{sid}/report.pdf", headers=AUTH)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    # no printer on this machine: a clear error, never a crash, and the session is untouched
    printed = c.post(f"/api/sessions/{sid}/print", headers=AUTH, json={"what": "summary"})
    assert printed.status_code in (200, 502, 503), printed.json
    if printed.status_code != 200:
        assert printed.json["error"]
    assert c.get(f"/api/sessions/{sid}", headers=AUTH).json["status"] == "done"


def test_stop_early_then_delete_runner(real):
    station, c = real
    station.cfg.capture.duration_s = 60.0
    sid = c.post(
        "/api/capture/start",
        headers=AUTH,
        json={"runner": {"name": "Sam", "height_cm": 181}, "speed_kmh": 11},
    ).json["session_id"]
    end = time.monotonic() + 30
    while (
        time.monotonic() < end and not (c.get("/api/status", headers=AUTH).json.get("elapsed_s") or 0) > 1.0
    ):
        time.sleep(0.1)
    rid = c.get(f"/api/sessions/{sid}", headers=AUTH).json["runner_id"]
    # deleting a runner who is on the treadmill right now is refused
    assert c.delete(f"/api/runners/{rid}", headers=AUTH).status_code == 409
    resp = c.post("/api/capture/stop", headers=AUTH)
    assert resp.status_code == 200 and resp.json["session_id"] == sid
    _wait_state(c, ("done", "failed"))
    assert c.delete(f"/api/runners/{rid}", headers=AUTH).status_code == 200
    assert c.get(f"/api/sessions/{sid}", headers=AUTH).status_code == 404


def test_live_message_follows_the_state_on_the_real_station(tmp_path, model_path):
    """Countdown → recording → analysing → done, as the tablet's SSE stream words it (1 s countdown)."""
    from device.station import Station
    from tests.web.conftest import make_config
    from web.blueprints.live import status_payload

    cfg = make_config(tmp_path / "data")
    cfg.pose.model_path = str(model_path)
    cfg.pose.num_threads = 1
    cfg.capture.duration_s = 2.0
    cfg.capture.countdown_s = 1
    station = Station(cfg, source_spec=source_spec())
    station.start()
    seen: list[tuple[str, str, bool]] = []
    try:
        sub = station.subscribe()
        sid = station.start_capture(runner={"name": "Cy", "height_cm": 170}, session={"speed_kmh": 11})
        end = time.monotonic() + 60
        while time.monotonic() < end:
            item = sub.get(timeout=5)
            if item is None:
                break
            p = status_payload(item, station)
            seen.append((p["state"], p["message"], bool(p.get("frames_recorded"))))
            if p["state"] in ("done", "failed"):
                break
        sub.close()
    finally:
        station.close()
    by_state: dict[str, set[str]] = {}
    for state, msg, _ in seen:
        by_state.setdefault(state, set()).add(msg)
    assert seen[-1][0] == "done", seen[-5:]
    assert "Starting in 1 s…" in by_state["capturing"], by_state
    recording = {msg for state, msg, rec in seen if state == "capturing" and rec}
    assert recording == {f"Recording session {sid}"}, recording  # never "starting in" once recording
    assert not any("starting" in m.lower() for s, m, rec in seen if rec)
    assert by_state.get("analysing", {f"Analysing session {sid}…"}) == {f"Analysing session {sid}…"}
    assert all(m.startswith(f"Session {sid} done") for m in by_state["done"]), by_state["done"]
