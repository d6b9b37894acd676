"""The web app's view of the station (:class:`device.station_api.StationAPI`), checked the same way
on the tests' FakeStation and on the real Station (scripted camera, synthetic runner pose), so the
fast web tests cannot pass against a fake that behaves differently from the station."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from pathlib import Path

import pytest

from device.config import Config
from device.errors import UserError
from device.station_api import StationAPI
from device.store import NotFoundError, Store
from tests.support.eventually import eventually
from tests.web.fakes import FakeStation
from tests.web.sample_data import make_analysis

SESSION = {"speed_kmh": 11.0, "incline_pct": 1.0, "shoes": "Ride 17", "notes": "new shoes", "view": "side"}
STATUS_KEYS = {
    "state",
    "session_id",
    "elapsed_s",
    "remaining_s",
    "cadence_spm",
    "strides",
    "quality_hints",
    "message",
    "inference_fps",
    "frame_t",
    "armed",
}


def _config(tmp_path: Path) -> Config:
    cfg = Config()
    cfg.storage.data_dir = str(tmp_path / "data")
    cfg.storage.min_free_mb = 0
    cfg.gpio.enabled = False
    cfg.capture.countdown_s = 0
    cfg.capture.duration_s = 120.0  # runs until stopped in these tests
    return cfg


@pytest.fixture(params=["fake", "real"])
def station(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StationAPI]:
    cfg = _config(tmp_path)
    if request.param == "fake":
        cfg.data_dir.mkdir(parents=True)
        store = Store(cfg.data_dir / "station.db")
        yield FakeStation(store, cfg)
        store.close()
        return
    from device.station import Station
    from device.synthetic.runner import RunnerParams, SyntheticRunner
    from tests.device.capture.capture_fakes import PoseFromRunner, ScriptedSource

    src = ScriptedSource(size=(320, 180), live=True, fps=60)
    runner = SyntheticRunner(RunnerParams(width=320, height=180, duration_s=30))
    real = Station(cfg, "scripted", estimator=PoseFromRunner(src, runner), source_factory=lambda: src)
    real.start()
    assert real.wait_for_state("idle", 10) == "idle"
    yield real
    real.close()


def _state(station: StationAPI, state: str) -> bool:
    return eventually(lambda: station.status()["state"] == state, timeout=10)


def test_status_has_what_the_dashboard_reads(station: StationAPI) -> None:
    st = station.status()
    assert set(st) >= STATUS_KEYS, STATUS_KEYS - set(st)
    assert st["state"] == "idle" and st["session_id"] is None and st["armed"] is False
    assert isinstance(st["quality_hints"], list) and isinstance(st["inference_fps"], float)
    st["state"] = "changed by a caller"
    assert station.status()["state"] == "idle"  # a fresh dict per call
    t1 = station.clock()
    assert isinstance(t1, float) and station.clock() >= t1


def test_prepare_then_unprepare(station: StationAPI) -> None:
    rid = station.store.create_runner("Ada", 168)
    prepared = station.prepare(runner_id=rid, session=SESSION)
    assert prepared == {"runner_id": rid, **SESSION}
    assert _state(station, "ready")
    assert station.status()["armed"] is True and station.prepared_runner_id() == rid
    station.unprepare()
    assert _state(station, "idle")
    assert station.status()["armed"] is False and station.prepared_runner_id() is None


def test_start_then_stop_answer_the_session_id(station: StationAPI) -> None:
    rid = station.store.create_runner("Ada", 168)
    sid = station.start_capture(runner_id=rid, session=SESSION)
    assert type(sid) is int
    session = station.store.get_session(sid)
    assert session["runner_id"] == rid and session["speed_kmh"] == 11.0 and session["view"] == "side"
    assert _state(station, "capturing") and station.status()["session_id"] == sid
    assert station.start_capture(runner_id=rid, session=SESSION) is None  # busy: ignored
    stopped = station.stop_capture()
    assert type(stopped) is int and stopped == sid  # the id, not a bool
    assert station.stop_capture() is None  # a second press: nothing to stop


def test_prepared_run_starts_without_arguments(station: StationAPI) -> None:
    rid = station.store.create_runner("Ada", 168)
    station.prepare(runner_id=rid, session=SESSION)
    sid = station.start_capture()
    assert type(sid) is int and station.store.get_session(sid)["runner_id"] == rid
    assert station.prepared_runner_id() is None
    assert station.cancel_capture() == sid


def test_cancel_answers_the_id_and_deletes_the_session(station: StationAPI) -> None:
    assert station.cancel_capture() is None  # nothing captured
    sid = station.start_capture(runner={"name": "Bo", "height_cm": 180}, session=SESSION)
    assert type(sid) is int
    assert _state(station, "capturing")
    assert station.cancel_capture() == sid
    assert _state(station, "idle")  # the session is deleted by then (the real one does it in the background)
    with pytest.raises(NotFoundError):
        station.store.get_session(sid)


def test_subscription_delivers_updates_until_closed(station: StationAPI) -> None:
    sub = station.subscribe()
    try:
        rid = station.store.create_runner("Ada", 168)
        station.prepare(runner_id=rid, session=SESSION)
        seen: list[str] = []
        while "ready" not in seen:
            item = sub.get(timeout=10)
            assert isinstance(item, dict)
            seen.append(item["state"])
        with pytest.raises(queue.Empty):
            while True:  # drain; an empty queue raises queue.Empty like queue.Queue
                sub.get_nowait()
    finally:
        sub.close()
        sub.close()  # idempotent


def test_no_preview_before_the_camera_and_no_rear_camera(station: StationAPI) -> None:
    preview = station.latest_preview()
    assert preview is None or (type(preview[0]) is int and preview[1][:2] == b"\xff\xd8")
    assert station.has_rear_camera() is False
    assert station.latest_rear_preview() is None


def test_printing_and_report_refuse_a_session_without_analysis(station: StationAPI) -> None:
    sid = station.store.create_session(None, 12.0, 0.0, "", "", "side", "t", {})
    for call in (station.print_summary, station.print_report, station.report_pdf):
        with pytest.raises(UserError, match=f"session {sid} has no analysis"):
            call(sid)
    with pytest.raises(NotFoundError):
        station.report_pdf(9999)


@pytest.mark.slow
def test_report_pdf_is_pdf_bytes(station: StationAPI) -> None:
    rid = station.store.create_runner("Ann", 168)
    sid = station.store.create_session(rid, 12.0, 0.0, "", "", "side", "t", {})
    station.store.save_analysis(sid, make_analysis())
    pdf = station.report_pdf(sid)
    assert type(pdf) is bytes and pdf.startswith(b"%PDF-")
