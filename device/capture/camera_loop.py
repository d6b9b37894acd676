"""One camera loop, used by the side and the rear camera: read every frame, hand it on.

The loop owns its frame source: it opens it (again after a failure, every
:data:`SOURCE_RETRY_S`; the log says once that the camera is not available, not at every try,
and once that it is back), reads frames as fast as the camera delivers them and gives each one,
with the pose model's picture of it (:func:`device.pose.pipeline.model_image`), to its
``on_frame`` callback. Nothing slow happens on this thread — no inference — so a 120 fps
camera is read at 120 fps whatever the pose model's speed: the recorder spools the frame and
the live view takes the newest one when it is ready for it.

A finite source (a video file, the synthetic runner without real-time pacing) is played at its
own rate while nobody records (a preview, not a busy loop) and flat out while recording.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable

from device.camera.base import Frame, FrameSource
from device.errors import UserError
from device.pose.pipeline import ModelImage, model_image

log = logging.getLogger(__name__)

SOURCE_RETRY_S = 2.0

FrameCallback = Callable[[Frame, ModelImage], None]


class CameraLoop:
    """Reads one camera on its own thread.

    ``on_frame(frame, picture)`` is called for every frame (on the loop thread);
    ``on_error(message)`` when the camera fails or cannot be opened; ``on_end()`` when a finite
    source ends; ``on_open()`` after the source (re)opened.
    """

    def __init__(
        self,
        name: str,
        source_factory: Callable[[], FrameSource],
        on_frame: FrameCallback,
        *,
        model_side: int = 192,
        on_error: Callable[[str], None] | None = None,
        on_end: Callable[[], None] | None = None,
        on_open: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self._factory = source_factory
        self._on_frame = on_frame
        self._on_error = on_error
        self._on_end = on_end
        self._on_open = on_open
        self.model_side = int(model_side)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._source: FrameSource | None = None
        self._restart = False
        self.flat_out = False  # True while recording: a finite source is read as fast as it goes
        self.error: str | None = None
        self.frames_read = 0
        self.last_frame_wall: float | None = None
        self.beat = time.monotonic()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"camera-{self.name}", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._close_source()

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- what the controller asks ------------------------------------------------------------

    @property
    def source_ok(self) -> bool:
        return self._source is not None and self.error is None

    @property
    def is_live(self) -> bool:
        """True for a camera (frames come in real time); False for a file or paced-free source."""
        src = self._source
        return src is not None and src.is_live

    def restart_source(self) -> bool:
        """Start a finite source again from its beginning (a capture from a file covers the whole
        file). Returns False for a live camera (nothing to restart)."""
        src = self._source
        if src is None or src.is_live:
            return False
        self._restart = True
        return True

    # -- the loop ------------------------------------------------------------------------------

    def _open(self) -> bool:
        try:
            src = self._factory()
            src.open()
        except Exception as exc:
            msg = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
            if msg != self.error:
                log.error("camera %s: %s", self.name, msg)
            self.error = msg
            if self._on_error is not None:
                self._on_error(msg)
            return False
        self._source = src
        if self.error is not None:  # said once when it went, once when it is back
            log.warning("camera %s: available again (%s)", self.name, src.name)
        self.error = None
        if self._on_open is not None:
            self._on_open()
        return True

    def _close_source(self) -> None:
        src, self._source = self._source, None
        if src is not None:
            with contextlib.suppress(Exception):
                src.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.beat = time.monotonic()
            if self._restart:
                self._restart = False
                self._close_source()
            if self._source is None and not self._open():
                self._stop.wait(SOURCE_RETRY_S)
                continue
            src = self._source
            if src is None:
                continue
            try:
                frame = src.read()
            except Exception as exc:
                msg = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
                log.error("camera %s failed: %s", self.name, msg)
                self.error = msg
                self._close_source()
                if self._on_error is not None:
                    self._on_error(f"camera failed: {msg}")
                self._stop.wait(0.2)
                continue
            if frame is None:
                self._close_source()
                if self._on_end is not None:
                    self._on_end()
                self._stop.wait(0.2)
                continue
            self.frames_read += 1
            self.last_frame_wall = time.monotonic()
            if not self.flat_out and not src.is_live:
                # Not recording from a file/synthetic source: play it at its own rate.
                self._stop.wait(1.0 / max(1.0, src.nominal_fps))
            try:
                self._on_frame(frame, model_image(frame, self.model_side))
            except Exception:
                log.exception("camera %s: frame %d not handled", self.name, frame.index)
