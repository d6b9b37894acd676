"""The optional second camera, filming from behind the treadmill (``[camera] rear_source``).

The same parts as the side camera — a :class:`~device.capture.camera_loop.CameraLoop`, a
:class:`~device.capture.live_pose.LivePose` for its preview and a
:class:`~device.capture.recorder.Recorder` per capture (its own pose spool; keypoints stored
with ``camera = "rear"``) — with its own estimator (estimators keep per-camera crop state).
Its frames are timed by its own source clock; two Pi cameras share the kernel's monotonic
clock, so their times line up. The capture controller starts and stops its recording.

The rear camera is optional: when it fails, the capture goes on with the side view and the
session says why the rear metrics are missing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from device.camera.base import Frame, FrameSource
from device.capture.camera_loop import CameraLoop
from device.capture.live_pose import LivePose
from device.capture.recorder import Recorder
from device.pose.base import PoseEstimator
from device.pose.pipeline import ModelImage
from device.store import KeypointWriter, Store

log = logging.getLogger(__name__)

#: Metrics a rear view measures that a side view cannot (gait-metrics.md, rear/front table).
FRONTAL_METRICS = ("pelvic_drop_deg", "lateral_sway_cm", "step_width_cm", "knee_frontal_angle_deg")


@dataclass(frozen=True)
class RearRecording:
    """What one capture's rear recording left: its pose spool (None when it recorded nothing),
    why the rear view is incomplete (None when it is not), and what the session's warnings
    should say about it (frames left out for an impossible time, as the side camera's)."""

    spool: Path | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


class RearCamera:
    """Loop, live view and recording of the rear camera. ``begin``/``end``/``abandon`` are
    called by the capture controller."""

    def __init__(
        self,
        store: Store,
        source_factory: Callable[[], FrameSource],
        estimator: PoseEstimator,
        min_score: float = 0.3,
        preview_fps: float = 5.0,
    ) -> None:
        self.store = store
        self.estimator = estimator
        self._lock = threading.Lock()
        self._recorder: Recorder | None = None
        self.error: str | None = None
        self.session_error: str | None = None  # why this capture's rear view is incomplete
        self.live = LivePose(
            "rear",
            estimator,
            min_score,
            preview_fps,
            on_keypoints=self._on_keypoints,
            on_error=self._set_error,
        )
        side = max(estimator.input_size) or 192
        self.camera = CameraLoop(
            "rear",
            source_factory,
            self._on_frame,
            model_side=side,
            # the camera loop logs it (once, not at every retry)
            on_error=lambda m: self._set_error(f"rear camera not available: {m}", logged=True),
            on_open=self._on_open,
        )

    def start(self) -> None:
        self.live.start()
        self.camera.start()

    def close(self) -> None:
        self.camera.close()
        self.live.close()
        self.abandon()

    # -- recording (called by the controller) ----------------------------------------------------

    def begin(self, session_id: int, spool_path: Path) -> None:
        rec = Recorder(spool_path, KeypointWriter(self.store, session_id, camera="rear"))
        with self._lock:
            self._recorder = rec
            self.session_error = self.error
        self.camera.flat_out = True
        self.camera.restart_source()

    def end(self) -> RearRecording:
        """Stop recording and store every live keypoint."""
        with self._lock:
            rec, self._recorder = self._recorder, None
        self.camera.flat_out = False
        if rec is None:
            return RearRecording(error=self.session_error)
        rec.close()
        rec.writer.close()
        return RearRecording(
            rec.spool_path if rec.began else None,
            self.session_error,
            [f"rear camera: {w}" for w in rec.warnings()],
        )

    def abandon(self) -> None:
        """Stop recording and delete the pose spool (a cancelled capture)."""
        spool = self.end().spool
        if spool is not None:
            spool.unlink(missing_ok=True)

    # -- the camera's callbacks ----------------------------------------------------------------

    def _on_frame(self, frame: Frame, picture: ModelImage) -> None:
        rec = self._recorder
        if rec is not None:
            rec.on_frame(frame, picture)
            if rec.error and self.session_error is None:
                self._set_error(f"rear camera recording stopped: {rec.error}")
        self.live.offer(frame, picture)

    def _on_keypoints(self, frame: Frame, keypoints: Any) -> None:
        rec = self._recorder
        if rec is not None:
            rec.on_keypoints(frame, keypoints)

    def _on_open(self) -> None:
        self.error = None
        self.live.reset()

    def _set_error(self, msg: str, *, logged: bool = False) -> None:
        if msg != self.error and not logged:
            log.error(msg)
        self.error = msg
        with self._lock:
            if self._recorder is not None:
                self.session_error = msg

    def latest_preview(self) -> tuple[int, bytes] | None:
        return self.live.latest_preview()

    def status(self) -> dict[str, Any]:
        return {"rear_camera_ok": self.camera.source_ok and self.error is None, "rear_error": self.error}


def merge_rear(main: dict[str, Any], rear: dict[str, Any] | None, error: str | None = None) -> dict[str, Any]:
    """Add the rear view's frontal-plane metrics to the side view's analysis (``main``, a
    ``Analysis.to_dict()``), where the side view has no measured value; ``main["rear"]`` says
    what came from the rear camera (or why nothing did)."""
    out = dict(main)
    if rear is None:
        out["rear"] = {"error": error or "the rear camera recorded no frames", "metrics_from_rear": []}
        return out
    metrics = dict(out.get("metrics") or {})
    taken = []
    for mid, m in (rear.get("metrics") or {}).items():
        if mid not in FRONTAL_METRICS or not isinstance(m, dict):
            continue
        cur = metrics.get(mid)
        if cur is None or cur.get("value") is None:
            metrics[mid] = {**m, "source": "rear"}
            if any(isinstance(m.get(k), int | float) for k in ("value", "left", "right")):
                taken.append(mid)  # "measured by the rear camera" names only what it measured
    out["metrics"] = metrics
    out["rear"] = {
        "view": rear.get("view"),
        "cadence_spm": rear.get("cadence_spm"),
        "quality": rear.get("quality"),
        "events": rear.get("events"),
        "metrics_from_rear": taken,
        "error": error,
    }
    return out
