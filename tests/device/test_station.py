"""The station end to end: GPIO buttons on gpiozero's MockFactory, a synthetic runner, the real
gait engine, the store, printing and the systemd notifications."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from gpiozero.pins.mock import MockFactory

from device.config import Config
from device.errors import InputError, UserError
from device.report.render import render_report_html
from device.report.review import DEMO_NOTE
from device.station import Station
from device.store import Store
from device.store.video import open_video
from device.synthetic.runner import RunnerParams, SyntheticRunner
from tests.support.eventually import eventually
from tests.support.timing import scaled

from .capture.capture_fakes import PoseFromRunner, PoseFromTime, ScriptedSource, fake_analyzer

pytestmark = pytest.mark.slow  # the real Station: live loop, MoveNet or synthetic poses, seconds of capture

REPO = Path(__file__).resolve().parents[2]


class Notifier:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def notify(self, msg: str) -> None:
        self.sent.append(msg)


def _cfg(tmp_path: Path, **capture) -> Config:
    cfg = Config()
    cfg.storage.data_dir = str(tmp_path / "data")
    cfg.storage.min_free_mb = 0
    cfg.capture.duration_s = 5.0
    cfg.capture.countdown_s = 0
    cfg.capture.stall_timeout_s = 1.0
    cfg.printing.receipt_printer = "dummy"
    cfg.gpio.print_pin = 5
    for k, v in capture.items():
        setattr(cfg.capture, k, v)
    return cfg


@pytest.fixture
def station_rig(tmp_path: Path):
    made: list[Station] = []

    def build(
        source: ScriptedSource | None = None,
        cfg: Config | None = None,
        notifier: Notifier | None = None,
        **capture,
    ) -> Station:
        cfg = cfg or _cfg(tmp_path, **capture)
        src = source or ScriptedSource(size=(640, 360))
        runner = SyntheticRunner(
            RunnerParams(cadence_spm=172, width=640, height=360, duration_s=30, height_cm=180, speed_kmh=11)
        )
        st = Station(
            cfg,
            "scripted",
            MockFactory(),
            estimator=PoseFromRunner(src, runner),
            source_factory=lambda: src,
            notifier=notifier or Notifier(),
        )
        st.start()
        made.append(st)
        return st

    yield build
    for st in made:
        st.close()


def _press(factory: MockFactory, pin: int, hold: float = 0.1) -> None:
    p = factory.pin(pin)
    p.drive_low()
    time.sleep(hold)
    p.drive_high()
    time.sleep(0.1)


def test_button_start_timer_stop_analysis_stored_and_receipt_printed(station_rig) -> None:
    systemd = Notifier()
    st = station_rig(notifier=systemd)
    rid = st.store.create_runner("Ada", 180)
    st.prepare(runner_id=rid, session={"speed_kmh": 11, "view": "side"})
    assert st.status()["state"] == "ready" and st.controls.state == "ready"
    _press(st.pin_factory, st.cfg.gpio.start_pin)
    assert st.wait_for_state(("done", "failed"), 30) == "done"
    sid = st.controller.last_session_id
    s = st.store.get_session(sid)
    assert s["status"] == "done" and s["runner_id"] == rid and s["speed_kmh"] == 11
    assert s["analysis"]["cadence_spm"] == pytest.approx(172, abs=3)  # the real gait engine
    assert s["frames_inferred"] == len(st.store.get_keypoints(sid)) >= 150
    assert s["summary_text"] and "Ada" in s["summary_text"]
    assert st.store.list_evidence(sid), "evidence frames saved at the analysis' key events"
    assert eventually(lambda: st.store.get_session(sid)["printed_summary_at"])  # auto-printed (dummy printer)
    assert st.controls.state == "done"
    assert "READY=1" in systemd.sent
    first = st.store.get_session(sid)["printed_summary_at"]
    time.sleep(0.01)
    _press(st.pin_factory, st.cfg.gpio.print_pin)  # the print button reprints the last session
    # the button renders the full report for CUPS first (none here), then reprints the summary: ~8 s loaded
    assert eventually(lambda: st.store.get_session(sid)["printed_summary_at"] != first, 30)


def test_stop_pressed_twice_via_gpio(station_rig) -> None:
    st = station_rig(ScriptedSource(size=(640, 360), live=True), duration_s=60)
    sid = st.start_capture(runner={"name": "Bo", "height_cm": 170}, session={"speed_kmh": 10})
    # 1.5 s of frames to analyse (a 1.5 s sleep recorded fewer on a loaded machine)
    assert eventually(lambda: (st.status()["frames_recorded"] or 0) >= 45, scaled(30))
    assert st.status()["state"] == "capturing" and st.status()["session_id"] == sid
    _press(st.pin_factory, st.cfg.gpio.stop_pin)
    _press(st.pin_factory, st.cfg.gpio.stop_pin)
    assert st.wait_for_state(("done", "failed"), 30) == "done"
    assert st.store.get_session(sid)["status"] == "done"
    assert st.stop_capture() is None  # nothing to stop: ignored
    sid2 = st.start_capture()
    assert sid2 is not None  # the next session works
    assert st.cancel_capture() == sid2 and st.cancel_capture() is None


def test_printer_failure_keeps_summary_for_reprint(station_rig, tmp_path) -> None:
    cfg = _cfg(tmp_path, duration_s=4.0)
    cfg.printing.receipt_printer = "network:127.0.0.1:9"  # nothing listens: connection refused
    st = station_rig(cfg=cfg)
    sid = st.start_capture(runner={"name": "Cy", "height_cm": 175})
    assert st.wait_for_state(("done", "failed"), 30) == "done"
    s = st.store.get_session(sid)
    assert eventually(lambda: st.status()["printer_error"])
    assert "not printed" in st.status()["printer_error"]
    assert s["status"] == "done" and s["summary_text"] and s["printed_summary_at"] is None
    with pytest.raises(UserError):
        st.print_summary(sid)
    st.cfg.printing.receipt_printer = "dummy"  # printer fixed: reprint works
    st.store.update_runner(s["runner_id"], name="Cy Ng")  # renamed meanwhile: the reprint says so
    st.print_summary(sid)
    s = st.store.get_session(sid)
    assert s["printed_summary_at"] and "Runner: Cy Ng" in s["summary_text"]
    assert st.status()["printer_error"] is None


def test_bad_input_refused_without_side_effects(station_rig) -> None:
    st = station_rig()
    with pytest.raises(InputError, match="height"):
        st.start_capture(runner={"name": "Di", "height_cm": 300})
    with pytest.raises(InputError, match="speed"):
        st.start_capture(runner={"name": "Di", "height_cm": 170}, session={"speed_kmh": 45})
    assert st.store.list_runners() == [] and st.store.list_sessions() == []
    assert st.status()["state"] == "idle"


def test_disk_full_refused(station_rig, tmp_path) -> None:
    cfg = _cfg(tmp_path)
    cfg.storage.min_free_mb = 10_000_000  # more than any test machine has free
    st = station_rig(cfg=cfg)
    with pytest.raises(UserError, match="disk nearly full"):
        st.start_capture()
    _press(st.pin_factory, st.cfg.gpio.start_pin)  # the button: refused, logged, shown; no crash
    assert st.controls is not None and st.controls.wait_idle(scaled(5))  # the button's handler has run
    assert "disk nearly full" in st.status()["message"]
    assert st.store.list_sessions() == []


def test_a_start_refused_at_the_button_shows_failed_on_the_led_then_idle_again(station_rig, tmp_path) -> None:
    """The refusal changes no state, so nothing used to take the SOS off the LED: it flashed
    "failed" for good after the fault was gone. Now for result_hold_s, like a failed session."""
    cfg = _cfg(tmp_path, result_hold_s=3.0)  # long enough for a loaded machine to look in time
    cfg.storage.min_free_mb = 10_000_000  # more than any test machine has free
    st = station_rig(cfg=cfg)
    assert st.controls is not None and eventually(lambda: st.controls.state == "idle", 5)
    _press(st.pin_factory, st.cfg.gpio.start_pin)
    assert st.controls.wait_idle(5)  # the button's handler has run
    assert st.controls.state == "failed" and st.status()["controls"]["led_pattern"] == "failed"
    assert st.status()["state"] == "idle" and "disk nearly full" in st.status()["message"]
    assert eventually(lambda: st.status()["controls"]["led_pattern"] == "idle", 8)
    assert st.controls.state == "idle"


def test_watchdog_pings_only_while_the_loop_turns(station_rig, monkeypatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    src = ScriptedSource(size=(640, 360), live=True, stall_at=25)  # the driver hangs after ~0.8 s
    systemd = Notifier()
    st = station_rig(src, notifier=systemd)
    assert eventually(lambda: systemd.sent.count("WATCHDOG=1") >= 2, 5) and st.healthy()
    assert eventually(lambda: not st.healthy(), 6)
    # the watchdog thread has seen the stall itself (a ping it decided on before is sent by now)
    assert eventually(lambda: "STATUS=live loop stalled" in systemd.sent, 5)
    n = systemd.sent.count("WATCHDOG=1")
    time.sleep(0.5)
    assert systemd.sent.count("WATCHDOG=1") == n  # systemd will restart the service
    assert "STATUS=live loop stalled" in systemd.sent
    src.unstall.set()
    assert eventually(st.healthy, 3)


CHILD = r"""
import sys, time
sys.path.insert(0, sys.argv[2])
from device.config import Config
from device.station import Station
from device.synthetic.runner import RunnerParams, SyntheticRunner
from tests.device.capture.capture_fakes import PoseFromRunner, ScriptedSource
cfg = Config()
cfg.storage.data_dir = sys.argv[1]
cfg.storage.min_free_mb = 0
cfg.capture.duration_s = 600
cfg.capture.countdown_s = 0
cfg.gpio.enabled = False
src = ScriptedSource(size=(320, 180), live=True, fps=60)
runner = SyntheticRunner(RunnerParams(width=320, height=180, duration_s=30))
# a slow live estimator (~12 fps): most frames exist only in the pose spool when the power goes
st = Station(cfg, "scripted", estimator=PoseFromRunner(src, runner, delay_s=0.08), source_factory=lambda: src)
st.start()
sid = st.start_capture(runner={"name": "Ed", "height_cm": 170})
while True:
    print(sid, st.store.count_keypoints(sid), st.status()["frames_recorded"] or 0, flush=True)
    time.sleep(0.2)
