"""A capture from a real clip through the real MoveNet model and the real gait engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from device.camera import open_source
from device.capture.controller import CaptureController, CaptureRequest
from device.config import Config
from device.store import Store
from tests.support.timing import scaled

pytestmark = pytest.mark.slow  # a sample clip through MoveNet


def test_sample_clip_through_movenet(tmp_path: Path, model_path: Path, samples_dir: Path) -> None:
    from device.pose import MoveNetEstimator

    cfg = Config()
    cfg.storage.data_dir = str(tmp_path)
    cfg.storage.min_free_mb = 0
    cfg.capture.duration_s = 5.0
    cfg.capture.countdown_s = 0
    clip = samples_dir / "walking_side_30fps.mp4"
    store = Store(tmp_path / "station.db")
    est = MoveNetEstimator(model_path, 2, quiet=True)
    ctl = CaptureController(cfg, store, lambda: open_source(str(clip), cfg), est, source_name=str(clip))
    ctl.start()
    try:
        rid = store.create_runner("Walker", 175)
        sid = ctl.start_capture(CaptureRequest(runner_id=rid, speed_kmh=5.0))
        assert ctl.wait_for_state(("done", "failed"), scaled(90)) == "done", store.get_session(sid)["error"]
    finally:
        ctl.close()
    s = store.get_session(sid)
    tl = store.get_keypoints(sid)
    assert s["frames_inferred"] == len(tl) >= 140  # 5 s of a 30 fps clip, every frame inferred
    assert s["frames_dropped"] == 0 and tl.width == 1280 and tl.height == 720
    hips_seen = (tl.score[:, 11:13] > 0.3).any(axis=1).mean()
    assert hips_seen > 0.9  # MoveNet found the walker
    assert np.all(np.diff(tl.t) > 0) and abs(tl.t[0]) < 0.05  # the clip's own clock, from its start
    a = s["analysis"]
    assert a["view"]["kind"] == "side" and a["quality"]
    for ev in store.list_evidence(sid):
        e = store.get_evidence(ev["id"])
        assert e["jpeg"][:2] == b"\xff\xd8" and len(e["keypoints"]) == 17
    store.close()
