"""Frame spool: every recorded frame as a small JPEG in one temporary file, for evidence frames.

The analysis decides which frames are evidence (landing, push-off …) only after the capture.
Rather than keep two minutes of full frames in memory, an encoder thread appends a downscaled
JPEG of each recorded frame to a spool file and remembers its offset; after the analysis the
chosen frames are read back and the spool is deleted (or kept as the session's MJPEG video
when recording is on: the file is a plain concatenation of JPEGs, which ffmpeg reads as
``-f mjpeg``). If the encoder falls behind, frames are skipped (never queued without bound):
evidence then uses the nearest spooled frame.

Each frame's place is also appended to a sidecar beside the spool (``session-N.mjpeg.spans``,
one line ``frame offset length scale``), so a spool a crash or power cut interrupted is read
back by :meth:`SpooledFrames.recover` and the restart's analysis gets its evidence frames and
video all the same. Kept as a video, the spool's index is the ``.idx`` JSON and the sidecar goes.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import logging
import os
import queue
import threading
from pathlib import Path
from typing import BinaryIO

import numpy as np

log = logging.getLogger(__name__)

SPOOL_MAX_WIDTH = 800  # evidence frames in the report are printed about 8 cm wide
_QUEUE_FRAMES = 6  # bounded: 6 full frames of 1280×720 are ~17 MB
_SOI, _EOI = b"\xff\xd8", b"\xff\xd9"  # a JPEG's first and last two bytes


def spans_path(path: str | Path) -> Path:
    """The sidecar of the spool at ``path``: where each of its frames is."""
    return Path(str(path) + ".spans")


def delete_spool(path: str | Path) -> None:
    """Delete the spool at ``path`` and its sidecar (either may be missing)."""
    for p in (Path(path), spans_path(path)):
        with contextlib.suppress(OSError):
            p.unlink()


class SpooledFrames:
    """The JPEGs of one spool file by source frame number: read back for evidence, then kept as
    the session's video or deleted. A recovered spool (:meth:`recover`) is one of these; the
    spool being written during a capture is a :class:`FrameSpool`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._frames: list[int] = []  # sorted frame numbers (frames arrive in order)
        self._spans: list[tuple[int, int]] = []  # (offset, length) per frame
        self._scale: dict[int, float] = {}
        self._lock = threading.Lock()
        self.bytes = 0

    @classmethod
    def recover(cls, path: str | Path) -> SpooledFrames | None:
        """The spool a crash left at ``path``, indexed from its sidecar; None without the spool.

        A torn line, a span past the end of the file (the OS had not written it) or one that
        is not a whole JPEG is left out, and the file is cut after the last frame kept."""
        spooled = cls(Path(path))
        if not spooled.path.is_file():
            return None
        try:
            left_out = spooled._index_from_sidecar()
        except OSError as exc:
            log.warning(
                "frame spool %s not recovered (%s): no video, evidence from the pose spool", path, exc
            )
            return cls(Path(path))  # empty: the finisher deletes it
        if left_out:
            log.warning(
                "frame spool %s: %d frame(s) recovered, %d cut short and left out",
                path,
                len(spooled),
                left_out,
            )
        return spooled

    def _index_from_sidecar(self) -> int:
        """Index the frames the sidecar lists; returns how many lines were left out."""
        size = self.path.stat().st_size
        left_out = 0
        with open(self.path, "rb") as fh:
            for line in spans_path(self.path).read_bytes().splitlines():
                span = _parse_span(line, size)
                if span is None or not self._follows(span[0]) or not _is_jpeg(fh, span[1], span[2]):
                    left_out += 1
                    continue
                self._add(*span)
        end = sum(self._spans[-1]) if self._spans else 0
        if end < size:  # a frame the crash cut short: the kept video stays a stream of whole JPEGs
            os.truncate(self.path, end)
        return left_out

    def _follows(self, frame_index: int) -> bool:
        return not self._frames or frame_index > self._frames[-1]

    def _add(self, frame_index: int, offset: int, length: int, scale: float) -> None:
        with self._lock:
            self._frames.append(frame_index)
            self._spans.append((offset, length))
            self._scale[frame_index] = scale
            self.bytes += length

    def finish(self) -> None:
        """Nothing is being written to a recovered spool."""

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
        # on the disk before the store names it (the session's video_path): a power cut in the
        # next seconds must not leave a stored session with a torn video or an empty index
        _fsync(self.path)
        idx = Path(str(dest) + ".idx")
        tmp = idx.with_name(idx.name + ".tmp")
        tmp.write_text(json.dumps({"frames": self._frames, "spans": self._spans}), encoding="utf-8")
        _fsync(tmp)
        self.path.replace(dest)
        tmp.replace(idx)
        with contextlib.suppress(OSError):
            spans_path(self.path).unlink()  # the .idx replaces it
        self.path = dest
        return dest

    def delete(self) -> None:
        self.finish()
        delete_spool(self.path)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _parse_span(line: bytes, size: int) -> tuple[int, int, int, float] | None:
    """(frame, offset, length, scale) of a sidecar line, None if torn or past ``size``."""
    try:
        frame, offset, length, scale = line.split()
        span = (int(frame), int(offset), int(length), float(scale))
    except ValueError:
        return None
    _, start, n, sc = span
    return span if start >= 0 and n >= 4 and start + n <= size and 0 < sc <= 1 else None


def _is_jpeg(fh: BinaryIO, offset: int, length: int) -> bool:
    """The span starts and ends as a JPEG does (not a hole a power cut left)."""
    fh.seek(offset)
    head = fh.read(2)
    fh.seek(offset + length - 2)
    return head == _SOI and fh.read(2) == _EOI


class FrameSpool(SpooledFrames):
    """Append-only JPEG spool of one capture, indexed by source frame number."""

    def __init__(self, path: str | Path, quality: int = 85, max_width: int = SPOOL_MAX_WIDTH) -> None:
        super().__init__(Path(path))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.quality = int(quality)
        self.max_width = int(max_width)
        self._fh = open(self.path, "wb")  # noqa: SIM115 - held open for the capture
        self._sidecar = open(spans_path(self.path), "w", encoding="ascii")  # noqa: SIM115 - likewise
        self._q: queue.Queue[tuple[int, np.ndarray] | None] = queue.Queue(_QUEUE_FRAMES)
        self.skipped = 0
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
                self._sidecar.write(f"{idx} {offset} {len(data)} {scale!r}\n")
                # In the OS's hands (a kill loses nothing); no fsync: a power cut may lose the
                # last seconds, which recover() leaves out.
                self._fh.flush()
                self._sidecar.flush()
            except (OSError, ValueError) as exc:  # disk full: evidence is optional, the capture goes on
                log.warning("frame spool %s: %s", self.path, exc)
                self.skipped += 1
                continue
            self._add(idx, offset, len(data), scale)

    def finish(self) -> None:
        """Encode what is queued and close the file for writing (blocks until done)."""
        if self._thread.is_alive():
            self._q.put(None)
            self._thread.join()
        for fh in (self._fh, self._sidecar):
            with contextlib.suppress(OSError):
                fh.close()


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
