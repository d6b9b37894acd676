"""Station faults: a power cut (kill -9) while a session is being analysed, and old sessions
pruned by the retention setting when the station starts."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from device.config import Config
from device.station import Station
from device.store import Store
from device.synthetic.runner import RunnerParams, SyntheticRunner
from tests.support.eventually import eventually

from .capture.capture_fakes import PoseFromRunner, ScriptedSource

REPO = Path(__file__).resolve().parents[2]

# A station whose analysis hangs (a long gait analysis on a slow Pi): the parent kills it there.
CHILD = r"""
import sys, threading
sys.path.insert(0, sys.argv[2])
from device.config import Config
from device.station import Station
from device.synthetic.runner import RunnerParams, SyntheticRunner
from tests.device.capture.capture_fakes import PoseFromRunner, ScriptedSource
cfg = Config()
cfg.storage.data_dir = sys.argv[1]
cfg.storage.min_free_mb = 0
cfg.capture.duration_s = 3
cfg.capture.countdown_s = 0
cfg.gpio.enabled = False
cfg.printing.receipt_printer = ""
def analyzer(timeline, *args):
    print("ANALYSING", len(timeline), flush=True)
    threading.Event().wait()
src = ScriptedSource(size=(320, 180))
runner = SyntheticRunner(RunnerParams(width=320, height=180, duration_s=10))
st = Station(cfg, "scripted", estimator=PoseFromRunner(src, runner), source_factory=lambda: src, analyzer=analyzer)
st.start()
sid = st.start_capture(runner={"name": "Eve", "height_cm": 170}, session={"speed_kmh": 11})
print("SESSION", sid, flush=True)
threading.Event().wait()
"""


class Notifier:
    def notify(self, msg: str) -> None:
        pass


def _cfg(data: Path) -> Config:
    cfg = Config()
    cfg.storage.data_dir = str(data)
    cfg.storage.min_free_mb = 0
    cfg.capture.duration_s = 3.0
    cfg.capture.countdown_s = 0
    cfg.gpio.enabled = False
    cfg.printing.receipt_printer = ""
    return cfg


def _station(cfg: Config) -> Station:
    src = ScriptedSource(size=(320, 180))
    runner = SyntheticRunner(RunnerParams(width=320, height=180, duration_s=30))
    return Station(
        cfg,
        "scripted",
        estimator=PoseFromRunner(src, runner),
        source_factory=lambda: src,
        notifier=Notifier(),
    )


@pytest.mark.slow
def test_power_cut_mid_analysis_keeps_every_keypoint_and_restart_finishes_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    p = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data), str(REPO)], stdout=subprocess.PIPE, text=True, env=env
    )
    sid = analysed = None
    try:
        deadline = time.monotonic() + 60
        while analysed is None and time.monotonic() < deadline:
            line = p.stdout.readline()
            if not line:
                break
            word, n = line.split()
            if word == "SESSION":
                sid = int(n)
            else:
                analysed = int(n)
    finally:
        os.kill(p.pid, signal.SIGKILL)  # the power goes while the analysis runs
        p.wait()
    assert sid is not None and analysed is not None and analysed >= 85, "the child never reached the analysis"

    store = Store(data / "station.db")
    assert store.integrity_check() == "ok"
    s = store.get_session(sid)
    assert s["status"] == "analysing" and s["frames_inferred"] == analysed
    store.close()

    st = _station(_cfg(data))
    st.start()
    try:
        assert st.recovered_sessions == [sid]
        # the restart analyses it again from the stored keypoints (the spool was still there)
        assert eventually(lambda: st.store.get_session(sid)["status"] in ("done", "failed"), 60)
        s = st.store.get_session(sid)
        assert s["status"] == "done" and s["frames_inferred"] == analysed, s["error"]
        assert s["runner"]["name"] == "Eve" and s["speed_kmh"] == 11 and s["ended_at"]
        tl = st.store.get_keypoints(sid)
        assert len(tl) == analysed  # every keypoint the analysis was given is on disk
        assert (np.diff(tl.t) > 0).all() and np.isfinite(tl.xy).any()
        assert st.store.integrity_check() == "ok"
        st.wait_for_state(("done", "failed", "idle"), 10)
        assert eventually(lambda: not list((data / "spool").glob("session-*")), 10)
        sid2 = st.start_capture()  # and the station works on
        assert st.wait_for_state(("done", "failed"), 60) == "done"
        assert st.store.get_session(sid2)["status"] == "done"
    finally:
        st.close()


def test_retention_prunes_old_sessions_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = Store(data / "station.db")
    rid = store.create_runner("Old", 170)
    old, recent = store.create_session(rid), store.create_session(rid)
    for sid in (old, recent):
        store.append_keypoints(sid, np.arange(3.0), np.ones((3, 17, 3)), np.arange(3))
        store.set_status(sid, "failed", error="x")
    store.close()
    with contextlib.closing(sqlite3.connect(data / "station.db")) as conn:  # recorded years ago
        conn.execute("UPDATE sessions SET started_at = '2020-01-01T00:00:00.000+00:00' WHERE id = ?", (old,))
        conn.commit()
    cfg = _cfg(data)
    cfg.storage.retention_days = 30
    st = _station(cfg)
    st.start()
    try:
        assert [s["id"] for s in st.store.list_sessions()] == [recent]
        assert st.store.count_keypoints(old) == 0 and st.store.count_keypoints(recent) == 3
        assert st.store.get_runner(rid)["session_count"] == 1  # the runner stays
    finally:
        st.close()


# A station whose catch-up is slow (a Pi working through the frames the live view skipped).
CATCHUP_CHILD = r"""
import sys, time
sys.path.insert(0, sys.argv[2])
from device.config import Config
from device.station import Station
from device.synthetic.runner import RunnerParams, SyntheticRunner
from tests.device.capture.capture_fakes import PoseFromRunner, ScriptedSource
cfg = Config()
cfg.storage.data_dir = sys.argv[1]
cfg.storage.min_free_mb = 0
cfg.capture.duration_s = 3
cfg.capture.countdown_s = 0
cfg.gpio.enabled = False
cfg.printing.receipt_printer = ""
src = ScriptedSource(size=(320, 180), fps=60)
runner = SyntheticRunner(RunnerParams(width=320, height=180, duration_s=10))
st = Station(cfg, "scripted", estimator=PoseFromRunner(src, runner, delay_s=0.05), source_factory=lambda: src)
st.start()
sid = st.start_capture(runner={"name": "Cat", "height_cm": 170}, session={"speed_kmh": 11})
while True:
    cu = st.status()["catchup"]
    print(sid, st.status()["state"], cu["done"] if cu else -1, cu["total"] if cu else -1, flush=True)
    time.sleep(0.1)
