"""Capture controller: whole sessions through the live loop, writer, spool, analysis and store."""

from __future__ import annotations

import logging
import re
import shutil
import time
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest

from device.capture.controller import CaptureController, CaptureRequest, Resume
from device.config import Config
from device.errors import InputError, UserError
from device.store import Store
from device.store.video import open_video
from tests.support.eventually import eventually
from tests.support.timing import scaled

from .capture_fakes import PoseFromTime, PoseNobody, ScriptedSource, fake_analyzer


def _cfg(tmp_path: Path, **capture) -> Config:
    cfg = Config()
    cfg.storage.data_dir = str(tmp_path)
    cfg.storage.min_free_mb = 0
    cfg.capture.duration_s = 3.0
    cfg.capture.countdown_s = 0
    cfg.capture.stall_timeout_s = 1.0
    cfg.camera.source = "scripted"
    for k, v in capture.items():
        setattr(cfg.capture, k, v)
    return cfg


@pytest.fixture
def rig(tmp_path: Path):
    made = {}

    def build(source: ScriptedSource | None = None, **capture):
        cfg = _cfg(tmp_path, **capture)
        store = Store(tmp_path / "station.db")
        src = source or ScriptedSource()
        calls: list = []
        states: list = []
        done: list = []
        ctl = CaptureController(
            cfg,
            store,
            lambda: src,
            PoseFromTime(),
            analyzer=fake_analyzer(calls),
            norms=None,
            summary_formatter=lambda s: f"cadence {s['analysis']['cadence_spm']:.0f}",
            on_state=states.append,
            on_session_done=lambda sid, ok: done.append((sid, ok)),
        )
        ctl.start()
        made.update(ctl=ctl, store=store)
        return ctl, store, src, calls, states, done

    yield build
    if made:
        made["ctl"].close()
        made["store"].close()


def test_timer_ends_capture_and_everything_is_stored(rig) -> None:
    ctl, store, src, calls, states, done = rig(warmup_s=0.5)
    rid = store.create_runner("Ada", 168)
    ctl.wait_for_state("idle", 5)
    sid = ctl.start_capture(CaptureRequest.from_dict(rid, {"speed_kmh": 11.5, "view": "side", "shoes": "X"}))
    assert ctl.state == "capturing"
    assert ctl.wait_for_state(("done", "failed"), scaled(20)) == "done"
    s = store.get_session(sid)
    assert s["status"] == "done" and s["analysis"]["cadence_spm"] == 174.0
    assert s["summary_text"] == "cadence 174"
    n = s["frames_inferred"]
    assert n == len(store.get_keypoints(sid)) == calls[0]["n"]  # no inferred frame lost
    assert 3.0 * 30 <= n <= 3.0 * 30 + 2  # the timer is on the source clock
    assert s["frames_dropped"] == 0 and s["effective_fps"] == pytest.approx(30, abs=0.5)
    assert calls[0]["warmup_s"] == 0.5 and calls[0]["runner"].height_cm == 168
    assert calls[0]["runner"].speed_kmh == 11.5 and calls[0]["view"] == "side"
    assert calls[0]["t0"] == 100.0  # a file-like source restarts at its start for the capture
    (ev,) = store.list_evidence(sid)
    assert ev["phase"] == "initial_contact" and ev["meta"]["angles"]["knee_flexion_ic_deg"] == 18.0
    assert store.get_evidence(ev["id"])["jpeg"][:2] == b"\xff\xd8"
    assert s["settings"]["capture"]["duration_s"] == 3.0
    assert states == ["capturing", "analysing", "done"]
    assert done == [(sid, True)]
    assert not list((Path(store.path).parent / "spool").glob("*.mjpeg"))  # spool removed


