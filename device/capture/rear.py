"""The optional second camera, filming from behind the treadmill (``[camera] rear_source``).

It has its own loop thread and pose estimator (estimators keep per-camera crop state and are
not shared between threads) and records into its own timeline and keypoint writer (stored with
``camera = "rear"``) while the main camera records. Its frames are timed by its own source
clock; two Pi cameras share the kernel's monotonic clock, so their times line up.

The rear camera is optional: when it fails, the capture goes on with the side view and the
session says why the rear metrics are missing.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from device.keypoints import TimelineBuilder
from device.store import KeypointWriter, Store

log = logging.getLogger(__name__)

#: Metrics a rear view measures that a side view cannot (gait-metrics.md, rear/front table).
FRONTAL_METRICS = ("pelvic_drop_deg", "lateral_sway_cm", "step_width_cm", "knee_frontal_angle_deg")


class RearCamera:
    """Loop + recording for the rear camera. ``begin``/``stop``/``end`` are called by the
    capture controller; everything else is internal."""

    def __init__(
        self,
        store: Store,
        source_factory: Callable[[], Any],
        estimator: Any,
        min_score: float = 0.3,
        preview_fps: float = 5.0,
    ) -> None:
        self.store = store
        self._factory = source_factory
        self._est = estimator
        self._min_score = min_score
        self._preview_period = 1.0 / max(0.5, preview_fps)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._source: Any = None
        self._builder: TimelineBuilder | None = None
        self._writer: KeypointWriter | None = None
        self._stopped_builder: TimelineBuilder | None = None
        self._restart = False
        self._t_last: float | None = None
        self._buf = np.zeros((17, 3), np.float32)
        self._preview: tuple[int, bytes] | None = None
        self._seq = 0
        self.error: str | None = None
        self.session_error: str | None = None  # why this capture's rear view is incomplete

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="rear-loop", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self.end()
        src, self._source = self._source, None
        if src is not None:
            with contextlib.suppress(Exception):
                src.close()

    # -- recording (called by the controller) ----------------------------------------------------

    def begin(self, session_id: int) -> None:
        with self._lock:
            self._builder = TimelineBuilder()
            self._writer = KeypointWriter(self.store, session_id, camera="rear")
            self._t_last = None
            self.session_error = self.error
            self._restart = self._source is not None and not getattr(self._source, "is_live", False)

    def stop(self) -> None:
        """Stop recording now (cheap; the writer is closed by :meth:`end`)."""
        with self._lock:
            if self._builder is not None:
                self._stopped_builder, self._builder = self._builder, None

    def end(self) -> Any:
        """Stop recording, write every keypoint, and return the rear Timeline (None if empty)."""
        self.stop()
        with self._lock:
            writer, self._writer = self._writer, None
            builder, self._stopped_builder = self._stopped_builder, None
        if writer is not None:
            writer.close()
        if builder is None or len(builder) == 0:
            return None
        return builder.build()

    # -- the loop ---------------------------------------------------------------------------------

    def _loop(self) -> None:
        last_preview = 0.0
        while not self._stop.is_set():
            if self._restart:
                self._restart = False
                self._close_source()
            if self._source is None:
                try:
                    src = self._factory()
                    src.open()
                    self._source = src
                    self.error = None
                    reset = getattr(self._est, "reset", None)
                    if reset:
                        reset()
                except Exception as exc:
                    self._set_error(f"rear camera not available: {exc}")
                    self._stop.wait(2.0)
                    continue
            try:
                frame = self._source.read()
            except Exception as exc:
                self._set_error(f"rear camera failed: {exc}")
                self._close_source()
                self._stop.wait(0.5)
                continue
            if frame is None:
                self._close_source()
                self._stop.wait(0.2)
                continue
            recording = self._builder is not None
            if not recording and not getattr(self._source, "is_live", False):
                self._stop.wait(1.0 / max(1.0, self._source.nominal_fps))
            lores = getattr(frame, "lores", None)
            try:
                if lores is not None:
                    kp = self._est.estimate(lores, out=self._buf, scale=frame.lores_scale)
                else:
                    kp = self._est.estimate(frame.image, out=self._buf)
            except Exception as exc:
                self._set_error(f"rear pose estimation failed: {exc}")
                continue
            with self._lock:
                b = self._builder
                if b is not None and (self._t_last is None or frame.t > self._t_last):
                    if b.width is None:
                        b.width, b.height = frame.image.shape[1], frame.image.shape[0]
                    row = kp.copy()
                    b.append(frame.t, row, frame.index)
                    self._writer.append(frame.t, row, frame.index)
                    self._t_last = frame.t
            now = time.monotonic()
            if now - last_preview >= self._preview_period:
                last_preview = now
                from device.capture.live import render_preview

                with contextlib.suppress(Exception):
                    jpeg = render_preview(frame.image, kp, self._min_score)
                    self._seq += 1
                    self._preview = (self._seq, jpeg)

    def _set_error(self, msg: str) -> None:
        if msg != self.error:
            log.error(msg)
        self.error = msg
        with self._lock:
            if self._builder is not None:
                self.session_error = msg

    def _close_source(self) -> None:
        src, self._source = self._source, None
        if src is not None:
            with contextlib.suppress(Exception):
                src.close()

    def latest_preview(self) -> tuple[int, bytes] | None:
        return self._preview

    def status(self) -> dict[str, Any]:
        return {"rear_camera_ok": self._source is not None and self.error is None, "rear_error": self.error}


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
            taken.append(mid)
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
