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


def _side_runner(height_px: float, top: float = 100.0) -> np.ndarray:
    """A side-on runner ``height_px`` tall (nose to ankles), every keypoint seen."""
    from device.keypoints import KP

    kp = np.zeros((N_KEYPOINTS, 3), np.float32)
    rows = {"nose": 0.0, "eye": 0.03, "ear": 0.04, "shoulder": 0.15, "elbow": 0.32, "wrist": 0.45}
    rows |= {"hip": 0.5, "knee": 0.75, "ankle": 1.0}
    for name, i in KP.items():
        part = name.split("_")[-1]
        kp[i] = (640.0 + (5.0 if name.startswith("left") else 0.0), top + rows[part] * height_px, 0.9)
    return kp


def test_runner_small_is_judged_in_the_pose_models_picture() -> None:
    """The hint compares the runner with the picture the pose model sees, not with the frame: a
    runner 330 px tall in a 1280×720 frame is 46 % of its height (no hint under the old 35 %
    rule) but 110 px in the capture's 426×240 picture, where contacts are lost
    (MIN_RUNNER_PICTURE_PX); the same runner in a picture at full resolution is not small."""
    from device.capture.live import MIN_RUNNER_PICTURE_PX
    from device.gait.live import Hint

    def hints(height_px: float, picture_scale: float) -> list[Hint]:
        q = QualityMonitor(min_score=0.3, capacity=60)
        for _ in range(30):
            q.add(_side_runner(height_px), (1280, 720), picture_scale)
        return q.hints()

    assert 330 / 3.0 < MIN_RUNNER_PICTURE_PX < 420 / 3.0
    assert Hint.RUNNER_SMALL in hints(330, 3.0)  # capture: 720 → 240 px picture
    assert Hint.RUNNER_SMALL not in hints(420, 3.0)
    assert Hint.RUNNER_SMALL not in hints(330, 1.0)  # the frame itself
    assert hints(420, 3.0) == []  # nothing else is said of this runner