def test_stop_twice_and_start_while_capturing_are_ignored(rig, caplog) -> None:
    ctl, store, src, calls, *_ = rig(ScriptedSource(live=True), duration_s=60)
    caplog.set_level(logging.INFO)
    sid = ctl.start_capture()
    assert ctl.start_capture() is None  # ignored
    ctl.wait_for_state("capturing")
    # a stop before the first frame is a cancel: wait for frames (a 0.3 s sleep had none when loaded)
    assert eventually(lambda: (ctl.status()["frames_recorded"] or 0) >= 9, scaled(10))
    assert ctl.stop_capture() is True
    assert ctl.stop_capture() is False
    assert ctl.wait_for_state(("done", "failed"), scaled(20)) == "done"
    assert ctl.stop_capture() is False
    assert "start ignored" in caplog.text and "stop ignored" in caplog.text
    assert store.get_session(sid)["status"] == "done"
    assert len(calls) == 1


def test_camera_failure_mid_capture_then_next_session_works(rig) -> None:
    src = ScriptedSource(fail_at=40)
    ctl, store, src, calls, _, done = rig(source=src)
    sid = ctl.start_capture()
    assert ctl.wait_for_state(("done", "failed"), scaled(20)) == "failed"
    s = store.get_session(sid)
    # the capture failed (shown so), and what the camera recorded until then was analysed
    assert s["status"] == "done" and "camera unplugged" in " ".join(s["analysis"]["quality"]["warnings"])
    assert s["frames_inferred"] == len(store.get_keypoints(sid)) > 0  # kept what was recorded
    assert done == [(sid, False)]
    assert eventually(lambda: ctl.status()["camera_ok"], 5)  # reopened (a start before is refused)
    sid2 = ctl.start_capture()
    assert ctl.wait_for_state(("done", "failed"), scaled(20)) == "done"
    assert store.get_session(sid2)["status"] == "done"


def test_camera_stall_fails_the_capture(rig) -> None:
    src = ScriptedSource(stall_at=30)
    ctl, store, src, *_ = rig(source=src)
    sid = ctl.start_capture()
    assert ctl.wait_for_state(("done", "failed"), scaled(20)) == "failed"
    warnings = store.get_session(sid)["analysis"]["quality"]["warnings"]
    assert any("stopped delivering frames" in w for w in warnings)
    src.unstall.set()
    sid2 = ctl.start_capture()
    assert ctl.wait_for_state(("done", "failed"), scaled(20)) == "done"
    assert store.get_session(sid2)["status"] == "done"


