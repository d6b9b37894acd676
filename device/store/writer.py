"""Background keypoint writer: the live loop hands over keypoints, a thread commits them in batches.

The per-frame path only appends to an in-memory list under a short lock (no database work);
every ``interval_s`` the writer thread commits what accumulated as one compact row. A power cut
therefore loses at most about one interval of keypoints, and the database never slows the camera.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

import numpy as np

from device.store.db import Store

log = logging.getLogger(__name__)


class KeypointWriter:
    """Commits one session's keypoints to the store in ~``interval_s`` batches from its own thread."""

    def __init__(self, store: Store, session_id: int, camera: str = "main", interval_s: float = 1.0) -> None:
        self.store = store
        self.session_id = session_id
        self.camera = camera
        self.interval_s = interval_s
        self._pending: list[tuple[float, int, np.ndarray]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self.appended = 0
        self.written = 0
        self.batches = 0
        self.error: str | None = None
        self.disk_full = False
        self._thread = threading.Thread(
            target=self._run, name=f"kp-writer-{session_id}-{camera}", daemon=True
        )
        self._thread.start()

    def append(self, t: float, keypoints: np.ndarray, frame: int) -> None:
        """Queue one frame's (17,3) keypoints. Cheap and non-blocking: safe on the per-frame path."""
        with self._lock:
            self._pending.append((t, frame, keypoints))
            self.appended += 1

    def _take(self) -> list[tuple[float, int, np.ndarray]]:
        with self._lock:
            batch, self._pending = self._pending, []
        return batch

    def _write(self, batch: list[tuple[float, int, np.ndarray]]) -> None:
        if not batch:
            return
        t = np.fromiter((b[0] for b in batch), np.float64, len(batch))
        fr = np.fromiter((b[1] for b in batch), np.int64, len(batch))
        kp = np.stack([b[2] for b in batch]).astype(np.float32, copy=False)
        try:
            self.store.append_keypoints(self.session_id, t, kp, fr, camera=self.camera)
        except sqlite3.IntegrityError as exc:  # the session was deleted meanwhile: nothing to keep
            self.error = str(exc)
            log.warning(
                "session %s: deleted while recording; %d keypoint frames dropped", self.session_id, len(batch)
            )
            return
        except Exception as exc:  # the disk or DB failing must not kill the capture; retry next round
            self.error = str(exc)
            if is_disk_full(exc):
                self.disk_full = True  # the capture controller ends the session (keeps what is stored)
            log.error("session %s: writing keypoints failed (%s); will retry", self.session_id, exc)
            with self._lock:
                self._pending[:0] = batch
            return
        self.written += len(batch)
        self.batches += 1

    def _run(self) -> None:
        try:
            while True:
                self._wake.wait(self.interval_s)
                self._wake.clear()
                stopping = self._stopping
                self._write(self._take())
                if stopping:
                    return
        finally:
            self.store.release_thread()

    def flush(self) -> None:
        """Write everything appended so far (synchronously, from the caller's thread)."""
        self._write(self._take())

    def close(self, timeout: float = 30.0) -> int:
        """Write what is left and stop the thread. Returns how many frames were written in total."""
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout)
        self.flush()  # anything appended after the thread's last take, or left by a failed write
        return self.written


def is_disk_full(exc: BaseException) -> bool:
    """SQLite's ``SQLITE_FULL`` ("database or disk is full") or an OS ``ENOSPC``/``EDQUOT``."""
    import errno

    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if isinstance(exc, sqlite3.Error):
        # getattr: only errors raised by the sqlite3 module carry the code; one raised by hand has none
        code = getattr(exc, "sqlite_errorcode", None)
        return code == sqlite3.SQLITE_FULL or "database or disk is full" in str(exc)
    return False