"""


def test_power_cut_mid_capture_then_restart_finishes_from_the_spool(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    p = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data), str(REPO)], stdout=subprocess.PIPE, text=True, env=env
    )
    sid, committed, spooled = None, 0, 0
    deadline = time.monotonic() + 60
    while spooled < 180 and time.monotonic() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        sid, committed, spooled = (int(x) for x in line.split())
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert sid is not None and committed > 0 and spooled >= 180, "the child never recorded"
    assert committed < spooled  # the live view had inferred only some of the frames

    store = Store(data / "station.db")
    assert store.integrity_check() == "ok"
    assert store.get_session(sid)["status"] == "capturing"
    # an earlier session whose finishing was itself cut short: not tried again, its recording kept
    tried = store.create_session(None)
    store.close()
    tried_files = [f"session-{tried}{name}" for name in (".mjpeg", ".mjpeg.spans", "-main.pose", ".resuming")]
    for name in tried_files:
        (data / "spool" / name).touch()
    assert (data / "spool" / f"session-{sid}-main.pose").is_file()  # the spools survived
    assert (data / "spool" / f"session-{sid}.mjpeg.spans").is_file()
    cfg = _cfg(tmp_path)
    cfg.storage.data_dir = str(data)
    cfg.gpio.enabled = False
    src = ScriptedSource(size=(320, 180), fps=60)
    st = Station(
        cfg,
        "scripted",
        estimator=PoseFromRunner(src, SyntheticRunner(RunnerParams(width=320, height=180, duration_s=30))),
        source_factory=lambda: src,
        notifier=Notifier(),
    )
    st.start()
    try:
        assert st.recovered_sessions == [sid, tried]
        # the restart finishes it: the frames only in the spool are inferred, then analysed
        assert eventually(lambda: st.store.get_session(sid)["status"] in ("done", "failed"), 60)
        s = st.store.get_session(sid)
        assert s["status"] == "done", s["error"]
        tl = st.store.get_keypoints(sid)
        assert len(tl) == s["frames_inferred"] >= spooled  # every frame spooled before the cut
        assert s["frames_dropped"] == 0 and s["effective_fps"] == pytest.approx(60, abs=1)
        assert s["analysis"]["cadence_spm"] is not None
        assert len(open_video(s)) > spooled // 3  # the run's video kept (spooled at 30 of 60 fps)
        assert eventually(  # its spools removed once stored; the one not finished keeps its own
            lambda: sorted(p.name for p in (data / "spool").glob("session-*")) == sorted(tried_files), 10
        )
        assert st.store.get_session(tried)["status"] == "interrupted"
        st.store.delete_session(tried)  # deleted, it takes its recording with it
        assert not list((data / "spool").glob("session-*"))
        sid2 = st.start_capture()
        assert st.wait_for_state(("done", "failed"), 30) in ("done", "failed")
        assert st.store.get_session(sid2)["status"] in ("done", "failed")
    finally:
        st.close()


def test_synthetic_camera_through_movenet_matches_truth(tmp_path: Path, model_path: Path) -> None:
    """The real chain: rendered synthetic runner frames → MoveNet → live loop → gait engine."""
    from device.camera.synthetic import SyntheticSource
    from device.pose import MoveNetEstimator

    cfg = _cfg(tmp_path, duration_s=6.0)
    cfg.gpio.enabled = False
    params = RunnerParams(cadence_spm=176, speed_kmh=12, height_cm=178, width=640, height=360)
    src = SyntheticSource(params, realtime=False)
    st = Station(
        cfg,
        "synthetic",
        estimator=MoveNetEstimator(model_path, 2, quiet=True),
        source_factory=lambda: src,
        notifier=Notifier(),
    )
    st.start()
    try:
        sid = st.start_capture(runner={"name": "Synth", "height_cm": 178}, session={"speed_kmh": 12})
        assert st.wait_for_state(("done", "failed"), 60) == "done"
        s = st.store.get_session(sid)
        assert s["frames_inferred"] == len(st.store.get_keypoints(sid)) >= 175
        assert s["analysis"]["cadence_spm"] == pytest.approx(176, abs=4)
        assert st.store.list_evidence(sid)
        pdf = st.report_pdf(sid)
        assert pdf[:5] == b"%PDF-"
        # a drawn runner is never passed off as a person: the dashboard, the session, its receipt
        # and its report say it is the demo camera
        assert st.status()["synthetic_runner"] and s["source"] == "synthetic"
        assert "Demo capture: the synthetic runner" in " ".join(s["summary_text"].split())
        assert DEMO_NOTE in render_report_html(s, cfg)
    finally:
        st.close()


def test_auto_camera_decided_once_at_start(station_rig) -> None:
    """``auto`` is decided when the station starts: asked again after a camera failure it could
    name another source, and a customer's run would continue on it."""
    from device.camera import resolve_spec

    st = station_rig()
    assert not st.status()["synthetic_runner"]  # a scripted camera, not the demo runner
    sid = st.start_capture(runner={"name": "A", "height_cm": 180}, session={"speed_kmh": 11})
    assert st.wait_for_state(("done", "failed"), 60) == "done"
    s = st.store.get_session(sid)
    assert s["source"] == "scripted" and "Demo capture" not in s["summary_text"]
    assert DEMO_NOTE not in render_report_html(s, st.cfg)
    other = Station(_cfg(st.data_dir.parent / "other"), "auto", notifier=Notifier())
    try:
        assert other.source_spec == resolve_spec("auto") != "auto"
    finally:
        other.close()