def test_disk_nearly_full_refuses_start(rig, monkeypatch) -> None:
    ctl, store, *_ = rig()
    ctl.cfg.storage.min_free_mb = 500
    Usage = namedtuple("Usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10**10, 10**10 - 100 * 10**6, 100 * 10**6))
    with pytest.raises(UserError, match="disk nearly full: 100 MB free, need 500 MB"):
        ctl.start_capture()
    assert ctl.state == "idle" and store.list_sessions() == []


def test_cancel_discards_the_session(rig) -> None:
    ctl, store, *_ = rig(ScriptedSource(live=True), duration_s=60)
    ctl.arm(CaptureRequest(speed_kmh=10))
    assert ctl.state == "ready"
    sid = ctl.start_capture()
    assert store.get_session(sid)["speed_kmh"] == 10  # the armed details were used
    assert ctl.cancel_capture() is True
    assert ctl.wait_for_state("idle", 10) == "idle"
    assert store.list_sessions() == []


def test_end_of_video_ends_capture(rig) -> None:
    src = ScriptedSource(n_frames=45)
    ctl, store, src, calls, *_ = rig(source=src, duration_s=60)
    sid = ctl.start_capture()
    assert ctl.wait_for_state(("done", "failed"), scaled(20)) == "done"
    assert store.get_session(sid)["frames_inferred"] == 45


def test_dropped_frames_and_countdown(rig) -> None:
    src = ScriptedSource(drop_every=3)
    ctl, store, src, calls, states, _ = rig(source=src, countdown_s=1)
    sid = ctl.start_capture()
    assert "countdown" in states
    assert ctl.wait_for_state(("done", "failed"), scaled(20)) == "done"
    s = store.get_session(sid)
    assert calls[0]["t0"] >= 101.0  # the countdown second is not recorded
    assert s["frames_dropped"] > 0 and s["frames_captured"] == s["frames_inferred"] + s["frames_dropped"]


def test_camera_clock_going_backwards_ends_the_capture_keeping_what_was_recorded(rig) -> None:
    # from frame 45 on the camera stamps its frames 1000 s in the past, and stays there
    src = ScriptedSource(retime=lambda i, t: t - 1000 if i >= 45 else t)
    ctl, store, src, calls, _, done = rig(source=src, duration_s=60)
    sid = ctl.start_capture()
    assert ctl.wait_for_state(("done", "failed"), scaled(20)) == "failed"  # not capturing forever
    assert ctl.last_result is not None
    assert ctl.last_result["message"] == (
        "camera clock went backwards at 1.5 s: a frame timed 1000 s before the last good frame and "
        f"the 9 after it; recording stopped there; what was recorded is analysed in session {sid}"
    )
    assert store.get_session(sid)["status"] == "done"  # the 1.5 s before the fault, analysed
    kept = store.get_keypoints(sid)
    assert len(kept) > 0 and bool(np.isfinite(kept.t).all()) and kept.t.max() < 101.5
    src.retime = None
    sid2 = ctl.start_capture()
    assert ctl.wait_for_state(("done", "failed"), scaled(20)) == "done"
    assert store.get_session(sid2)["status"] == "done"


def test_a_camera_clock_running_slow_ends_the_capture_in_real_time_keeping_what_was_recorded(
    rig, monkeypatch
) -> None:
    """Stamped in the wrong unit (1000 times slow), every frame is a little later than the last
    and believed, but 1 s of it would take 17 minutes: the capture is ended by real time (it ran
    until the disk was full), what was recorded analysed."""
    from device.capture import camera_clock

    monkeypatch.setattr(camera_clock, "SLOW_MARGIN_S", 0.5)  # 2 × 1 s + 0.5 s of real time
    src = ScriptedSource(live=True, retime=lambda i, t: 100.0 + (t - 100.0) / 1000.0)
    ctl, store, src, calls, _, done = rig(source=src, duration_s=1.0)
    ctl.wait_for_state("idle", 5)
    started = time.monotonic()
    sid = ctl.start_capture()
    # the capture is over once the controller let go of it; storing what was recorded follows
    # (slow under a loaded disk, and not what the real-time limit bounds)
    assert eventually(lambda: ctl.current_session_id is None, scaled(10))
    assert 2.5 <= time.monotonic() - started < scaled(5)
    assert ctl.wait_for_state(("done", "failed"), scaled(10)) == "failed"
    assert ctl.last_result is not None
    message = ctl.last_result["message"]
    # the camera's time: its frames of 2.5 s of real time, 1000 times slow (fewer frames on a
    # slow machine: 0.0013 s under qemu)
    assert re.fullmatch(
        r"camera clock runs slow: 0\.00\d+ s of a 1 s capture in \d+ s of real time; recording "
        f"stopped there; what was recorded is analysed in session {sid}",
        message,
    ), message
    assert store.get_session(sid)["status"] == "done" and calls[0]["n"] > 0 and done == [(sid, False)]


def test_camera_clock_leaping_ahead_for_good_ends_the_capture_with_the_reason(rig) -> None:
    src = ScriptedSource(retime=lambda i, t: t + 1e6 if i >= 45 else t)
    ctl, store, src, calls, _, done = rig(source=src, duration_s=60)
    sid = ctl.start_capture()
    assert ctl.wait_for_state(("done", "failed"), scaled(20)) == "failed"
    assert ctl.last_result is not None
    assert ctl.last_result["message"].startswith(
        "camera clock jumped ahead at 1.5 s: a frame timed 1e+06 s after the last good frame and the 9"
    )  # not "60 s captured"
    assert np.isfinite(store.get_keypoints(sid).t).all()


@pytest.mark.parametrize("glitch", [-0.5, 0.8, 1e6, float("inf"), float("nan")])
def test_one_mistimed_frame_is_left_out_and_told_the_capture_runs_its_time(rig, glitch: float) -> None:
    src = ScriptedSource(retime=lambda i, t: t + glitch if i == 40 else t)
    ctl, store, src, calls, *_ = rig(source=src)
    sid = ctl.start_capture()
    assert ctl.wait_for_state(("done", "failed"), scaled(20)) == "done"
    s = store.get_session(sid)
    assert calls[0]["t0"] == 100.0 and calls[0]["t1"] == pytest.approx(103.0)  # all 3 s
    assert s["frames_dropped"] == 1 and s["effective_fps"] == pytest.approx(30, abs=0.5)
    assert np.isfinite(store.get_keypoints(sid).t).all()
    (note,) = s["analysis"]["quality"]["warnings"]
    assert note.startswith("1 frame(s) left out for an impossible camera time (the first at 1.3 s: timed ")


def test_the_rear_cameras_left_out_frames_are_named_in_the_session(tmp_path: Path) -> None:
    """As the side camera's: a rear frame with an impossible time is left out and the session's
    warnings say how many and why (not only a rear clock that broke)."""
    from device.capture.rear import RearCamera

    cfg = _cfg(tmp_path, duration_s=2.0)
    store = Store(tmp_path / "station.db")
    side = ScriptedSource(live=True)
    # every 20th rear frame stamped half a second back: a glitch, never ten in a row
    rear_src = ScriptedSource(live=True, retime=lambda i, t: t - 0.5 if i % 20 == 0 else t)
    rear = RearCamera(store, lambda: rear_src, PoseFromTime())
    ctl = CaptureController(
        cfg, store, lambda: side, PoseFromTime(), analyzer=fake_analyzer([]), norms=None, rear=rear
    )
    ctl.start()
    try:
        ctl.wait_for_state("idle", 5)
        sid = ctl.start_capture()
        assert ctl.wait_for_state(("done", "failed"), scaled(20)) == "done"
        s = store.get_session(sid)
        notes = [w for w in s["analysis"]["quality"]["warnings"] if w.startswith("rear camera: ")]
        assert len(notes) == 1, s["analysis"]["quality"]["warnings"]
        n = int(notes[0].removeprefix("rear camera: ").split()[0])
        assert 1 <= n <= 4  # 2 s at 30 fps, one in 20 (a rear thread starved by a loaded machine reads fewer)
        assert "frame(s) left out for an impossible camera time (the first at " in notes[0]
        assert "s before the last good frame" in notes[0]
        assert s["analysis"]["rear"]["error"] is None  # a glitch, not a failed rear camera
    finally:
        ctl.close()
        store.close()


def test_a_disk_full_before_the_recording_begins_ends_the_capture_with_one_line(rig, caplog) -> None:
    """The pose spool cannot be created (the disk filled during the countdown): the capture
    ends failed with one line, not 'capturing' for ever with a traceback per frame."""
    # the camera is held until the spool is made unwritable, so the 1 s countdown (on the frames'
    # clock) cannot end first on a loaded machine (nor is the held camera taken for a stalled one)
    ctl, store, src, calls, _, done = rig(
        ScriptedSource(live=True, stall_at=10), countdown_s=1, stall_timeout_s=30.0
    )
    ctl.wait_for_state("idle", 5)
    assert src.stalled.wait(scaled(5))
    sid = ctl.start_capture()
    ctl.pose_spool_path(sid, "main").symlink_to("/dev/full")  # every write there: ENOSPC
    src.unstall.set()
    assert ctl.wait_for_state(("done", "failed"), scaled(5)) == "failed"
    message = "disk full: the recording could not start; free space (delete old sessions) and start again"
    assert ctl.status()["message"] == message
    assert store.get_session(sid)["status"] == "failed" and store.get_session(sid)["error"] == message
    assert done == [(sid, False)] and calls == []
    assert not [r for r in caplog.records if r.exc_info]  # no traceback (it was one per frame)


def test_invalid_details_refused_without_a_session(rig) -> None:
    ctl, store, *_ = rig()
    with pytest.raises(InputError, match="speed"):
        ctl.start_capture(CaptureRequest(speed_kmh=99))
    with pytest.raises(InputError, match="unknown session field"):
        CaptureRequest.from_dict(None, {"sped": 3})
    assert store.list_sessions() == [] and ctl.state == "idle"


def test_status_preview_and_subscribers(rig) -> None:
    ctl, store, *_ = rig(ScriptedSource(live=True), duration_s=60)
    sub = ctl.subscribe(maxsize=2)
    ctl.start_capture()

    def recording_and_previewed() -> bool:
        st = ctl.status()
        return bool(st["elapsed_s"] and st["inference_fps"] and ctl.latest_preview() is not None)

    assert eventually(recording_and_previewed, scaled(10))  # (a 0.5 s sleep saw no frame when loaded)
    st = ctl.status()
    assert st["state"] == "capturing" and st["elapsed_s"] > 0 and st["remaining_s"] < 60
    assert st["inference_fps"] > 0 and st["frame_t"] >= 100
    seq, jpeg = ctl.latest_preview()
    assert jpeg[:2] == b"\xff\xd8"
    # a slow viewer gets the newest updates, never a backlog beyond its queue
    assert sub.pending() <= 2
    ctl.stop_capture()
    ctl.close()
    items = []
    while True:
        item = sub.get(timeout=1)
        items.append(item)
        if item is None:
            break
    assert items[-1] is None


def test_no_runner_in_view_is_one_hint_line_while_capturing(tmp_path: Path) -> None:
    """An empty treadmill during a capture: the live view and the live cadence both notice, and
    the dashboard's status names it once (the shared hint table's words), nothing else."""
    from device.gait.live import HINT_WORDS, Hint
    from tests.support.eventually import eventually

    cfg = _cfg(tmp_path, duration_s=60)
    store = Store(tmp_path / "s.db")
    src = ScriptedSource(live=True)
    ctl = CaptureController(cfg, store, lambda: src, PoseNobody(), analyzer=fake_analyzer([]), norms=None)
    ctl.start()
    try:
        ctl.wait_for_state("idle", 5)
        ctl.start_capture()
        # the live cadence speaks after 10 frames it was fed, the live view after 5
        assert eventually(lambda: ctl.status()["frames_recorded"] >= 20, timeout=20)
        assert eventually(lambda: ctl.status()["quality_hints"], timeout=5)
        for _ in range(4):  # a few hint updates (4 a second)
            hints = ctl.status()["quality_hints"]
            assert hints == [HINT_WORDS[Hint.NO_RUNNER]], hints
            time.sleep(0.25)
        assert ctl.status()["state"] == "capturing"
    finally:
        ctl.close()
        store.close()


def test_a_capture_with_nobody_in_view_ends_failed_saying_so_and_keeps_the_session(tmp_path: Path) -> None:
    """An empty treadmill filmed: the gait engine measures nothing. Not a success-looking "done":
    the station shows failed with one line that nobody was seen; the session keeps its analysis
    (the page and receipt say why nothing was measured) and its keypoints."""
    cfg = _cfg(tmp_path)
    store = Store(tmp_path / "station.db")
    src = ScriptedSource()
    done: list = []
    ctl = CaptureController(
        cfg,
        store,
        lambda: src,
        PoseNobody(),
        norms=None,
        summary_formatter=lambda s: "nothing measured",
        on_session_done=lambda sid, ok: done.append((sid, ok)),
    )  # the real gait engine
    ctl.start()
    try:
        ctl.wait_for_state("idle", 5)
        sid = ctl.start_capture()
        assert ctl.wait_for_state(("done", "failed"), scaled(20)) == "failed"
        status = ctl.status()
        assert status["message"] == (
            f"nobody was seen in session {sid}, so nothing was measured: "
            "check the runner is in the camera's view and start again"
        )
        assert status["last_result"] == {"session_id": sid, "ok": False, "message": status["message"]}
        assert done == [(sid, False)]
        s = store.get_session(sid)
        assert s["status"] == "done" and s["analysis"]["quality"]["issues"] == ["no_runner"]
        assert s["summary_text"] == "nothing measured" and s["frames_inferred"] == len(
            store.get_keypoints(sid)
        )
    finally:
        ctl.close()
        store.close()


def test_camera_down_refuses_start_with_the_reason(tmp_path: Path) -> None:
    from device.errors import SourceError

    class Broken(ScriptedSource):
        def open(self) -> None:
            raise SourceError("no camera on /dev/video0")

    cfg = _cfg(tmp_path)
    store = Store(tmp_path / "s.db")
    ctl = CaptureController(cfg, store, Broken, PoseFromTime(), analyzer=fake_analyzer([]), norms=None)
    ctl.start()
    try:
        import time

        deadline = time.monotonic() + 5
        while not ctl.status()["quality_hints"] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "no camera on /dev/video0" in ctl.status()["message"]
        assert ctl.status()["camera_ok"] is False
        with pytest.raises(UserError, match="camera not available: no camera on /dev/video0"):
            ctl.start_capture()
        assert store.list_sessions() == []
    finally:
        ctl.close()
        store.close()


def test_start_just_after_the_camera_was_unplugged_is_refused_with_its_error(rig) -> None:
    """The camera failed and is being looked for again (not yet found missing): a start then is
    refused with the camera's own line, no session made; once it is back, a start works."""
    import threading

    from device.errors import SourceError

    class Unplugged(ScriptedSource):
        def __init__(self) -> None:
            super().__init__(live=True)
            self.unplugged = threading.Event()
            self.probed = threading.Event()  # the reopen's look on the bus ends when the test says

        def open(self) -> None:
            if self.unplugged.is_set():
                self.probed.wait(5)
                raise SourceError("webcam 0 not found or busy")
            super().open()

        def read(self):
            if self.unplugged.is_set():
                raise SourceError("webcam:0: stopped delivering frames (unplugged?)")
            return super().read()

    ctl, store, src, *_ = rig(Unplugged(), duration_s=60)
    ctl.wait_for_state("idle", 5)
    assert eventually(lambda: ctl.status()["camera_ok"], 5)
    src.unplugged.set()
    assert eventually(lambda: not ctl.status()["camera_ok"], 5)
    with pytest.raises(UserError, match=r"^camera not available: webcam:0: stopped delivering frames"):
        ctl.start_capture()
    assert ctl.state == "idle" and store.list_sessions() == []
    src.unplugged.clear()
    src.probed.set()  # this look fails; the next one finds the camera plugged in again
    assert eventually(lambda: ctl.status()["camera_ok"], scaled(10))
    assert ctl.start_capture() is not None


def test_stop_during_countdown_records_nothing(rig) -> None:
    # The camera is held between two frames from before the start until after the status is
    # read: the countdown runs on the frames' clock, so no stall of this thread can run it down
    # (and the held camera is not taken for a stalled one meanwhile).
    src = ScriptedSource(live=True, stall_at=10)
    ctl, store, *_ = rig(src, countdown_s=5, stall_timeout_s=30.0)
    assert src.stalled.wait(scaled(5))
    ctl.start_capture()
    status = ctl.status()  # the controller is capturing; the countdown runs on the frames' clock
    assert status["state"] == "capturing" and 4.5 < status["countdown_s"] <= 5.0, status
    src.unstall.set()
    assert ctl.stop_capture() is True
    assert ctl.wait_for_state(("idle", "failed", "done"), scaled(10)) == "idle"
    assert store.list_sessions() == []


def test_status_stays_strict_json_after_a_frame_timed_inf(rig) -> None:
    """The live view sees every frame, a mistimed one too: its time must not reach the status
    the dashboard parses (json.dumps writes inf as ``Infinity``, which JSON.parse refuses)."""
    import json

    from tests.support.eventually import eventually

    src = ScriptedSource(n_frames=20, retime=lambda i, t: float("inf") if i == 19 else t)
    ctl, *_ = rig(source=src)
    assert eventually(
        lambda: src._i >= 20 and ctl.live.frame_t is not None and not np.isfinite(ctl.live.frame_t), 10
    )
    status = ctl.status()
    assert status["frame_t"] is None
    json.dumps(status, allow_nan=False)  # raises on inf / nan


def _spools_of_a_power_cut(ctl: CaptureController, sid: int, frames: int) -> None:
    """The spools a power cut leaves of ``frames`` frames of 1280×720 at 30 fps: every frame in
    the pose spool (model pictures 320×180), every third in the evidence spool and its sidecar
    (the last index line torn), no ``.idx``."""
    from device.capture.spool import spans_path
    from tests.support.spools import write_recording

    evidence = ctl.evidence_spool_path(sid)
    size = write_recording(ctl.pose_spool_path(sid, "main"), evidence, frames)
    with open(spans_path(evidence), "a", encoding="ascii") as fh:
        fh.write(f"{frames} {size} 40")


def test_resume_after_a_power_cut_keeps_the_video_and_full_size_evidence(rig) -> None:
    ctl, store, _src, calls, _states, done = rig()
    sid = store.create_session(None, 10.0, view="side")
    _spools_of_a_power_cut(ctl, sid, 90)
    ctl.wait_for_state("idle", 5)
    assert ctl.resume(sid) is Resume.STARTED
    assert ctl.wait_for_state(("done", "failed"), scaled(20)) == "done"
    s = store.get_session(sid)
    assert s["status"] == "done" and calls[0]["n"] == 90 and done == [(sid, True)]
    (ev,) = store.list_evidence(sid)
    assert ev["meta"]["scale"] == 0.625  # from the evidence spool (800 wide), not the model's 320
    assert s["video_path"] == str(ctl.cfg.data_dir / "videos" / f"session-{sid}.mjpeg")
    assert len(open_video(s)) == 30  # every spooled frame, the torn one left out
    assert not list(ctl.spool_dir.iterdir())
    store.delete_session(sid)
    assert not list((ctl.cfg.data_dir / "videos").iterdir())  # the video and its index


def test_resume_without_a_pose_spool_keeps_recorded_frames_and_drops_an_empty_spool(rig) -> None:
    from device.capture.spool import FrameSpool

    ctl, store, *_ = rig()
    sid = store.create_session(None)
    _spools_of_a_power_cut(ctl, sid, 3)
    ctl.pose_spool_path(sid, "main").unlink()
    assert ctl.resume(sid) is Resume.NOTHING_SPOOLED  # nothing to finish it with: it stays interrupted
    kept = sorted(p.name for p in ctl.spool_dir.iterdir())
    assert kept == [f"session-{sid}.mjpeg", f"session-{sid}.mjpeg.spans"]  # a frame of it: kept
    store.delete_session(sid)
    assert not list(ctl.spool_dir.iterdir())  # deleted with the session
    countdown = store.create_session(None)  # a crash in the countdown: an empty evidence spool
    FrameSpool(ctl.evidence_spool_path(countdown)).finish()
    assert ctl.resume(countdown) is Resume.NOTHING_SPOOLED
    assert not list(ctl.spool_dir.iterdir())


@pytest.mark.parametrize("header", [b"", b'GAITPOSE1\n{"width": 12'])
def test_resume_after_a_power_cut_that_tore_the_pose_spools_header_analyses_the_stored_keypoints(
    rig, caplog, header: bytes
) -> None:
    """The header never reached the card: no spooled frame can be found, so there is nothing
    to catch up; the live view's keypoints are analysed (the session used to be failed)."""
    from device.store import KeypointWriter

    ctl, store, _src, calls, _states, done = rig()
    sid = store.create_session(None, 10.0, view="side")
    live = KeypointWriter(store, sid)
    kp = np.zeros((17, 3), np.float32)
    kp[:, 2] = 0.9
    for i in range(0, 300, 3):  # every third frame: what the live view kept up with
        live.append(100 + i / 30, kp, i)
    live.close()
    ctl.spool_dir.mkdir(parents=True, exist_ok=True)
    spool = ctl.pose_spool_path(sid, "main")
    spool.write_bytes(header)
    ctl.wait_for_state("idle", 5)
    assert ctl.resume(sid) is Resume.STARTED
    assert ctl.wait_for_state(("done", "failed"), scaled(20)) == "done"
    s = store.get_session(sid)
    assert s["status"] == "done" and s["analysis"] is not None and calls[0]["n"] == 100
    assert done == [(sid, True)] and not spool.exists()
    (line,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert line.startswith(f"session {sid}: pose spool {spool.name} ") and "no frames to catch up" in line


def test_resume_refused_while_capturing_leaves_its_spools_for_later(rig) -> None:
    """A resume in the same instant as a start: the start wins, the resume touches nothing (its
    spools wait for the station to be free) and finishes the session once tried again."""
    ctl, store, *_ = rig(ScriptedSource(live=True), duration_s=60)
    sid = store.create_session(None, 10.0, view="side")
    _spools_of_a_power_cut(ctl, sid, 90)

    def its_spools() -> list[tuple[str, int]]:
        return sorted(
            (p.name, p.stat().st_size)
            for p in ctl.spool_dir.iterdir()
            if p.name.startswith((f"session-{sid}.", f"session-{sid}-"))
        )

    before = its_spools()
    ctl.wait_for_state("idle", 5)
    other = ctl.start_capture()
    assert ctl.resume(sid) is Resume.BUSY
    assert its_spools() == before and store.get_session(sid)["status"] == "capturing"
    ctl.cancel_capture()
    assert ctl.wait_for_state("idle", scaled(10)) == "idle" and other is not None
    assert ctl.resume(sid) is Resume.STARTED
    assert ctl.wait_for_state(("done", "failed"), scaled(20)) == "done"
    assert store.get_session(sid)["status"] == "done" and len(open_video(store.get_session(sid))) == 30


def test_a_shutdown_during_the_catch_up_keeps_the_session_for_the_next_start(tmp_path: Path) -> None:
    """systemctl stop while the catch-up runs: it stops between frames, nothing is marked failed
    or deleted, and the next start finishes the session from where it stopped."""
    cfg = _cfg(tmp_path)
    store = Store(tmp_path / "station.db")
    src = ScriptedSource()
    ctl = CaptureController(
        cfg, store, lambda: src, PoseFromTime(delay_s=0.05), analyzer=fake_analyzer([]), norms=None
    )
    ctl.start()
    sid = store.create_session(None, 10.0, view="side")
    _spools_of_a_power_cut(ctl, sid, 90)
    ctl.wait_for_state("idle", 5)
    assert ctl.resume(sid) is Resume.STARTED
    assert eventually(lambda: (ctl.status()["catchup"] or {}).get("done", 0) >= 5, scaled(10))
    ctl.close(timeout=0.2)
    inferred = store.count_keypoints(sid)
    assert store.get_session(sid)["status"] == "analysing" and 5 <= inferred < 90
    assert ctl.pose_spool_path(sid, "main").is_file() and ctl.evidence_spool_path(sid).is_file()
    store.close()

    store = Store(tmp_path / "station.db")
    calls: list = []
    ctl = CaptureController(
        cfg, store, lambda: src, PoseFromTime(), analyzer=fake_analyzer(calls), norms=None
    )
    ctl.start()
    try:
        assert store.recover_interrupted() == [sid]
        ctl.wait_for_state("idle", 5)
        assert ctl.resume(sid) is Resume.STARTED
        assert ctl.wait_for_state(("done", "failed"), scaled(20)) == "done"
        assert store.get_session(sid)["status"] == "done" and calls[0]["n"] == 90
        assert not list(ctl.spool_dir.iterdir())
    finally:
        ctl.close()
        store.close()


def test_a_first_frame_stamped_an_hour_ahead_is_left_out_like_any_other(rig) -> None:
    """The capture's first frame used to be believed for want of a last time: one stamped an
    hour ahead made every true frame after it "backwards", and the capture failed with 1 frame."""
    # The camera is held in its read of frame 10 while the capture starts, so that frame, and
    # not an idle one, is the capture's first (armed any earlier, the idle clock got it).
    src = ScriptedSource(live=True, stall_at=10, retime=lambda i, t: t + 3600.0 if i == 10 else t)
    ctl, store, src, calls, *_ = rig(source=src)
    assert src.stalled.wait(scaled(5))  # the camera runs before the start
    sid = ctl.start_capture()
    src.unstall.set()
    assert ctl.wait_for_state(("done", "failed"), scaled(20)) == "done"
    s = store.get_session(sid)
    assert calls[0]["t1"] - calls[0]["t0"] == pytest.approx(3.0, abs=0.1) and calls[0]["n"] >= 80
    (note,) = s["analysis"]["quality"]["warnings"]
    assert note.startswith(
        "1 frame(s) left out for an impossible camera time (the first at the start: timed 3600"
    )
