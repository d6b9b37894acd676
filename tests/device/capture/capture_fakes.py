"""Test doubles for the capture tests: a scriptable frame source and keypoint 'estimators'.

The source is a real :class:`FrameSource` (faster than real time, optional failure or stall,
or a camera that runs on the wall clock and drops frames a slow reader misses, or whose clock
goes wrong: ``retime``); each frame
carries its number stamped in the picture (:func:`stamp_index` / :func:`read_index`, 16 big
black/white blocks that survive downscaling and JPEG), so an estimator that only sees the
picture — live or in the catch-up from the pose spool — knows which frame it is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

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
        buffers: int | None = None,
        retime: Callable[[int, float], float] | None = None,
    ) -> None:
        self.fps = fps
        self._size = size
        self.n_frames = n_frames
        self.fail_at = fail_at
        self.stall_at = stall_at
        self.is_live = live
        self.drop_every = drop_every
        self.buffers = buffers  # live camera on the wall clock keeping this many frames queued
        self.retime = retime  # (frame number, true time) -> the time the camera stamps
        self._t_open = 0.0
        self.opened = 0
        self.last_t = 100.0
        self.unstall = threading.Event()
        self.stalled = threading.Event()  # set once read() waits at ``stall_at``
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
        self._t_open = time.monotonic()

    def read(self) -> Frame | None:
        i = self._i
        if self.n_frames is not None and i >= self.n_frames:
            return None
        if self.fail_at is not None and i == self.fail_at:
            self.fail_at = None  # fails once; the reopened camera works
            raise SourceError("camera unplugged")
        if self.stall_at is not None and i == self.stall_at:
            self.stall_at = None
            self.stalled.set()
            self.unstall.wait(30)
        if self.is_live and self.buffers is not None:
            # A camera on the wall clock: frame k exists from t_open + k/fps; a reader more than
            # ``buffers`` frames behind finds the older ones recycled (a sensor-clock gap).
            newest = int((time.monotonic() - self._t_open) * self.fps)
            i = max(i, newest - self.buffers + 1)
            due = self._t_open + i / self.fps
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._i = i
        elif self.is_live:
            time.sleep(1 / self.fps)  # a camera delivers in real time
        self._i += 1
        if self.drop_every and i % self.drop_every == self.drop_every - 1:
            self._i += 1  # the camera dropped a frame: a gap in the index
        self.last_t = 100.0 + i / self.fps
        t = self.retime(i, self.last_t) if self.retime is not None else self.last_t
        return Frame(stamp_index(self._img.copy(), i), t, i)

    def close(self) -> None:
        pass


_BITS = 16


def stamp_index(image: np.ndarray, index: int) -> np.ndarray:
    """Write ``index`` into the top band of ``image`` as 16 black/white blocks (in place)."""
    h, w = image.shape[:2]
    band = max(8, h // 12)
    for k in range(_BITS):
        x0, x1 = k * w // _BITS, (k + 1) * w // _BITS
        image[:band, x0:x1] = 255 if (index >> k) & 1 else 0
    return image


def read_index(image: np.ndarray) -> int:
    """The frame number :func:`stamp_index` wrote (the image may be downscaled and JPEG'd)."""
    h, w = image.shape[:2]
    y = h // 24  # the band is at least the top twelfth of the picture at any scale
    n = 0
    for k in range(_BITS):
        x = int((k + 0.5) * w / _BITS)
        if int(image[y, x].mean()) > 127:
            n |= 1 << k
    return n


class PoseFromTime:
    """Pretends to be a pose estimator: a side-view runner whose feet swing at 1.45 Hz."""

    name = "pose-from-time"
    input_size = (192, 192)

    def __init__(self, width: int = 320, height: int = 240, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.calls = 0
        self.w, self.h = width, height
        self.t = 0.0

    def estimate(self, image: np.ndarray, out: np.ndarray | None = None, scale=(1.0, 1.0)) -> np.ndarray:
        self.calls += 1
        self.t += 1 / 30
        if self.delay_s:
            time.sleep(self.delay_s)  # a slower computer's inference (releases the GIL, as LiteRT does)
        out = np.empty((17, 3), np.float32) if out is None else out
        cx, h = image.shape[1] / 2 * scale[0], image.shape[0] * scale[1]
        out[:, 0] = cx
        out[:, 1] = np.linspace(0.1 * h, 0.9 * h, 17)
        out[:, 2] = 0.9
        swing = 0.1 * image.shape[1] * scale[0] * np.sin(2 * np.pi * 1.45 * self.t)
        out[15, 0] = cx + swing
        out[16, 0] = cx - swing
        return out

    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass


class PoseNobody:
    """Pretends to be a pose estimator looking at an empty treadmill: every keypoint unseen."""

    name = "pose-nobody"
    input_size = (192, 192)

    def estimate(self, image: np.ndarray, out: np.ndarray | None = None, scale=(1.0, 1.0)) -> np.ndarray:
        out = np.empty((17, 3), np.float32) if out is None else out
        out[:, :2] = (image.shape[1] / 2 * scale[0], image.shape[0] / 2 * scale[1])
        out[:, 2] = 0.02
        return out

    def reset(self) -> None:
        pass

    def close(self) -> None:
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
    """Pretends to be a pose estimator: the synthetic runner's exact keypoints at the time of the
    frame whose number is stamped in the picture (index / fps), so the real gait engine can be
    checked end to end — live or in the catch-up. ``delay_s``: a slower computer's inference."""

    name = "pose-from-runner"
    input_size = (192, 192)

    def __init__(self, source: ScriptedSource, runner, delay_s: float = 0.0) -> None:
        self.source = source
        self.runner = runner
        self.delay_s = delay_s
        self.calls = 0

    def estimate(self, image: np.ndarray, out: np.ndarray | None = None, scale=(1.0, 1.0)) -> np.ndarray:
        self.calls += 1
        if self.delay_s:
            time.sleep(self.delay_s)
        t = read_index(image) / self.source.fps
        kp = self.runner.keypoints_at(t).astype(np.float32)
        if out is None:
            return kp
        out[:] = kp
        return out

    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass
