"""Test doubles for the capture tests: a scriptable frame source and a keypoint 'estimator'.

The source is a real :class:`FrameSource` (faster than real time, optional failure or stall);
the estimator returns a plausible running pose from the frame time so the whole controller path
(timeline, DB writer, spool, evidence, analysis hand-off) runs without the TFLite model.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from device.camera.base import Frame, FrameSource
from device.errors import SourceError
from device.gait.types import Analysis, Metric


class ScriptedSource(FrameSource):
    name = "scripted"

    def __init__(
        self,
        fps: float = 30.0,
        size: tuple[int, int] = (320, 240),
        *,
        n_frames: int | None = None,
        fail_at: int | None = None,
        stall_at: int | None = None,
        live: bool = False,
        drop_every: int = 0,
    ) -> None:
        self.fps = fps
        self._size = size
        self.n_frames = n_frames
        self.fail_at = fail_at
        self.stall_at = stall_at
        self.is_live = live
        self.drop_every = drop_every
        self.opened = 0
        self.last_t = 100.0
        self.unstall = threading.Event()
        self._i = 0
        self._img = np.full((size[1], size[0], 3), 90, np.uint8)
        self._img[:, ::8] = 200  # some texture for the JPEG encoder

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    @property
    def nominal_fps(self) -> float:
        return self.fps

    def open(self) -> None:
        self.opened += 1
        self._i = 0

    def read(self) -> Frame | None:
        i = self._i
        if self.n_frames is not None and i >= self.n_frames:
            return None
        if self.fail_at is not None and i == self.fail_at:
            self.fail_at = None  # fails once; the reopened camera works
            raise SourceError("camera unplugged")
        if self.stall_at is not None and i == self.stall_at:
            self.stall_at = None
            self.unstall.wait(30)
        if self.is_live:
            time.sleep(1 / self.fps)  # a camera delivers in real time
        self._i += 1
        if self.drop_every and i % self.drop_every == self.drop_every - 1:
            self._i += 1  # the camera dropped a frame: a gap in the index
        self.last_t = 100.0 + i / self.fps
        return Frame(self._img, self.last_t, i)

    def close(self) -> None:
        pass


class PoseFromTime:
    """Pretends to be a pose estimator: a side-view runner whose feet swing at 1.45 Hz."""

    def __init__(self, width: int = 320, height: int = 240) -> None:
        self.calls = 0
        self.w, self.h = width, height
        self.t = 0.0

    def estimate(self, image: np.ndarray, out: np.ndarray | None = None, scale=(1.0, 1.0)) -> np.ndarray:
        self.calls += 1
        self.t += 1 / 30
        out = np.empty((17, 3), np.float32) if out is None else out
        cx, h = image.shape[1] / 2, image.shape[0]
        out[:, 0] = cx
        out[:, 1] = np.linspace(0.1 * h, 0.9 * h, 17)
        out[:, 2] = 0.9
        swing = 0.1 * image.shape[1] * np.sin(2 * np.pi * 1.45 * self.t)
        out[15, 0] = cx + swing
        out[16, 0] = cx - swing
        return out

    def reset(self) -> None:
        pass


def fake_analyzer(calls: list):
    def analyze(timeline, runner, view, norms, profile, warmup_s):
        calls.append(
            {
                "n": len(timeline),
                "runner": runner,
                "view": view,
                "warmup_s": warmup_s,
                "t0": float(timeline.t[0]),
                "t1": float(timeline.t[-1]),
            }
        )
        mid = len(timeline) // 2
        return Analysis(
            cadence_spm=174.0,
            metrics={"cadence_spm": Metric(174.0, "spm", n=5)},
            evidence=[
                {
                    "side": "left",
                    "phase": "initial_contact",
                    "t": float(timeline.t[mid]),
                    "frame": int(timeline.frame[mid]),
                    "angles": {"knee_flexion_ic_deg": 18.0},
                }
            ],
        )

    return analyze


class PoseFromRunner:
    """Pretends to be a pose estimator: the synthetic runner's exact keypoints at the frame's time
    (source time minus 100 s), so the real gait engine can be checked end to end."""

    def __init__(self, source: ScriptedSource, runner) -> None:
        self.source = source
        self.runner = runner

    def estimate(self, image: np.ndarray, out: np.ndarray | None = None, scale=(1.0, 1.0)) -> np.ndarray:
        kp = self.runner.keypoints_at(self.source.last_t - 100.0).astype(np.float32)
        if out is None:
            return kp
        out[:] = kp
        return out

    def reset(self) -> None:
        pass
