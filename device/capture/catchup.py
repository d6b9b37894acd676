"""The catch-up: after a capture, infer every spooled frame the live view did not, on all cores.

The frames still to do are split into one contiguous run per estimator, each on its own
thread (the runtime releases the GIL while it infers, so N estimators use N cores); every run
starts with a fresh crop state and then follows the runner frame by frame, as live. Keypoints
go through the same pose path as live (:func:`device.pose.pipeline.estimate_image`) to the
store, so a kill -9 half-way keeps what was done and a restart does only the rest.

Progress (frames done, frames to do) is reported as it goes, for the dashboard.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from device.capture.pose_spool import PoseSpool, SpoolEntry
from device.pose.base import PoseEstimator, new_keypoint_buffer
from device.pose.pipeline import ModelImage, estimate_image
from device.store import KeypointWriter

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]


class CatchUpCancelled(Exception):
    """The catch-up was stopped before its end (the station is shutting down): the frames done
    are stored, the rest are still in the spool for the next start."""


@dataclass(frozen=True)
class CatchUpResult:
    frames_total: int  # frames in the spool
    frames_inferred: int  # inferred now (the rest were inferred live or before a restart)
    seconds: float
    workers: int


def split_runs(entries: Sequence[SpoolEntry], n: int) -> list[list[SpoolEntry]]:
    """``entries`` cut into at most ``n`` contiguous runs of near-equal length."""
    n = max(1, min(n, len(entries)))
    size, extra = divmod(len(entries), n)
    runs, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        if end > start:
            runs.append(list(entries[start:end]))
        start = end
    return runs


class CatchUp:
    """Infers the frames of ``spool`` whose index is not in ``done`` into ``writer``."""

    def __init__(
        self,
        spool: PoseSpool,
        done: set[int],
        estimators: Sequence[PoseEstimator],
        writer: KeypointWriter,
        min_score: float,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        if not estimators:
            raise ValueError("the catch-up needs at least one estimator")
        self.spool = spool
        self.todo = [e for e in spool.entries if e.index not in done]
        self.estimators = list(estimators)
        self.writer = writer
        self.min_score = min_score
        self._on_progress = on_progress
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self.done = 0
        self.errors: list[str] = []

    @property
    def total(self) -> int:
        return len(self.todo)

    def cancel(self) -> None:
        self._cancel.set()

    def run(self) -> CatchUpResult:
        t_start = time.monotonic()
        runs = split_runs(self.todo, len(self.estimators))
        threads = [
            threading.Thread(target=self._work, args=(est, run), name=f"catch-up-{i}", daemon=True)
            for i, (est, run) in enumerate(zip(self.estimators, runs, strict=False))
        ]
        self._progress(0)
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if self._cancel.is_set():
            raise CatchUpCancelled(f"catch-up stopped after {self.done} of {self.total} frames")
        if self.errors:
            raise RuntimeError(f"catch-up inference failed: {self.errors[0]}")
        seconds = time.monotonic() - t_start
        log.info(
            "catch-up: %d of %d spooled frames inferred in %.1f s on %d thread(s)",
            self.done,
            len(self.spool),
            seconds,
            len(threads),
        )
        return CatchUpResult(len(self.spool), self.done, seconds, len(threads))

    def _work(self, estimator: PoseEstimator, run: list[SpoolEntry]) -> None:
        buf = new_keypoint_buffer()
        try:
            estimator.reset()
            for entry, image in self.spool.images(run):
                if self._cancel.is_set():
                    return
                kp = estimate_image(estimator, ModelImage(image, entry.scale), buf, self.min_score)
                self.writer.append(entry.t, kp.copy(), entry.index)
                with self._lock:
                    self.done += 1
                    done = self.done
                self._progress(done)
        except Exception as exc:
            log.exception("catch-up worker failed")
            self.errors.append(f"{type(exc).__name__}: {exc}")

    def _progress(self, done: int) -> None:
        # The count taken under the lock: workers report out of order, never a stale count late.
        if self._on_progress is not None:
            self._on_progress(done, self.total)
