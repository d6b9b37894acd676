"""The live view's pose thread: previews are drawn only while somebody looks at them."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pytest

from device.camera.base import Frame
from device.capture import live_pose
from device.capture.live_pose import LivePose
from device.pose.pipeline import model_image
from tests.device.capture.capture_fakes import PoseFromTime
from tests.support.timing import scaled

_IMAGE = np.full((240, 320, 3), 90, np.uint8)


class _Camera:
    def __init__(self, lp: LivePose) -> None:
        self.lp = lp
        self.i = 0

    def run(self, seconds: float, until: Callable[[], bool] = lambda: False) -> bool:
        """Offer frames at ~60 fps for ``seconds`` or until ``until()``; whether it came true."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if until():
                return True
            frame = Frame(_IMAGE, self.i / 30, self.i)
            self.lp.offer(frame, model_image(frame))
            self.i += 1
            time.sleep(1 / 60)
        return until()


def _seq(lp: LivePose) -> int:
    return lp.previews_drawn  # read without asking: asking is what this test is about


def test_no_preview_is_drawn_while_nobody_asks_for_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """A station with no tablet on the live page spent a downscale and a JPEG encode on every
    preview period for nobody."""
    # Unasked for a minute until the first preview is drawn (a loaded machine's first inference
    # can come more than 0.3 s after the start), then for 0.3 s.
    monkeypatch.setattr(live_pose, "PREVIEW_IDLE_S", 60.0)
    lp = LivePose("test", PoseFromTime(), 0.3, preview_fps=30)
    lp.start()
    cam = _Camera(lp)
    try:
        # drawn from the start, unasked: a dashboard opens with the station
        assert cam.run(scaled(10.0), lambda: _seq(lp) > 0)
        monkeypatch.setattr(live_pose, "PREVIEW_IDLE_S", 0.3)
        cam.run(1.0)  # nobody asks: drawing stops 0.3 s after the start
        frames, seq = lp.frames_inferred, _seq(lp)
        cam.run(0.6)
        # pose and hints go on (a frame inferred, however slow the machine): only the picture stops
        assert cam.run(scaled(10.0), lambda: lp.frames_inferred > frames)
        assert _seq(lp) == seq
        assert lp.latest_preview() is not None  # a viewer again: the newest one, then fresh ones
        assert cam.run(scaled(10.0), lambda: _seq(lp) > seq)
    finally:
        lp.close()