def test_live_cadence_shown_while_capturing(station_rig) -> None:
    st = station_rig(ScriptedSource(size=(640, 360), live=True), duration_s=60)
    st.start_capture(runner={"name": "Flo", "height_cm": 180})
    assert eventually(lambda: st.status()["cadence_spm"] is not None, 8)
    status = st.status()
    assert status["cadence_spm"] == pytest.approx(172, abs=6) and status["strides"] >= 2
    assert status["remaining_s"] < 60 and status["inference_fps"] > 10
    st.cancel_capture()


def test_rear_camera_adds_frontal_metrics(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path, duration_s=5.0)
    cfg.gpio.enabled = False
    side_src = ScriptedSource(size=(640, 360), live=True)
    rear_src = ScriptedSource(size=(640, 360), live=True)
    common = dict(cadence_spm=170, width=640, height=360, duration_s=30, height_cm=175, pelvic_drop_deg=7.0)
    side = SyntheticRunner(RunnerParams(**common))
    rear = SyntheticRunner(RunnerParams(view="rear", **common))
    st = Station(
        cfg,
        "scripted",
        estimator=PoseFromRunner(side_src, side),
        source_factory=lambda: side_src,
        rear_estimator=PoseFromRunner(rear_src, rear),
        rear_source_factory=lambda: rear_src,
        notifier=Notifier(),
    )
    st.start()
    try:
        assert eventually(lambda: st.status().get("rear_camera_ok"), 5)
        assert st.latest_rear_preview() is not None or eventually(
            lambda: st.latest_rear_preview() is not None
        )
        sid = st.start_capture(runner={"name": "Gus", "height_cm": 175}, session={"view": "side"})
        assert st.wait_for_state(("done", "failed"), 30) == "done"
        a = st.store.get_session(sid)["analysis"]
        assert len(st.store.get_keypoints(sid, camera="rear")) == a["rear"]["frames"] >= 100
        assert "pelvic_drop_deg" in a["rear"]["metrics_from_rear"]
        assert a["metrics"]["pelvic_drop_deg"]["source"] == "rear"
        assert a["metrics"]["pelvic_drop_deg"]["value"] == pytest.approx(7.0, abs=1.5)
        assert a["view"]["kind"] == "side" and a["cadence_spm"] == pytest.approx(170, abs=4)
    finally:
        st.close()