"""


@pytest.mark.slow
def test_power_cut_mid_catch_up_then_restart_finishes_every_frame(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    p = subprocess.Popen(
        [sys.executable, "-c", CATCHUP_CHILD, str(data), str(REPO)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    sid = done = total = None
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = p.stdout.readline()
            if not line:
                break
            f = line.split()
            sid, state, done, total = int(f[0]), f[1], int(f[2]), int(f[3])
            if state == "analysing" and 10 <= done < total:
                break
    finally:
        os.kill(p.pid, signal.SIGKILL)  # the power goes in the middle of the catch-up
        p.wait()
    assert sid is not None and done is not None and 10 <= done < total, "the child never reached the catch-up"

    store = Store(data / "station.db")
    assert store.get_session(sid)["status"] == "analysing"
    stored = store.count_keypoints(sid)
    store.close()
    assert (data / "spool" / f"session-{sid}-main.pose").is_file()  # the spool is still there
    st = _station(_cfg(data))
    st.start()
    try:
        assert st.recovered_sessions == [sid]
        assert eventually(lambda: st.store.get_session(sid)["status"] in ("done", "failed"), 60)
        s = st.store.get_session(sid)
        assert s["status"] == "done", s["error"]
        tl = st.store.get_keypoints(sid)
        # every frame of the 3 s at 60 fps, once each: what the catch-up had stored is kept, the
        # rest inferred after the restart
        assert len(tl) == s["frames_inferred"] == s["frames_captured"] >= 180 and len(tl) >= stored
        assert (np.diff(tl.frame) == 1).all() and s["frames_dropped"] == 0
        assert s["effective_fps"] == pytest.approx(60, abs=0.5)
    finally:
        st.close()
