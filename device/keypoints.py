"""The keypoint timeline: what the pose stage produces and the gait core consumes.

One concept, one type: a :class:`Timeline` holds capture times ``t`` (seconds, strictly
increasing, possibly uneven), keypoint positions ``xy`` in full-frame pixels (NaN where not
seen) and the model's ``score`` per keypoint, for the 17 MoveNet/COCO keypoints in their
canonical order. It is plain numpy so the gait core stays free of I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

KEYPOINT_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
N_KEYPOINTS = len(KEYPOINT_NAMES)
KP = {name: i for i, name in enumerate(KEYPOINT_NAMES)}

# Index pairs (left, right) for every sided keypoint: used for swaps and mirroring.
LEFT_RIGHT_PAIRS: tuple[tuple[int, int], ...] = tuple(
    (KP[f"left_{part}"], KP[f"right_{part}"])
    for part in ("eye", "ear", "shoulder", "elbow", "wrist", "hip", "knee", "ankle")
)

# Bones drawn on the live view, evidence frames and report.
SKELETON_EDGES: tuple[tuple[int, int], ...] = (
    (KP["left_ear"], KP["left_eye"]),
    (KP["right_ear"], KP["right_eye"]),
    (KP["left_eye"], KP["nose"]),
    (KP["right_eye"], KP["nose"]),
    (KP["left_shoulder"], KP["right_shoulder"]),
    (KP["left_shoulder"], KP["left_elbow"]),
    (KP["left_elbow"], KP["left_wrist"]),
    (KP["right_shoulder"], KP["right_elbow"]),
    (KP["right_elbow"], KP["right_wrist"]),
    (KP["left_shoulder"], KP["left_hip"]),
    (KP["right_shoulder"], KP["right_hip"]),
    (KP["left_hip"], KP["right_hip"]),
    (KP["left_hip"], KP["left_knee"]),
    (KP["left_knee"], KP["left_ankle"]),
    (KP["right_hip"], KP["right_knee"]),
    (KP["right_knee"], KP["right_ankle"]),
)


@dataclass
class Timeline:
    """Keypoints over time for one runner.

    ``t``: (N,) float64 seconds; ``xy``: (N, 17, 2) float32 pixels, NaN where unseen;
    ``score``: (N, 17) float32 in [0, 1]; ``frame``: (N,) int64 source frame index (frames
    dropped at the source leave gaps); ``width``/``height``: the full frame size in pixels.
    """

    t: np.ndarray
    xy: np.ndarray
    score: np.ndarray
    # None (the default) means 0..N-1; __post_init__ always leaves an array here.
    frame: np.ndarray = None  # type: ignore[assignment]
    width: int | None = None
    height: int | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.t = np.asarray(self.t, dtype=np.float64)
        self.xy = np.asarray(self.xy, dtype=np.float32)
        self.score = np.asarray(self.score, dtype=np.float32)
        n = self.t.shape[0]
        if self.t.ndim != 1:
            raise ValueError("t must be one-dimensional")
        if self.xy.shape != (n, N_KEYPOINTS, 2):
            raise ValueError(f"xy must have shape ({n}, {N_KEYPOINTS}, 2), got {self.xy.shape}")
        if self.score.shape != (n, N_KEYPOINTS):
            raise ValueError(f"score must have shape ({n}, {N_KEYPOINTS}), got {self.score.shape}")
        self.frame = (
            np.arange(n, dtype=np.int64) if self.frame is None else np.asarray(self.frame, dtype=np.int64)
        )
        if self.frame.shape != (n,):
            raise ValueError("frame must have one entry per time")

    def __len__(self) -> int:
        return int(self.t.shape[0])

    @property
    def duration_s(self) -> float:
        return float(self.t[-1] - self.t[0]) if len(self) > 1 else 0.0

    @property
    def effective_fps(self) -> float:
        """Frames per second actually analysed (median spacing, robust to gaps)."""
        if len(self) < 2:
            return 0.0
        dt = np.diff(self.t)
        dt = dt[dt > 0]
        return float(1.0 / np.median(dt)) if dt.size else 0.0

    def window(self, t0: float | None = None, t1: float | None = None) -> Timeline:
        """The frames with t0 <= t <= t1 (either bound optional)."""
        keep = np.ones(len(self), dtype=bool)
        if t0 is not None:
            keep &= self.t >= t0
        if t1 is not None:
            keep &= self.t <= t1
        return Timeline(
            self.t[keep],
            self.xy[keep],
            self.score[keep],
            self.frame[keep],
            self.width,
            self.height,
            dict(self.meta),
        )

    def scaled_time(self, factor: float) -> Timeline:
        """Times multiplied by ``factor`` (slow-motion clips: factor = video fps / capture fps)."""
        return Timeline(
            self.t * factor, self.xy, self.score, self.frame, self.width, self.height, dict(self.meta)
        )


class TimelineBuilder:
    """Appends one frame of keypoints at a time into preallocated, growing blocks.

    The live loop calls :meth:`append` once per inferred frame; memory grows in blocks
    (not per frame) and a two-minute capture at 30 fps is ~3,600 rows (~0.5 MB).
    """

    def __init__(self, capacity: int = 4096, width: int | None = None, height: int | None = None) -> None:
        self._t = np.empty(capacity, np.float64)
        self._xy = np.empty((capacity, N_KEYPOINTS, 2), np.float32)
        self._score = np.empty((capacity, N_KEYPOINTS), np.float32)
        self._frame = np.empty(capacity, np.int64)
        self._n = 0
        self.width = width
        self.height = height

    def __len__(self) -> int:
        return self._n

    def _grow(self) -> None:
        cap, n = self._t.shape[0] * 2, self._n
        self._t, self._xy, self._score, self._frame = (
            _grown(a, cap, n) for a in (self._t, self._xy, self._score, self._frame)
        )

    def append(self, t: float, keypoints: np.ndarray, frame: int | None = None) -> None:
        """Add one frame. ``keypoints``: (17, 3) array of x, y, score (x/y NaN where unseen)."""
        if self._n and t <= self._t[self._n - 1]:
            raise ValueError(f"timestamps must increase: {t} after {self._t[self._n - 1]}")
        if self._n == self._t.shape[0]:
            self._grow()
        i = self._n
        self._t[i] = t
        self._xy[i] = keypoints[:, :2]
        self._score[i] = keypoints[:, 2]
        self._frame[i] = i if frame is None else frame
        self._n += 1

    def build(self) -> Timeline:
        """A Timeline holding a copy of what was appended so far."""
        n = self._n
        return Timeline(
            self._t[:n].copy(),
            self._xy[:n].copy(),
            self._score[:n].copy(),
            self._frame[:n].copy(),
            self.width,
            self.height,
        )


def _grown(old: np.ndarray, capacity: int, n: int) -> np.ndarray:
    """A copy of ``old`` with room for ``capacity`` rows (the first ``n`` kept)."""
    new = np.empty((capacity, *old.shape[1:]), old.dtype)
    new[:n] = old[:n]
    return new