def test_capture_and_its_reanalysis_timed_and_sided_the_same_way(station_rig, tmp_path: Path) -> None:
    """A capture's keypoints are the pose model's: their events are timed without the learned
    correction (fitted on motion-capture keypoints), however clean they look, and a clinician's
    re-analysis runs exactly as the capture did, the camera's configured place included."""
    cfg = _cfg(tmp_path)
    cfg.camera.side_of_treadmill = "right"  # the synthetic runner faces right: its right side is near
    st = station_rig(cfg=cfg)
    sid = st.start_capture(
        runner={"name": "Ada", "height_cm": 180}, session={"speed_kmh": 11, "view": "side"}
    )
    assert st.wait_for_state(("done", "failed"), 30) == "done"
    first = st.store.get_session(sid)["analysis"]
    timing = first["quality"]["event_timing"]
    assert timing["method"].startswith("physics estimate only (the pose model's keypoints")
    assert max(timing["ankle_scatter_pct_leg"]) < 0.8  # clean enough for the correction: not the reason
    assert first["quality"]["near_side"] == "right" and "config" in first["quality"]["side_method"]
    st.reanalyse(sid, {"height_cm": 175}, "Dr Kay")
    again = st.store.get_session(sid)["analysis"]
    assert again["quality"]["side_method"] == first["quality"]["side_method"]
    assert again["quality"]["event_timing"]["method"] == timing["method"]
    assert again["metrics"]["contact_time_ms"]["left"] == pytest.approx(
        first["metrics"]["contact_time_ms"]["left"]
    )


def test_a_video_no_session_names_is_deleted_at_start(station_rig, tmp_path: Path) -> None:
    """A crash between keeping a run's video and storing its path left a customer's run on the
    disk that no page shows and no delete reaches: the start deletes it, and nothing else."""
    cfg = _cfg(tmp_path)
    videos = cfg.data_dir / "videos"
    videos.mkdir(parents=True)
    store = Store(cfg.data_dir / "station.db")
    sid = store.create_session(store.create_runner("Ann", 170), 11.0, 0.0, "", "", "side", "scripted", {})
    kept = videos / f"session-{sid}.mjpeg"
    store.set_status(sid, "done", video_path=str(kept))
    store.close()
    for name in (
        kept.name,
        f"{kept.name}.idx",
        "session-99.mjpeg",
        "session-99.mjpeg.idx",
        "session-98.mjpeg.idx.tmp",
    ):
        (videos / name).write_bytes(b"\xff\xd8 jpeg \xff\xd9")
    station_rig(cfg=cfg)
    assert sorted(p.name for p in videos.iterdir()) == [kept.name, f"{kept.name}.idx"]


def _recording_left_by_a_crash(data: Path, frames: int = 90, status: str = "capturing") -> int:
    """A session a crash left ``status`` with its spools: every frame in the pose spool (320×180
    model pictures of 1280×720 frames at 30 fps), every third in the evidence spool."""
    from tests.support.spools import write_recording

    store = Store(data / "station.db")
    sid = store.create_session(None, 10.0, view="side")
    store.set_status(sid, status)
    spool = data / "spool"
    store.close()
    write_recording(spool / f"session-{sid}-main.pose", spool / f"session-{sid}.mjpeg", frames)
    return sid


def _fake_station(cfg: Config, calls: list) -> Station:
    src = ScriptedSource(size=(320, 240))
    return Station(
        cfg,
        "scripted",
        estimator=PoseFromTime(),
        source_factory=lambda: src,
        analyzer=fake_analyzer(calls),
        norms=None,
        notifier=Notifier(),
    )


def test_a_resume_refused_by_a_start_in_the_same_instant_finishes_once_the_station_is_free(
    tmp_path: Path, monkeypatch
) -> None:
    """The restart's resume meets a capture started in the same instant: refused, it loses
    nothing and finishes the interrupted session after that capture."""
    from device.capture.controller import CaptureController

    cfg = _cfg(tmp_path, duration_s=1.0)
    cfg.gpio.enabled = False
    sid = _recording_left_by_a_crash(cfg.data_dir)
    resume = CaptureController.resume
    started: list[int | None] = []

    def start_first(ctl: CaptureController, session_id: int):
        if not started:
            started.append(ctl.start_capture())  # a tablet's start wins the race
        return resume(ctl, session_id)

    monkeypatch.setattr(CaptureController, "resume", start_first)
    calls: list = []
    st = _fake_station(cfg, calls)
    st.start()
    try:
        assert eventually(lambda: st.store.get_session(sid)["status"] in ("done", "failed"), 30)
        s = st.store.get_session(sid)
        assert s["status"] == "done" and s["frames_inferred"] == 90
        assert len(open_video(s)) == 30  # the run's recorded frames, none lost
        other = started[0]
        assert other is not None and st.store.get_session(other)["status"] == "done"
        assert eventually(
            lambda: not list((cfg.data_dir / "spool").iterdir()), 10
        )  # spools removed once stored
    finally:
        st.close()


def test_a_session_left_interrupted_keeps_its_recording_and_is_finished_at_the_next_start(
    tmp_path: Path,
) -> None:
    """A session an earlier start did not finish (refused, or the station stopped first) is no
    longer 'just interrupted' at the next start: its spools are kept all the same and it is
    finished then."""
    cfg = _cfg(tmp_path)
    cfg.gpio.enabled = False
    sid = _recording_left_by_a_crash(cfg.data_dir, status="interrupted")
    calls: list = []
    st = _fake_station(cfg, calls)
    st.start()
    try:
        assert st.recovered_sessions == []  # not interrupted by this start's crash
        assert eventually(lambda: st.store.get_session(sid)["status"] in ("done", "failed"), 30)
        s = st.store.get_session(sid)
        assert s["status"] == "done" and calls[0]["n"] == 90 and len(open_video(s)) == 30
    finally:
        st.close()


def test_an_interrupted_sessions_video_is_given_back_not_deleted(tmp_path: Path) -> None:
    """A crash between keeping a run's video and storing its path leaves the session interrupted
    and the video unnamed: the start names it the session's video again (a crash between the
    two renames leaves its index as .idx.tmp); a video of no session is still deleted."""
    from device.capture.spool import FrameSpool

    cfg = _cfg(tmp_path)
    cfg.gpio.enabled = False
    videos = cfg.data_dir / "videos"
    store = Store(cfg.data_dir / "station.db")
    kept, torn = (store.create_session(None) for _ in range(2))
    for sid in (kept, torn):
        store.set_status(sid, "analysing")  # the crash came while it was being finished
        spool = FrameSpool(cfg.data_dir / "spool" / f"session-{sid}.mjpeg")
        for i in range(3):
            spool.put(i, np.full((360, 640, 3), 90, np.uint8))
            assert eventually(lambda i=i, spool=spool: len(spool) == i + 1, 5)
        spool.keep_as_video(videos / f"session-{sid}.mjpeg")
    store.close()
    (videos / f"session-{torn}.mjpeg.idx").rename(videos / f"session-{torn}.mjpeg.idx.tmp")
    (videos / "session-99.mjpeg").write_bytes(b"\xff\xd8 jpeg \xff\xd9")
    st = _fake_station(cfg, [])
    st.start()
    try:
        for sid in (kept, torn):
            s = st.store.get_session(sid)
            assert s["status"] == "interrupted" and len(open_video(s)) == 3
        assert not (videos / "session-99.mjpeg").exists()
        st.store.delete_session(kept)
        assert not (videos / f"session-{kept}.mjpeg").exists()
    finally:
        st.close()
