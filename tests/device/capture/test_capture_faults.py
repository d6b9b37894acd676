"""Faults during a capture, through the real Station (GPIO on gpiozero's MockFactory): the camera
failing or stalling mid-run, its clock going backwards, the disk filling up while keypoints are
written. Each must end the session as failed with a reason on the dashboard and the LED, keep
what was stored, and leave the station able to run the next session."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from device.config import Config
from device.errors import DiskFullError, SourceError, UserError
from device.station import Station
from device.store import Store
from device.synthetic.runner import RunnerParams, SyntheticRunner
from tests.support.eventually import eventually

from .capture_fakes import PoseFromRunner, ScriptedSource

pytestmark = pytest.mark.slow  # capture faults that play out over seconds of camera time


class FaultySource(ScriptedSource):
    """A live camera that fails (``fail``) or hangs (``stall``) when the test says so."""

    def __init__(self) -> None:
        super().__init__(size=(640, 360), live=True)
        self.fail = threading.Event()
        self.stall = threading.Event()

    def read(self):
        if self.fail.is_set():
            self.fail.clear()  # fails once; the reopened camera works
            raise SourceError("camera unplugged")
        if self.stall.is_set():
            self.stall.clear()
            self.unstall.wait(30)  # the driver hangs in read()
        return super().read()


class Notifier:
    def notify(self, msg: str) -> None:
        pass


@pytest.fixture
def make_station(tmp_path: Path):
    made: list[Station] = []

    def build(src: ScriptedSource, store_cls: type[Store] | None = None, **capture) -> Station:
        cfg = Config()
        cfg.storage.data_dir = str(tmp_path / "data")
        cfg.storage.min_free_mb = 0
        cfg.capture.duration_s = 60.0
        cfg.capture.countdown_s = 0
        cfg.capture.stall_timeout_s = 1.0
        cfg.printing.receipt_printer = ""
        for k, v in capture.items():
            setattr(cfg.capture, k, v)
        runner = SyntheticRunner(RunnerParams(cadence_spm=172, width=640, height=360, duration_s=30))
        st = Station(
            cfg,
            "scripted",
            MockFactory(),
            estimator=PoseFromRunner(src, runner),
            source_factory=lambda: src,
            notifier=Notifier(),
        )
        if store_cls is not None:
            st.store.close()
            st.store = store_cls(cfg.data_dir / "station.db")
        st.start()
        made.append(st)
        return st

    yield build
    for st in made:
        st.close()


def _recording(st: Station, frames: int = 20) -> bool:
    return eventually(lambda: (st.status().get("frames_recorded") or 0) >= frames, 10)


def _assert_error_shown(st: Station, needle: str) -> None:
    status = st.status()
    assert status["state"] == "failed"
    assert needle in status["message"], status["message"]
    assert st.controls.state == "failed" and status["controls"]["led_pattern"] == "failed"
    # the LED pin really plays the SOS pattern (short and long flashes), not a steady light
    pin = st.pin_factory.pin(st.cfg.gpio.led_pin)
    pin.clear_states()

    def flashes() -> list[float]:
        states = list(pin.states)
        return [states[i + 1].timestamp for i in range(len(states) - 1) if states[i].state]

    # one SOS cycle is 4.5 s: wait until both a dot (0.15 s) and a dash (0.45 s) were seen
    assert eventually(lambda: any(d < 0.3 for d in flashes()) and any(d > 0.3 for d in flashes()), 6), (
        flashes()
    )


def _next_session_works(st: Station) -> None:
    # the live loop reopened the camera: frames flow again and the camera error is gone
    assert eventually(lambda: st.status()["camera_ok"], 5), st.status()
    t = st.status()["frame_t"]
    assert eventually(lambda: st.status()["frame_t"] != t, 5)
    sid = st.start_capture(runner={"name": "Next", "height_cm": 175})
    assert st.controls.state == "capturing"
    assert _recording(st, 30)
    assert st.stop_capture() == sid
    assert st.wait_for_state(("done", "failed"), 30) == "done"
    assert st.store.get_session(sid)["status"] == "done" and st.controls.state == "done"


def _analysed_up_to_the_failure(st: Station, sid: int, why: str) -> None:
    """The capture failed, visibly, and what the camera recorded until then was analysed (it
    used to be thrown away: spools deleted, no analysis)."""
    s = st.store.get_session(sid)
    assert s["status"] == "done" and s["analysis"] is not None, s["error"]
    assert 0 < len(st.store.get_keypoints(sid)) == s["frames_inferred"]
    warnings = s["analysis"]["quality"]["warnings"]
    assert any(
        w.startswith(f"the capture ended early ({why}") and "recorded, analysed" in w for w in warnings
    )
    assert st.status()["last_result"]["ok"] is False
    assert f"what was recorded is analysed in session {sid}" in st.status()["last_result"]["message"]


def test_camera_error_mid_capture_fails_the_session_visibly_then_recovers(make_station) -> None:
    src = FaultySource()
    st = make_station(src)
    sid = st.start_capture(runner={"name": "Ann", "height_cm": 170})
    assert _recording(st)
    src.fail.set()
    assert st.wait_for_state("failed", 10) == "failed"
    _analysed_up_to_the_failure(st, sid, "camera failed: camera unplugged")
    _assert_error_shown(st, "camera unplugged")
    _next_session_works(st)


def test_camera_stall_mid_capture_fails_after_stall_timeout(make_station) -> None:
    src = FaultySource()
    st = make_station(src)
    sid = st.start_capture(runner={"name": "Ben", "height_cm": 180})
    assert _recording(st)
    t_stall = time.monotonic()
    src.stall.set()
    assert st.wait_for_state("failed", 10) == "failed"
    waited = time.monotonic() - t_stall
    assert 0.9 <= waited <= 5.0, waited  # stall_timeout_s = 1 s (+ the 0.25 s monitor tick)
    _analysed_up_to_the_failure(st, sid, "camera stopped delivering frames for 1 s")
    _assert_error_shown(st, "stopped delivering frames")
    src.unstall.set()  # the driver comes back
    _next_session_works(st)


def test_camera_clock_going_backwards_mid_capture_ends_it_visibly_keeping_what_was_recorded(
    make_station,
) -> None:
    src = FaultySource()
    st = make_station(src)
    sid = st.start_capture(runner={"name": "Eve", "height_cm": 172})
    assert _recording(st)
    src.retime = lambda i, t: t - 1000  # the camera's clock steps back, and stays there
    assert st.wait_for_state(("failed", "done"), 5) == "failed"  # not "capturing" for ever
    message = st.status()["message"]
    assert message.startswith("camera clock went backwards at "), message
    assert "a frame timed 1000 s before the last good frame and the 9 after it" in message
    tl = st.store.get_keypoints(sid)
    assert len(tl) > 0 and (tl.t[1:] > tl.t[:-1]).all() and tl.t.max() < 1000  # kept, none mistimed
    _analysed_up_to_the_failure(st, sid, "camera clock went backwards")
    _next_session_works(st)  # a new capture is timed by the camera's clock as it is now


class FillingStore(Store):
    """A Store on a disk that fills up when ``full`` is set: SQLite's own page limit makes every
    later keypoint batch fail with the genuine "database or disk is full" (SQLITE_FULL)."""

    full = threading.Event()

    def append_keypoints(self, *args, **kwargs) -> None:
        if self.full.is_set():
            conn = self._conn()
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count = {pages}")
        super().append_keypoints(*args, **kwargs)


def test_disk_filling_during_capture_ends_it_cleanly_keeping_the_keypoints(make_station) -> None:
    FillingStore.full.clear()
    src = FaultySource()
    st = make_station(src, FillingStore)
    sid = st.start_capture(runner={"name": "Cat", "height_cm": 165})
    assert eventually(lambda: st.store.count_keypoints(sid) > 0, 5)  # the first ~1 s batch is stored
    FillingStore.full.set()
    assert st.wait_for_state(("failed", "done"), 10) == "failed"
    s = st.store.get_session(sid)
    assert s["status"] == "failed" and "disk full while recording" in s["error"], s["error"]
    kept = st.store.count_keypoints(sid)
    assert kept > 0 and f"the {kept} frames of keypoints stored before are kept" in s["error"]
    tl = st.store.get_keypoints(sid)
    assert (tl.t[1:] > tl.t[:-1]).all()  # nothing torn
    _assert_error_shown(st, "disk full while recording")
    assert st.store.integrity_check() == "ok"
    FillingStore.full.clear()  # space freed (connections that saw the limit are per-thread and gone)
    _next_session_works(st)


class BrieflyFullStore(Store):
    """A disk full for one keypoint batch only (a log rotated, a temp file deleted): the batch
    the writer holds back is written when the capture ends."""

    full_once = threading.Event()

    def append_keypoints(self, *args, **kwargs) -> None:
        if self.full_once.is_set():
            self.full_once.clear()
            raise sqlite3.OperationalError("database or disk is full")
        super().append_keypoints(*args, **kwargs)


def test_disk_full_message_counts_the_frames_really_kept(make_station) -> None:
    BrieflyFullStore.full_once.clear()
    st = make_station(FaultySource(), BrieflyFullStore)
    sid = st.start_capture(runner={"name": "Cy", "height_cm": 171})
    assert eventually(lambda: st.store.count_keypoints(sid) > 0, 5)
    BrieflyFullStore.full_once.set()
    assert st.wait_for_state(("failed", "done"), 10) == "failed"
    s = st.store.get_session(sid)
    kept = st.store.count_keypoints(sid)
    # the held-back batch went in as the capture closed: the message counts it
    assert f"disk full while recording: the {kept} frames of keypoints stored before are kept" in s["error"]
    assert s["frames_inferred"] == kept
    _next_session_works(st)


def test_disk_nearly_full_refuses_start_with_disk_full_error(make_station, monkeypatch) -> None:
    import shutil
    from collections import namedtuple

    st = make_station(FaultySource())
    st.cfg.storage.min_free_mb = 500
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**10, 10**10 - 80 * 10**6, 80 * 10**6))
    with pytest.raises(DiskFullError, match="disk nearly full: 80 MB free, need 500 MB") as err:
        st.start_capture(runner={"name": "Dee", "height_cm": 170})
    assert isinstance(err.value, UserError)
    assert st.store.list_sessions() == []
    assert st.store.list_runners() == []  # refused before anything was created
    assert st.status()["state"] == "idle"


def test_start_ignored_while_capturing_leaves_no_new_runner(make_station) -> None:
    st = make_station(FaultySource())
    sid = st.start_capture(runner={"name": "First", "height_cm": 170})
    assert st.start_capture(runner={"name": "Second", "height_cm": 180}) is None  # ignored, logged
    assert [r["name"] for r in st.store.list_runners()] == ["First"]
    assert st.cancel_capture() == sid


def test_after_a_failure_the_station_returns_to_idle_keeping_the_reason(make_station) -> None:
    src = FaultySource()
    st = make_station(src, result_hold_s=1.5)
    sid = st.start_capture(runner={"name": "Bo", "height_cm": 180})
    assert _recording(st)
    src.fail.set()
    assert st.wait_for_state("failed", 10) == "failed"
    assert st.controls.state == "failed"  # the LED shows the error first ...
    assert st.wait_for_state("idle", 5) == "idle"  # ... then the station is idle again
    status = st.status()
    assert status["last_result"] == {
        "session_id": sid,
        "ok": False,
        "message": status["last_result"]["message"],
    }
    assert "camera unplugged" in status["last_result"]["message"]
    assert f"last session {sid} failed" in status["message"] and "camera unplugged" in status["message"]
    assert eventually(lambda: st.controls.state == "idle", 2)
    _next_session_works(st)
