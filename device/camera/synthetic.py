"""The synthetic camera: rendered frames of the synthetic runner, with no camera and no video.

What it is for: running the whole station (live view, capture, analysis, report) on a
machine without a camera, and end-to-end tests with exact truth
(``source.runner.truth()``). Frame times are the runner model's clock, so keypoints
measured on these frames line up with the truth's events.
"""

from __future__ import annotations

import math
import time
from dataclasses import fields
from typing import TYPE_CHECKING, Any

import numpy as np

from device.camera.base import Frame, FrameSource
from device.errors import SourceError
from device.synthetic.runner import RunnerParams, SyntheticRunner

if TYPE_CHECKING:
    from device.config import Config

_SHORTHAND = {
    "side": ("view", "side"),
    "rear": ("view", "rear"),
    "left": ("facing", "left"),
    "right": ("facing", "right"),
}


#: Where the live page's framing guide puts the belt: this fraction of the picture's height above
#: its bottom edge (web/static/style.css, ``.guide-belt`` ``bottom``)
GUIDE_BELT_FROM_BOTTOM = 0.11


class SyntheticSource(FrameSource):
    """Frames of the synthetic runner.

    ``realtime=True`` behaves like a camera (``is_live``): frames are paced to the wall clock
    and a slow reader gets the frame for *now* (the ones in between are dropped, leaving
    gaps in ``Frame.index``). ``realtime=False`` yields every frame as fast as it can be
    drawn (tests, benchmarks). Infinite unless ``duration_s`` is given.
    """

    name = "synthetic"

    def __init__(
        self,
        params: RunnerParams | None = None,
        realtime: bool = True,
        size: tuple[int, int] | None = None,
        fps: float | None = None,
        duration_s: float | None = None,
    ) -> None:
        p = params or RunnerParams()
        changes: dict[str, Any] = {}
        if size is not None:
            w, h = (int(v) for v in size)
            if w < 64 or h < 64:
                raise SourceError(f"synthetic source: frame size {w}x{h} is too small (at least 64x64)")
            changes.update(width=w, height=h)
        if fps is not None:
            if not 0 < fps <= 1000:
                raise SourceError(f"synthetic source: fps {fps} must be within (0, 1000]")
            changes["fps"] = float(fps)
        self.params = p.with_(**changes) if changes else p
        self.realtime = bool(realtime)
        self.is_live = self.realtime
        self.duration_s = duration_s
        self.runner = SyntheticRunner(self.params)
        self._renderer: Any = None
        self._canvas: np.ndarray | None = None
        self._t_start = 0.0
        self._next = 0
        self._open = False

    @classmethod
    def from_spec(cls, arg: str, cfg: Config | None = None) -> SyntheticSource:
        """The source for a ``synthetic[:ARG]`` spec: ARG is a comma list of shorthands
        (``rear``, ``side``, ``left``, ``right``) and ``field=value`` RunnerParams settings,
        e.g. ``synthetic:rear,cadence_spm=180,speed_kmh=12``. Size and fps from ``cfg.camera``."""
        kwargs: dict[str, Any] = {}
        types = {f.name: f.type for f in fields(RunnerParams)}
        defaults = RunnerParams()
        for tok in (t.strip() for t in (arg or "").split(",")):
            if not tok:
                continue
            if tok.lower() in _SHORTHAND:
                k, v = _SHORTHAND[tok.lower()]
                kwargs[k] = v
                continue
            k, sep, v = tok.partition("=")
            k = k.strip()
            if not sep or k not in types or k in ("left", "right"):
                raise SourceError(
                    f"synthetic source: {tok!r} is not understood (use rear/side/left/right or a runner setting=value)"
                )
            cur = getattr(defaults, k)  # k is a user-given RunnerParams field name, checked above
            try:
                if isinstance(cur, bool):
                    kwargs[k] = v.strip().lower() in ("1", "true", "yes", "on")
                elif isinstance(cur, int):
                    kwargs[k] = int(v)
                elif isinstance(cur, float) or cur is None:
                    kwargs[k] = float(v)
                else:
                    kwargs[k] = v.strip()
            except ValueError:
                raise SourceError(f"synthetic source: {k}={v!r} is not a number") from None
        try:
            params = RunnerParams(**kwargs)
        except ValueError as exc:
            raise SourceError(f"synthetic source: {exc}") from None
        cam = cfg.camera if cfg is not None else None
        size = (cam.width, cam.height) if cam else None
        fps = (cam.fps or None) if cam and "fps" not in kwargs else None  # 0 = auto: the runner's own rate
        if "ground_y_px" not in kwargs:
            # the station's demo stands on the live page's "Belt here" line, not below it
            height = size[1] if size else params.height
            params = params.with_(ground_y_px=(1.0 - GUIDE_BELT_FROM_BOTTOM) * height)
        return cls(params, realtime=True, size=size, fps=fps)

    @property
    def size(self) -> tuple[int, int]:
        return (int(self.params.width), int(self.params.height))

    @property
    def nominal_fps(self) -> float:
        return float(self.params.fps)

    def open(self) -> None:
        from device.synthetic.render import RunnerRenderer

        if self._renderer is None:
            self._renderer = RunnerRenderer(self.runner)
            w, h = self.size
            self._canvas = np.empty((h, w, 3), np.uint8)
        self._t_start = time.monotonic()
        self._next = 0
        self._open = True

    def read(self) -> Frame | None:
        if not self._open:
            raise SourceError("synthetic source: read before open (use 'with source:')")
        fps = self.params.fps
        index = self._next
        if self.realtime:
            due = self._t_start + index / fps
            now = time.monotonic()
            if now < due:
                time.sleep(due - now)
            else:
                # a slow reader gets the frame for now; the ones in between are dropped
                index = max(index, int(math.floor((now - self._t_start) * fps)))
        t = self.params.t0 + index / fps
        if self.duration_s is not None and t - self.params.t0 >= self.duration_s:
            return None
        self._next = index + 1
        assert self._canvas is not None
        self._renderer.render(t, out=self._canvas)
        return Frame(self._canvas.copy(), t, index)

    def close(self) -> None:
        self._open = False
