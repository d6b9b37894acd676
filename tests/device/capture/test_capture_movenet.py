"""A capture from a real clip through the real MoveNet model and the real gait engine."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from device.camera import open_source
from device.capture.controller import CaptureController, CaptureRequest
from device.config import Config
from device.store import Store
from tests.support.timing import scaled

pytestmark = pytest.mark.slow  # a sample clip through MoveNet


def _capture_config(data_dir: Path, duration_s: float) -> Config:
    """A station capturing ``duration_s`` from a file at once (no countdown) into ``data_dir``."""
    cfg = Config()
    cfg.storage.data_dir = str(data_dir)
    cfg.storage.min_free_mb = 0
    cfg.capture.duration_s = duration_s
    cfg.capture.countdown_s = 0
    return cfg


def _one_capture(
    ctl: CaptureController, store: Store, speed_kmh: float, timeout_s: float = 90
) -> tuple[str, int]:
    """Start ``ctl``, capture one session of a new runner, close it: (end state, session id)."""
    ctl.start()
    try:
        rid = store.create_runner("Runner", 175)
        sid = ctl.start_capture(CaptureRequest(runner_id=rid, speed_kmh=speed_kmh))
        return str(ctl.wait_for_state(("done", "failed"), scaled(timeout_s))), sid
    finally:
        ctl.close()


def test_sample_clip_through_movenet(tmp_path: Path, model_path: Path, samples_dir: Path) -> None:
    from device.pose import MoveNetEstimator

    cfg = _capture_config(tmp_path, 5.0)
    clip = samples_dir / "walking_side_30fps.mp4"
    store = Store(tmp_path / "station.db")
    est = MoveNetEstimator(model_path, 2, quiet=True)
    ctl = CaptureController(cfg, store, lambda: open_source(str(clip), cfg), est, source_name=str(clip))
    state, sid = _one_capture(ctl, store, 5.0)
    assert state == "done", store.get_session(sid)["error"]
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


def _turned_clip(src: Path, dst: Path, rotate: int, seconds: float) -> Path:
    """The first ``seconds`` of ``src`` turned by ``rotate`` (a cv2 rotate code), as an MP4."""
    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS)
    frames = []
    ok, frame = cap.read()
    while ok and len(frames) < seconds * fps:
        frames.append(cv2.rotate(frame, rotate))
        ok, frame = cap.read()
    cap.release()
    h, w = frames[0].shape[:2]
    out = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for f in frames:
        out.write(f)
    out.release()
    return dst


@pytest.mark.parametrize(
    ("rotate", "says"),
    [(cv2.ROTATE_180, "upside_down = true"), (cv2.ROTATE_90_CLOCKWISE, "turned 270° clockwise")],
)
def test_a_camera_mounted_turned_is_named_not_analysed(
    tmp_path: Path, model_path: Path, samples_dir: Path, rotate: int, says: str
) -> None:
    """A camera mounted upside down (or on its side) gives the pose model a garbled body; analysed,
    the labelled clip turned 180° read "two people in view; feet leave the frame; the runner turns
    around". The capture fails with the one line that says what to fix, its keypoints kept."""
    from device.pose import MoveNetEstimator

    cfg = _capture_config(tmp_path, 4.0)
    clip = _turned_clip(samples_dir / "treadmill_side_30fps_labelled.mp4", tmp_path / "turned.mp4", rotate, 5)
    store = Store(tmp_path / "station.db")
    est = MoveNetEstimator(model_path, 2, quiet=True)
    ctl = CaptureController(cfg, store, lambda: open_source(str(clip), cfg), est, source_name=str(clip))
    state, sid = _one_capture(ctl, store, 10.0)
    s = store.get_session(sid)
    assert state == "failed", (s["error"], s["analysis"] and s["analysis"]["quality"]["verdict"])
    assert says in s["error"] and "nothing was measured" in s["error"], s["error"]
    assert s["analysis"] is None
    assert len(store.get_keypoints(sid)) >= 100  # what was recorded is kept
    assert ctl.last_result is not None and says in ctl.last_result["message"]
    store.close()


def test_a_rear_camera_mounted_upside_down_is_named_and_the_side_view_analysed(
    tmp_path: Path, model_path: Path, samples_dir: Path
) -> None:
    """The rear camera's turned picture costs the rear view only, and says which setting to set."""
    from device.capture.rear import RearCamera
    from device.pose import MoveNetEstimator

    cfg = _capture_config(tmp_path, 4.0)
    side = samples_dir / "treadmill_side_30fps_labelled.mp4"
    turned = _turned_clip(side, tmp_path / "rear.mp4", cv2.ROTATE_180, 5)
    store = Store(tmp_path / "station.db")
    rear = RearCamera(
        store, lambda: open_source(str(turned), cfg), MoveNetEstimator(model_path, 1, quiet=True)
    )
    est = MoveNetEstimator(model_path, 1, quiet=True)
    ctl = CaptureController(
        cfg, store, lambda: open_source(str(side), cfg), est, source_name=str(side), rear=rear
    )
    state, sid = _one_capture(ctl, store, 10.0, timeout_s=120)
    assert state == "done", store.get_session(sid)["error"]
    a = store.get_session(sid)["analysis"]
    assert "rear_upside_down = true" in a["rear"]["error"] and a["rear"]["metrics_from_rear"] == []
    assert a["cadence_spm"] is not None  # the side view is measured as ever
    store.close()
