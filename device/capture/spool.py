"""Frame spool: every recorded frame as a small JPEG in one temporary file, for evidence frames.

The analysis decides which frames are evidence (landing, push-off …) only after the capture.
Rather than keep two minutes of full frames in memory, an encoder thread appends a downscaled
JPEG of each recorded frame to a spool file and remembers its offset; after the analysis the
chosen frames are read back and the spool is deleted (or kept as the session's MJPEG video
when recording is on: the file is a plain concatenation of JPEGs, which ffmpeg reads as
``-f mjpeg``). If the encoder falls behind, frames are skipped (never queued without bound):
evidence then uses the nearest spooled frame.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import logging
import queue
import threading
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

SPOOL_MAX_WIDTH = 800  # evidence frames in the report are printed about 8 cm wide
_QUEUE_FRAMES = 6  # bounded: 6 full frames of 1280×720 are ~17 MB


class FrameSpool:
    """Append-only JPEG spool of one capture, indexed by source frame number."""

    def __init__(self, path: str | Path, quality: int = 85, max_width: int = SPOOL_MAX_WIDTH) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.quality = int(quality)
        self.max_width = int(max_width)
        self._fh = open(self.path, "wb")  # noqa: SIM115 - held open for the capture
        self._frames: list[int] = []  # sorted frame numbers (frames arrive in order)
        self._spans: list[tuple[int, int]] = []  # (offset, length) per frame
        self._scale: dict[int, float] = {}
        self._q: queue.Queue[tuple[int, np.ndarray] | None] = queue.Queue(_QUEUE_FRAMES)
        self._lock = threading.Lock()
        self.skipped = 0
        self.bytes = 0
        self._thread = threading.Thread(target=self._run, name=f"spool-{self.path.stem}", daemon=True)
        self._thread.start()

    def put(self, frame_index: int, image: np.ndarray) -> None:
        """Offer a frame (non-blocking: skipped when the encoder is behind)."""
        try:
            self._q.put_nowait((frame_index, image))
        except queue.Full:
            self.skipped += 1

    def _run(self) -> None:
        import cv2

        params = [cv2.IMWRITE_JPEG_QUALITY, self.quality]
        while True:
            item = self._q.get()
            if item is None:
                return
            idx, img = item
            h, w = img.shape[:2]
            scale = 1.0
            if w > self.max_width:
                scale = self.max_width / w
                # Linear: 1 ms for 1280×720 → 800×450 where INTER_AREA (a non-integer ratio) takes
                # 5 ms here; at 30 frames a second that was the capture path's largest cost.
                img = cv2.resize(img, (self.max_width, round(h * scale)), interpolation=cv2.INTER_LINEAR)
            ok, buf = cv2.imencode(".jpg", img, params)
            if not ok:
                self.skipped += 1
                continue
            data = buf.tobytes()
            try:
                offset = self._fh.tell()
                self._fh.write(data)
            except (OSError, ValueError) as exc:  # disk full: evidence is optional, the capture goes on
                log.warning("frame spool %s: %s", self.path, exc)
                self.skipped += 1
                continue
            with self._lock:
                self._frames.append(idx)
                self._spans.append((offset, len(data)))
                self._scale[idx] = scale
                self.bytes += len(data)

    def finish(self) -> None:
        """Encode what is queued and close the file for writing (blocks until done)."""
        if self._thread.is_alive():
            self._q.put(None)
            self._thread.join()
        with contextlib.suppress(OSError):
            self._fh.close()

    def __len__(self) -> int:
        return len(self._frames)

    def nearest(self, frame_index: int) -> int | None:
        """The spooled frame number closest to ``frame_index`` (None if the spool is empty)."""
        with self._lock:
            if not self._frames:
                return None
            i = bisect.bisect_left(self._frames, frame_index)
            cands = [self._frames[j] for j in (i - 1, i) if 0 <= j < len(self._frames)]
        return min(cands, key=lambda f: abs(f - frame_index))

    def read(self, frame_index: int) -> tuple[bytes, float] | None:
        """(JPEG bytes, scale from full-frame pixels to JPEG pixels) of a spooled frame."""
        with self._lock:
            i = bisect.bisect_left(self._frames, frame_index)
            if i >= len(self._frames) or self._frames[i] != frame_index:
                return None
            offset, length = self._spans[i]
            scale = self._scale[frame_index]
        with open(self.path, "rb") as fh:
            fh.seek(offset)
            return fh.read(length), scale

    def keep_as_video(self, path: str | Path) -> Path:
        """Move the spool to ``path`` (an MJPEG stream) with an index of frame → byte span."""
        self.finish()
        dest = Path(path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        self.path.replace(dest)
        self.path = dest
        index = {"frames": self._frames, "spans": self._spans}
        Path(str(dest) + ".idx").write_text(json.dumps(index), encoding="utf-8")
        return dest

    def delete(self) -> None:
        self.finish()
        with contextlib.suppress(OSError):
            self.path.unlink()


class SpooledVideo:
    """A session video kept by :meth:`FrameSpool.keep_as_video` (``session["video_path"]``),
    read back frame by frame: the ``.idx`` beside it lists each frame's number and byte span.

    ``frames`` are the source frame numbers (the keypoints' ``frame`` column) in order;
    :meth:`read` gives one frame's JPEG. A video without its index reads as empty.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            index = json.loads(Path(str(self.path) + ".idx").read_text(encoding="utf-8"))
            frames = [int(f) for f in index["frames"]]
            spans = [(int(o), int(n)) for o, n in index["spans"]]
        except (OSError, ValueError, KeyError, TypeError):
            frames, spans = [], []
        self.frames: list[int] = frames if len(frames) == len(spans) else []
        self._spans = spans if self.frames else []

    def __len__(self) -> int:
        return len(self.frames)

    def nearest(self, frame_index: int) -> int | None:
        """The stored frame number closest to ``frame_index`` (None for an empty video)."""
        if not self.frames:
            return None
        i = bisect.bisect_left(self.frames, frame_index)
        cands = [self.frames[j] for j in (i - 1, i) if 0 <= j < len(self.frames)]
        return min(cands, key=lambda f: abs(f - frame_index))

    def read(self, frame_index: int) -> bytes | None:
        """The JPEG of stored frame ``frame_index`` (None when that frame is not in the video)."""
        i = bisect.bisect_left(self.frames, frame_index)
        if i >= len(self.frames) or self.frames[i] != frame_index:
            return None
        offset, length = self._spans[i]
        with open(self.path, "rb") as fh:
            fh.seek(offset)
            data = fh.read(length)
        return data if len(data) == length else None
