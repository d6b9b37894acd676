"""The live view's quality hints are read by the dashboard's ticks while the pose thread adds
keypoints and a new capture resets them: no interleaving may break either thread."""

from __future__ import annotations

import sys
import threading
import time

import numpy as np

from device.capture.live import QualityMonitor
from device.keypoints import N_KEYPOINTS


def test_hints_while_another_thread_resets_and_adds() -> None:
    """Found on an emulated Pi (tools/pi-check.sh): the live-pose thread died with an IndexError
    when a reset came between two reads of the buffer's length inside ``hints``."""
    q = QualityMonitor(min_score=0.3, capacity=60)
    kp = np.zeros((N_KEYPOINTS, 3), np.float32)
    kp[:, :2] = np.random.default_rng(0).uniform(100, 900, (N_KEYPOINTS, 2))
    kp[:, 2] = 0.9
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            for _ in range(40):
                q.add(kp, (1080, 1920))
            q.reset()

    def reader() -> None:
        try:
            while not stop.is_set():
                q.hints()
        except (IndexError, ValueError) as exc:  # the failure under test
            errors.append(exc)
            stop.set()

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter allows
    try:
        threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
        for th in threads:
            th.start()
        time.sleep(1.5)
        stop.set()
        for th in threads:
            th.join(5)
    finally:
        sys.setswitchinterval(old)
    assert not errors, errors[0]
