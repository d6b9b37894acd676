"""Background keypoint writer: batches, nothing lost, and a kill -9 mid-capture loses at most ~1 s."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from device.store import KeypointWriter, Store
from tests.support.eventually import eventually

REPO = Path(__file__).resolve().parents[3]


def test_writer_batches_and_loses_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    sid = store.create_session(None)
    w = KeypointWriter(store, sid, interval_s=0.05)
    kp = np.ones((17, 3), np.float32)
    for i in range(500):
        w.append(i / 30, kp * i, i)
        if i % 100 == 0:
            # a pause the writer's interval fits in: wait for its batch (a 0.08 s sleep was
            # one slow commit on a loaded disk, and the rest came in one batch)
            assert eventually(lambda i=i: w.written == i + 1, 10)
    assert w.close() == 500
    tl = store.get_keypoints(sid)
    assert len(tl) == 500 and w.batches >= 3  # written in several batches, not row by row
    np.testing.assert_array_equal(tl.frame, np.arange(500))
    assert float(tl.xy[499, 0, 0]) == 499.0
    store.close()


CHILD = r"""
import sys, time
import numpy as np
from device.store import KeypointWriter, Store
store = Store(sys.argv[1])
sid = store.create_session(None, speed_kmh=10)
w = KeypointWriter(store, sid, interval_s=0.1)
i = 0
last = 0
while True:
    w.append(i / 30.0, np.full((17, 3), i, np.float32), i)
    i += 1
    if w.written != last:
        last = w.written
        print(sid, last, flush=True)
    time.sleep(1 / 300)
"""


def test_kill_9_mid_capture_then_recover(tmp_path: Path) -> None:
    db = tmp_path / "station.db"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    p = subprocess.Popen([sys.executable, "-c", CHILD, str(db)], stdout=subprocess.PIPE, text=True, env=env)
    committed = 0
    sid = None
    deadline = time.monotonic() + 30
    while committed < 150 and time.monotonic() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        sid, committed = (int(x) for x in line.split())
    os.kill(p.pid, signal.SIGKILL)  # power cut: no cleanup at all
    p.wait()
    assert sid is not None and committed >= 150

    store = Store(db)
    assert store.integrity_check() == "ok"
    assert store.recover_interrupted() == [sid]
    s = store.get_session(sid)
    assert s["status"] == "interrupted"
    tl = store.get_keypoints(sid)
    # every batch the child saw committed is there, in order, with nothing torn
    assert len(tl) >= committed
    np.testing.assert_array_equal(tl.frame, np.arange(len(tl)))
    np.testing.assert_array_equal(tl.xy[:, 0, 0], np.arange(len(tl), dtype=np.float32))
    store.close()


def test_writer_survives_its_session_being_deleted(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    sid = store.create_session(None)
    w = KeypointWriter(store, sid, interval_s=0.05)
    w.append(0.0, np.zeros((17, 3), np.float32), 0)
    time.sleep(0.2)
    store.delete_session(sid)
    w.append(0.1, np.zeros((17, 3), np.float32), 1)
    w.close()
    assert "FOREIGN KEY" in (w.error or "")
    assert store.integrity_check() == "ok"
    store.close()
