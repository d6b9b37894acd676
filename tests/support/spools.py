"""The spools a capture cut short leaves behind (a power cut, a crash): for tests of what the
station recovers from them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.support.eventually import eventually


def write_recording(pose_path: Path, evidence_path: Path, frames: int) -> int:
    """``frames`` frames of 1280×720 at 30 fps from t = 100 s: every frame in the pose spool
    (model pictures 320×180), every third in the evidence spool, both closed as a crash leaves
    them (no ``.idx``). Returns the evidence spool's size in bytes."""
    from device.capture.pose_spool import PoseSpoolWriter
    from device.capture.spool import FrameSpool

    pose = PoseSpoolWriter(pose_path, {"width": 1280, "height": 720, "picture": [320, 180]})
    evidence = FrameSpool(evidence_path)
    full = np.full((720, 1280, 3), 90, np.uint8)
    for i in range(frames):
        pose.put(i, 100.0 + i / 30, full[::4, ::4], (4.0, 4.0))
        if i % 3 == 0:
            evidence.put(i, full)
            assert eventually(lambda i=i: len(evidence) == i // 3 + 1, 5)  # the queue is short: pace it
    pose.close()
    evidence.finish()
    return evidence.bytes
