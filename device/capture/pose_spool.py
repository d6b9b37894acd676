"""The pose spool: every captured frame's sensor time and the model's picture of it, on disk.

The live loop infers only the frames it keeps up with; the pose spool holds *all* of them so
the catch-up can infer the rest after the capture. One append-only file per camera and
session, a plain sequence of records::

    file header   b"GAITPOSE1\\n" + one JSON line (frame size, model picture size, fps)
    record        32-byte header  <4s q d f f I> = b"FRM1", frame index, t (s), sx, sy, n
                  n bytes         JPEG of the model picture (about 240 px high)

Every record is self-describing, so a file cut short by kill -9 or a power cut reads back up
to its last whole record (:func:`read_pose_spool`); nothing else (no index file) has to
survive. The header is synced when the file is made; one torn all the same makes the file
unreadable (:class:`UnreadablePoseSpool`): none of its frames can be found.

Size: a 426×240 JPEG at quality 90 is ~15–25 kB, so 120 fps writes ~2–3 MB/s
(``bench/bench_capture.py`` prints the measured figure).

Encoding happens in the caller (cv2 releases the GIL); a writer thread does the disk writes so
an SD card's hiccup never stalls the camera. Its queue is bounded (:data:`QUEUE_RECORDS` small
JPEGs, ~10 MB): when it is full the camera thread waits, and the camera itself then drops
frames — which the camera loop counts as a sensor-clock gap. A spool never silently loses a
frame.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import logging
import os
import queue
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from device.store.writer import is_disk_full

log = logging.getLogger(__name__)

MAGIC = b"GAITPOSE1\n"
_REC = struct.Struct("<4sqdffI")
_REC_MAGIC = b"FRM1"
QUEUE_RECORDS = 480  # ~4 s at 120 fps, ~10 MB of small JPEGs
JPEG_QUALITY = 90
_MAX_RECORD = 16 << 20  # sanity bound on one record (a damaged length field)


@dataclass(frozen=True, slots=True)
class SpoolEntry:
    """Where one frame is in a pose spool file."""

    index: int
    t: float
    scale: tuple[float, float]
    offset: int
    length: int


class PoseSpoolWriter:
    """Appends frames to one pose spool file (one camera, one session)."""

    def __init__(self, path: str | Path, meta: dict[str, object], quality: int = JPEG_QUALITY) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.quality = int(quality)
        self._fh: BinaryIO = open(self.path, "wb")  # noqa: SIM115 - held open for the capture
        try:
            self._fh.write(MAGIC + json.dumps(meta).encode() + b"\n")
            self._fh.flush()
            # on the card, not only in the OS's hands: a power cut leaves the header whole
            os.fsync(self._fh.fileno())
        except OSError:
            with contextlib.suppress(OSError):  # closing flushes again, and fails again
                self._fh.close()  # the caller is told (disk full): no file handle left behind
            raise
        self._q: queue.Queue[bytes | None] = queue.Queue(QUEUE_RECORDS)
        self.frames = 0  # records handed to the writer
        self.written = 0  # records on disk
        self.bytes = 0
        self.waits = 0  # times the camera thread waited for the disk
        self.error: str | None = None
        self.disk_full = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"pose-spool-{self.path.stem}", daemon=True)
        self._thread.start()

    def put(self, index: int, t: float, image: np.ndarray, scale: tuple[float, float]) -> bool:
        """Encode and queue one frame; blocks while the disk is behind. False once the spool
        failed (disk full): the caller stops the capture."""
        if self.error is not None or self._closed:
            return False
        import cv2

        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            self.error = f"frame {index}: JPEG encoding failed"
            return False
        data = buf.tobytes()
        record = (
            _REC.pack(_REC_MAGIC, int(index), float(t), float(scale[0]), float(scale[1]), len(data)) + data
        )
        try:
            self._q.put_nowait(record)
        except queue.Full:
            self.waits += 1
            self._q.put(record)
        self.frames += 1
        return True

    def _run(self) -> None:
        while True:
            item = self._q.get()
            batch = [item]
            with contextlib.suppress(queue.Empty):
                while len(batch) < 64:
                    batch.append(self._q.get_nowait())
            end = None in batch
            records = [b for b in batch if b is not None]
            if records and self.error is None:
                try:
                    self._fh.write(b"".join(records))
                    self._fh.flush()  # in the OS's hands: survives kill -9
                    self.written += len(records)
                    self.bytes += sum(len(r) for r in records)
                except (OSError, ValueError) as exc:
                    self.disk_full = isinstance(exc, OSError) and is_disk_full(exc)
                    self.error = f"pose spool {self.path.name}: {exc}"
                    log.error("%s", self.error)
            if end:
                return

    def close(self) -> None:
        """Write what is queued and close the file (blocks until done; safe to call twice)."""
        if not self._closed:
            self._closed = True
            self._q.put(None)
            self._thread.join()
            with contextlib.suppress(OSError):
                self._fh.close()


@dataclass
class PoseSpool:
    """A pose spool file read back: its header and where each whole frame record is."""

    path: Path
    meta: dict[str, object]
    entries: list[SpoolEntry]

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def frame_size(self) -> tuple[int, int] | None:
        """(width, height) of the camera frames (the header's), None if it does not say."""
        w, h = self.meta.get("width"), self.meta.get("height")
        return (w, h) if isinstance(w, int) and isinstance(h, int) else None

    def nearest(self, frame_index: int) -> int | None:
        """The spooled frame number closest to ``frame_index`` (None if the spool is empty)."""
        if not self.entries:
            return None
        idx = [e.index for e in self.entries]
        i = bisect.bisect_left(idx, frame_index)
        cands = [idx[j] for j in (i - 1, i) if 0 <= j < len(idx)]
        return min(cands, key=lambda f: abs(f - frame_index))

    def read(self, frame_index: int) -> tuple[bytes, float] | None:
        """(JPEG bytes, scale from full-frame pixels to JPEG pixels) of a spooled frame."""
        for e in self.entries:
            if e.index == frame_index:
                with open(self.path, "rb") as fh:
                    fh.seek(e.offset)
                    return fh.read(e.length), 1.0 / e.scale[0]
        return None

    def images(self, entries: list[SpoolEntry]) -> Iterator[tuple[SpoolEntry, np.ndarray]]:
        """Decoded (BGR) model pictures of ``entries``, in the order given."""
        import cv2

        with open(self.path, "rb") as fh:
            for e in entries:
                fh.seek(e.offset)
                data = np.frombuffer(fh.read(e.length), np.uint8)
                img = cv2.imdecode(data, cv2.IMREAD_COLOR)
                if img is None:
                    log.warning("%s: frame %d does not decode; skipped", self.path.name, e.index)
                    continue
                yield e, img


class UnreadablePoseSpool(ValueError):
    """A pose spool whose file header cannot be read (empty or torn by a power cut, or not a
    pose spool at all): none of its frames can be found."""


def read_pose_spool(path: str | Path) -> PoseSpool:
    """Read a pose spool's index. A record cut short (crash while writing) ends the read; a
    header that cannot be read raises :class:`UnreadablePoseSpool`."""
    p = Path(path)
    entries: list[SpoolEntry] = []
    with open(p, "rb") as fh:
        magic = fh.read(len(MAGIC))
        if not magic:
            raise UnreadablePoseSpool(f"pose spool {p.name} is empty")
        if magic != MAGIC and not MAGIC.startswith(magic):
            raise UnreadablePoseSpool(f"{p.name} is not a pose spool file")
        try:
            meta = json.loads(fh.readline() or b"{}") if magic == MAGIC else None
        except ValueError:  # JSONDecodeError, or bytes that are not UTF-8
            meta = None
        if not isinstance(meta, dict):
            raise UnreadablePoseSpool(f"pose spool {p.name} has a torn header")
        size = p.stat().st_size
        offset = fh.tell()
        while offset + _REC.size <= size:
            fh.seek(offset)
            head = fh.read(_REC.size)
            magic, index, t, sx, sy, n = _REC.unpack(head)
            if magic != _REC_MAGIC or n > _MAX_RECORD or offset + _REC.size + n > size:
                break
            entries.append(
                SpoolEntry(int(index), float(t), (float(sx), float(sy)), offset + _REC.size, int(n))
            )
            offset += _REC.size + n
    return PoseSpool(p, meta, entries)
