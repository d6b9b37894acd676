"""The capture controller: the station's state machine, composing the capture's parts.

States: see :class:`device.capture.states.StationState`. Buttons (GPIO), the dashboard and the
API call :meth:`start_capture`, :meth:`stop_capture` and :meth:`cancel_capture` from any
thread; a start while busy or a second stop is ignored and logged (``None``/``False``), never
an error that crashes a caller. Of simultaneous starts exactly one wins: the state changes
under the same lock that checks it.

The parts, each owning its state:

- :class:`~device.capture.camera_loop.CameraLoop` reads every camera frame (no inference);
- :class:`~device.capture.recorder.Recorder` (one per capture) spools every frame and stores
  the live keypoints;
- :class:`~device.capture.live_pose.LivePose` infers the newest frame for the live view;
- :class:`~device.capture.finisher.SessionFinisher` runs the catch-up
  (:class:`~device.capture.catchup.CatchUp`), the analysis and the store writes;
- :class:`~device.capture.status.StatusHub` fans the status out to viewers;
- :class:`~device.capture.rear.RearCamera`, the optional second camera.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from types import EllipsisType
from typing import Any

import numpy as np

from device.camera import is_synthetic
from device.camera.base import Frame, FrameSource
from device.capture.camera_clock import CameraClock, RealTimeLimit
from device.capture.camera_loop import CameraLoop
from device.capture.finisher import Analyzer, Finished, FinishJob, SessionFinisher
from device.capture.live_pose import LivePose
from device.capture.rear import RearCamera, RearRecording
from device.capture.recorder import FrameOutcome, Recorder
from device.capture.request import CaptureRequest
from device.capture.spool import FrameSpool, SpooledFrames
from device.capture.states import CAN_START, SessionStatus, StationState
from device.capture.status import Status, StatusHub, Subscription
from device.config import Config, as_dict
from device.errors import DiskFullError, UserError
from device.gait.live import HINT_WORDS, Hint, merge_hints
from device.gait.norms import Norms
from device.pose.base import EstimatorFactory, PoseEstimator
from device.pose.pipeline import ModelImage
from device.store import KeypointWriter, Store

log = logging.getLogger(__name__)

IDLE, READY, CAPTURING, ANALYSING, DONE, FAILED = (
    StationState.IDLE,
    StationState.READY,
    StationState.CAPTURING,
    StationState.ANALYSING,
    StationState.DONE,
    StationState.FAILED,
)
STATES = tuple(StationState)

# After a catch-up is told to stop it finishes the frame in hand (well under a second on a Pi 4)
# and stores what it inferred. Its own bound, so a short close() still leaves it time to do that,
# and close(10) plus this stays inside systemd's TimeoutStopSec=20.
CANCEL_WAIT_S = 5.0

__all__ = ["CaptureController", "CaptureRequest", "Resume", "StationState", "Subscription"]


class Resume(Enum):
    """What :meth:`CaptureController.resume` did with an interrupted session."""

    STARTED = "started"  # being finished (analysing)
    NOTHING_SPOOLED = "nothing spooled"  # no pose spool: it stays interrupted with its keypoints
    BUSY = "busy"  # the station was capturing or analysing: nothing done, try again when free


@dataclass
class _Capture:
    """One capture in progress (from start until the finisher takes it over)."""

    session_id: int
    request: CaptureRequest
    recorder: Recorder
    evidence: FrameSpool
    awaiting_restart: bool  # a file source is being restarted: frames before that are old
    real_time: RealTimeLimit
    rear_spool: Path | None = None
    wall_start: float = field(default_factory=time.monotonic)


@dataclass
class _Progress:
    session_id: int
    done: int = 0
    total: int = 0
    started: float = field(default_factory=time.monotonic)


class _EstimatorPool:
    """Lends the catch-up the live estimator (live views paused) plus one more per core. The
    extra estimators are made once and kept (a runtime per session would cost its load time and,
    with LiteRT, threads that outlive it until garbage collection)."""

    def __init__(self, ctl: CaptureController) -> None:
        self._ctl = ctl
        self._extra: list[PoseEstimator] = []
        self._made = False

    def borrow(self) -> list[PoseEstimator]:
        ctl = self._ctl
        ctl.live.pause()
        if ctl.rear is not None:
            ctl.rear.live.pause()
        if not self._made and ctl.estimator_factory is not None:
            self._made = True
            for _ in range(max(0, ctl.catchup_workers - 1)):
                try:
                    self._extra.append(ctl.estimator_factory())
                except Exception:
                    log.exception("catch-up: an extra estimator could not be made; going on with fewer")
                    break
        return [ctl.live.estimator, *self._extra]

    def give_back(self, estimators: list[PoseEstimator]) -> None:
        ctl = self._ctl
        ctl.live.reset()
        ctl.live.resume()
        if ctl.rear is not None:
            ctl.rear.live.resume()

    def close(self) -> None:
        extra, self._extra = self._extra, []
        for est in extra:
            with contextlib.suppress(Exception):
                est.close()


class CaptureController:
    """The state machine and the hand-offs between the capture's parts.

    ``source_factory()`` returns a new (unopened) :class:`FrameSource`; it is called again after
    a camera failure. ``estimator`` is the live view's pose estimator; ``estimator_factory``
    makes more for the catch-up (one per core, ``catchup_workers``; without it the catch-up uses
    the live estimator alone). ``analyzer(timeline, RunnerInfo, view, norms, profile,
    warmup_s)`` returns an ``Analysis``. ``summary_formatter(session_dict) -> str`` makes the
    receipt text. ``on_state(state)`` and ``on_session_done(session_id, ok)`` are called from
    worker threads.
    """

    def __init__(
        self,
        cfg: Config,
        store: Store,
        source_factory: Callable[[], FrameSource],
        estimator: PoseEstimator,
        *,
        estimator_factory: EstimatorFactory | None = None,
        catchup_workers: int | None = None,
        analyzer: Analyzer | None = None,
        summary_formatter: Callable[[dict[str, Any]], str] | None = None,
        on_state: Callable[[str], None] | None = None,
        on_session_done: Callable[[int, bool], None] | None = None,
        spool_dir: str | Path | None = None,
        source_name: str = "",
        norms: Norms | None | EllipsisType = ...,
        rear: RearCamera | None = None,
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.estimator_factory = estimator_factory
        self.catchup_workers = int(catchup_workers or os.cpu_count() or 1)
        # ... = cfg.station.norms_file (or the packaged file), read when needed; None = the packaged file
        self._norms_value = norms
        self.rear = rear
        self._on_state = on_state
        self._on_session_done = on_session_done
        self.spool_dir = Path(spool_dir) if spool_dir else cfg.data_dir / "spool"
        self.source_name = source_name or cfg.camera.source
        self._lock = threading.RLock()
        self._state = StationState.IDLE
        self._message = "starting camera"
        self._armed: CaptureRequest | None = None
        self._capture: _Capture | None = None
        # A live camera's clock, checked on every frame, captured or not: a capture's first frame
        # is then judged like any other (believed for want of a last time, one stamped an hour
        # ahead made every true frame after it "backwards" and ended the capture with 1 frame)
        self._camera_clock = CameraClock()
        self._progress: _Progress | None = None
        self._stop = threading.Event()
        self._monitor: threading.Thread | None = None
        self._workers: list[threading.Thread] = []
        self._started = False
        self.last_result: dict[str, Any] | None = None  # {"session_id", "ok", "message"} of the last run
        self.last_session_id: int | None = None
        self._ended_at: float | None = None
        self._hints: list[Hint] = []
        self._hints_at = 0.0
        self.hub = StatusHub(self.status)
        self.live = LivePose(
            "side",
            estimator,
            cfg.pose.min_score,
            cfg.capture.live_preview_fps,
            on_keypoints=self._on_keypoints,
            on_tick=self._on_tick,
            on_error=self._on_pose_error,
        )
        self.camera = CameraLoop(
            "side",
            source_factory,
            self._on_frame,
            model_side=max(estimator.input_size) or 192,
            on_error=self._on_camera_error,
            on_end=self._on_source_end,
            on_open=self._on_camera_open,
        )
        self._pool = _EstimatorPool(self)
        self.finisher = SessionFinisher(
            cfg,
            store,
            self._pool,
            analyzer=analyzer,
            norms=self._norms,
            summary_formatter=summary_formatter,
            source_name=self.source_name,
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the camera, the live view and the stall monitor."""
        if self._started:
            return
        self._started = True
        self._stop.clear()
        self.live.start()
        self.camera.start()
        self._monitor = threading.Thread(target=self._watch, name="capture-monitor", daemon=True)
        self._monitor.start()
        if self.rear is not None:
            self.rear.start()

    def close(self, timeout: float = 10.0) -> None:
        """Stop; a capture in progress is stopped and analysed first. A catch-up still running
        after ``timeout`` is stopped between frames (given up to ``CANCEL_WAIT_S`` to store
        what it inferred) and left to the next start (its session and spools are kept as they
        are)."""
        with self._lock:
            cap = self._capture
        if cap is not None:
            self._finish(cap, "stop", "station shutting down")
        deadline = time.monotonic() + timeout
        for w in list(self._workers):
            w.join(max(0.0, deadline - time.monotonic()))
        if any(w.is_alive() for w in self._workers):
            self.finisher.shut_down()
            deadline = time.monotonic() + CANCEL_WAIT_S
            for w in list(self._workers):
                w.join(max(0.0, deadline - time.monotonic()))
        self._stop.set()
        self.camera.close(timeout)
        self.live.close(timeout)
        if self._monitor is not None:
            self._monitor.join(timeout)
        if self.rear is not None:
            self.rear.close()
        if not any(w.is_alive() for w in self._workers):
            self._pool.close()  # (an estimator still lent out is left to the process's end)
        self.hub.close()
        self._started = False

    # -- state -------------------------------------------------------------------------------

    @property
    def state(self) -> StationState:
        return self._state

    def _set_state(self, state: StationState, message: str | None = None) -> None:
        with self._lock:
            old = self._state
            self._state = state
            if message is not None:
                self._message = message
        if old != state:
            log.info("capture state %s -> %s%s", old, state, f" ({message})" if message else "")
        self._notify_state(state)

    def _notify_state(self, state: StationState) -> None:
        if self._on_state is not None:
            try:
                self._on_state(state)
            except Exception:
                log.exception("state listener failed")
        self.hub.publish()

    def arm(self, request: CaptureRequest | None = None) -> None:
        """Remember the next session's details (from the dashboard) so the start button can use them."""
        with self._lock:
            if self._state in (CAPTURING, ANALYSING):
                log.info("arm ignored: %s", self._state)
                return
            self._armed = request or CaptureRequest()
        self._set_state(READY, "ready: press start")

    def disarm(self) -> None:
        with self._lock:
            self._armed = None
            if self._state != READY:
                return
        self._set_state(IDLE, "")

    @property
    def current_session_id(self) -> int | None:
        """The session being captured (None when not capturing)."""
        cap = self._capture
        return cap.session_id if cap is not None else None

    @property
    def armed(self) -> CaptureRequest | None:
        return self._armed

    @property
    def frames_inferred_total(self) -> int:
        """Frames the live view inferred since the start (the live rate's numerator)."""
        return self.live.frames_inferred

    def wait_for_state(self, states: tuple[str, ...] | str, timeout: float = 30.0) -> str:
        """Block until the state is one of ``states`` (tests, CLI); returns the state reached."""
        if isinstance(states, str):
            states = (states,)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self._state in states:
                return self._state
            time.sleep(0.01)
        return self._state

    # -- commands ----------------------------------------------------------------------------

    def start_capture(self, request: CaptureRequest | None = None) -> int | None:
        """Start a capture for ``request`` (else the armed request, else an unnamed runner).

        Returns the new session id, or None when ignored (already capturing / analysing).
        Raises :class:`UserError` when the station cannot capture (disk full, camera down,
        unknown runner). The check and the change of state happen under one lock: of two
        simultaneous starts exactly one gets a session."""
        with self._lock:
            if self._state not in CAN_START:
                log.info("start ignored: %s", self._state)
                return None
            if self.camera.error is not None:
                # failed and not (yet) reopened: a start now would record nothing and fail
                raise UserError(f"camera not available: {self.camera.error}")
            self._check_disk()
            req = request or self._armed or CaptureRequest()
            if req.runner_id is not None:
                self.store.get_runner(req.runner_id)  # NotFoundError with a clear message
            sid = self.store.create_session(
                req.runner_id,
                req.speed_kmh,
                req.incline_pct,
                req.shoes,
                req.notes,
                req.view,
                self.source_name,
                as_dict(self.cfg),
            )
            try:
                evidence = FrameSpool(self.evidence_spool_path(sid), self.cfg.capture.evidence_jpeg_quality)
            except OSError as exc:
                self.store.delete_session(sid)
                raise UserError(f"cannot write to {self.spool_dir}: {exc.strerror}") from None
            recorder = Recorder(
                self.pose_spool_path(sid, "main"),
                KeypointWriter(self.store, sid),
                evidence=evidence,
                countdown_s=self.cfg.capture.countdown_s,
                duration_s=self.cfg.capture.duration_s,
                live_cadence=True,
                min_score=self.cfg.pose.min_score,
                # a file source starts again from its first frame: its own clock
                clock=self._camera_clock if self.camera.is_live else None,
            )
            cap = _Capture(
                sid,
                req,
                recorder,
                evidence,
                awaiting_restart=self.camera.restart_source(),
                real_time=RealTimeLimit(self.cfg.capture.duration_s, self.cfg.capture.countdown_s),
            )
            self._capture = cap
            self._armed = None
            self.last_session_id = sid
            self.camera.flat_out = True
            self._state = CAPTURING
            countdown = self.cfg.capture.countdown_s
            self._message = (
                f"session {sid}: starting in {countdown} s" if countdown else f"capturing session {sid}"
            )
        log.info("capture state -> capturing (session %d)", sid)
        self._notify_state(CAPTURING)
        if countdown:
            # controls show "countdown" (LED, beeps); the controller's state is already capturing
            self._notify_state(StationState.COUNTDOWN)
        return sid

    def pose_spool_path(self, session_id: int, camera: str) -> Path:
        return self.spool_dir / f"session-{session_id}-{camera}.pose"

    def evidence_spool_path(self, session_id: int) -> Path:
        return self.spool_dir / f"session-{session_id}.mjpeg"

    def _check_disk(self) -> None:
        need = self.cfg.storage.min_free_mb
        if need <= 0:
            return
        path = self.store.path.parent
        try:
            free_mb = shutil.disk_usage(path).free / 1e6
        except OSError as exc:
            raise UserError(f"cannot check free space on {path}: {exc.strerror}") from None
        if free_mb < need:
            raise DiskFullError(
                f"disk nearly full: {free_mb:.0f} MB free, need {need} MB to capture; "
                "delete old sessions or set a retention period"
            )

    def stop_capture(self, reason: str = "stop pressed") -> bool:
        """End the capture and analyse it. False (logged) when nothing is being captured."""
        with self._lock:
            cap = self._capture
        if cap is None:
            log.info("stop ignored (%s): %s", reason, self._state)
            return False
        return self._finish(cap, "stop", reason)

    def cancel_capture(self) -> bool:
        """Abandon the capture: the session and its keypoints are deleted (a false start)."""
        with self._lock:
            cap = self._capture
        if cap is None:
            log.info("cancel ignored: %s", self._state)
            return False
        return self._finish(cap, "cancel", "capture cancelled")

    def fail_capture(self, message: str) -> bool:
        with self._lock:
            cap = self._capture
        if cap is None:
            return False
        return self._finish(cap, "fail", message)

    def say(self, message: str) -> None:
        """Show ``message`` on the dashboard (e.g. a printer problem) without changing state."""
        with self._lock:
            self._message = message
        self.hub.publish()

    def resume(self, session_id: int) -> Resume:
        """Finish a session a restart interrupted: infer the spooled frames the store has no
        keypoints for, then analyse it, its evidence frames and video from the evidence spool
        recovered. Runs as an ``analysing`` phase: starts wait. Refused (:data:`Resume.BUSY`)
        while the station captures or analyses: its spools stay for a later try. Without a pose
        spool it stays ``interrupted`` with its keypoints (:data:`Resume.NOTHING_SPOOLED`), and
        an evidence spool with frames in it stays with it (deleted with the session)."""
        spools = {
            cam: self.pose_spool_path(session_id, cam)
            for cam in ("main", "rear")
            if self.pose_spool_path(session_id, cam).is_file()
        }
        if "main" not in spools:
            left = SpooledFrames.recover(self.evidence_spool_path(session_id))
            if left is not None and not len(left):
                left.delete()  # a crash in the countdown: an empty spool, nothing recorded
            return Resume.NOTHING_SPOOLED
        evidence = SpooledFrames.recover(self.evidence_spool_path(session_id))  # evidence and video as usual
        with self._lock:
            if self._state not in CAN_START:
                return Resume.BUSY
            self._state = ANALYSING
            self._message = f"finishing session {session_id} (interrupted by a restart)"
            self.last_session_id = session_id
        self._notify_state(ANALYSING)
        job = FinishJob(session_id, spools, evidence=evidence, has_rear="rear" in spools)
        self._spawn(job)
        return Resume.STARTED

    # -- ending a capture --------------------------------------------------------------------

    def _finish(self, cap: _Capture, outcome: str, message: str) -> bool:
        with self._lock:
            if self._capture is not cap:
                return False  # someone else (timer, second press) finished it first
            self._capture = None
            self.camera.flat_out = False
            if outcome == "stop" and not cap.recorder.began:
                outcome, message = "cancel", "stopped during the countdown: nothing recorded"
            if outcome == "stop":
                # at once, under the lock, so a start in the same instant is refused; a cancel
                # or failure changes state once its data is settled (session deleted / marked)
                self._state = ANALYSING
                self._message = f"analysing session {cap.session_id}"
        cap.recorder.close()
        log.info(
            "session %d: %s (%s)",
            cap.session_id,
            {"stop": "stopping", "cancel": "cancelling", "fail": "failing"}[outcome],
            message,
        )
        if outcome == "stop":
            self._notify_state(ANALYSING)
        w = threading.Thread(
            target=self._finalize,
            args=(cap, outcome, message),
            name=f"finalize-{cap.session_id}",
            daemon=True,
        )
        self._workers = [t for t in self._workers if t.is_alive()] + [w]
        w.start()
        return True

    def _capture_stats(self, cap: _Capture) -> dict[str, Any]:
        f = cap.recorder.figures()
        stats: dict[str, Any] = {
            "frames_captured": f.frames_spooled + f.frames_missed,
            "frames_inferred": cap.recorder.writer.written,
            "frames_dropped": f.frames_missed,
        }
        if f.width:
            stats.update(frame_width=f.width, frame_height=f.height)
        return stats

    def _finalize(self, cap: _Capture, outcome: str, message: str) -> None:
        sid = cap.session_id
        try:
            cap.recorder.writer.close()  # every live keypoint is in the store
            if outcome == "fail" and cap.recorder.disk_full and cap.recorder.began:
                # the close's last write may still have found room: say what is really kept
                message = self._spool_failure(cap)
            rear = self.rear.end() if self.rear is not None else RearRecording()
            spools = {"main": cap.recorder.spool_path}
            if rear.spool is not None:
                spools["rear"] = rear.spool
            job = FinishJob(
                sid,
                spools,
                evidence=cap.evidence,
                frames_missed=cap.recorder.figures().frames_missed,
                rear_error=rear.error,
                has_rear=self.rear is not None,
                stats=self._capture_stats(cap),
                warnings=cap.recorder.warnings() + rear.warnings,
            )
            if outcome == "cancel":
                cap.evidence.delete()
                SessionFinisher.delete_spools(job)
                self.store.delete_session(sid)
                with self._lock:
                    settle = self._capture is None and self._state == CAPTURING
                if settle:
                    self._set_state(IDLE, message)
                return
            if outcome == "fail" and (cap.recorder.disk_full or not cap.recorder.began):
                # nothing recorded, or no room to analyse: the keypoints stored so far stay
                cap.evidence.delete()
                SessionFinisher.delete_spools(job)
                self.store.set_status(sid, SessionStatus.FAILED, error=message, **job.stats)
                self._end(FAILED, message, sid, ok=False)
                return
            if outcome == "fail":
                # the camera failed mid-run: what it recorded is analysed, not thrown away
                job.ended_early = message
                self._set_state(ANALYSING, f"{message}: analysing what was recorded")
        except Exception as exc:
            log.exception("session %d: ending the capture failed", sid)
            with contextlib.suppress(Exception):
                self.store.set_status(sid, SessionStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
            self._end(FAILED, f"session {sid} failed: {exc}", sid, ok=False)
            return
        finally:
            self.store.release_thread()
        self._run_job(job)

    def _spawn(self, job: FinishJob) -> None:
        w = threading.Thread(target=self._run_job, args=(job,), name=f"finish-{job.session_id}", daemon=True)
        self._workers = [t for t in self._workers if t.is_alive()] + [w]
        w.start()

    def _run_job(self, job: FinishJob) -> None:
        # The scope covers _end too: its done-callback (the receipt) reads the store from this
        # thread, and a connection opened after the release outlived the thread (2 fds a session).
        with self.store.thread_scope():
            self._progress = _Progress(job.session_id)
            try:
                outcome = self.finisher.finish(job, self._on_progress)
            finally:
                self._progress = None
            # Only an analysis that found the runner is a success; a capture that failed, or in
            # which nobody was seen, is shown as failed with its one line, what it recorded kept.
            if outcome.finished is Finished.INTERRUPTED:
                self._set_state(self._state, outcome.message)  # shutting down: nothing ended
                return
            ok = outcome.finished is Finished.ANALYSED
            message = outcome.message
            if job.ended_early:  # the capture failed: shown as failed, its recording analysed
                sid = job.session_id
                message = (
                    f"{job.ended_early}; what was recorded is analysed in session {sid}"
                    if ok
                    else f"{job.ended_early}; {message}"
                )
                ok = False
            self._end(DONE if ok else FAILED, message, job.session_id, ok=ok)

    def _on_progress(self, done: int, total: int) -> None:
        # Catch-up workers report from their own threads, a lower count can arrive after a higher
        # one: the shown count only ever rises, so the last one published is the whole catch-up.
        p = self._progress
        if p is not None:
            with self._lock:
                p.done, p.total = max(p.done, done), total
            self.hub.publish(force=done >= total)

    def _norms(self) -> Norms:
        from device.norms_file import norms_for

        return norms_for(self._norms_value, self.cfg.station.norms_file)

    def _end(self, state: StationState, message: str, sid: int, ok: bool) -> None:
        with self._lock:
            superseded = self._capture is not None  # a new capture already started
            self.last_result = {"session_id": sid, "ok": ok, "message": message}
            self._ended_at = time.monotonic()
        if not superseded:
            self._set_state(state, message)
        if self._on_session_done is not None:
            try:
                self._on_session_done(sid, ok)
            except Exception:
                log.exception("session %d: done-callback failed", sid)

    # -- the camera's and the live view's callbacks ---------------------------------------------

    def _on_frame(self, frame: Frame, picture: ModelImage) -> None:
        cap = self._capture
        if cap is not None and not cap.awaiting_restart:
            outcome = cap.recorder.on_frame(frame, picture)
            if outcome is FrameOutcome.BEGAN:
                if self.rear is not None:
                    self.rear.begin(cap.session_id, self.pose_spool_path(cap.session_id, "rear"))
                self.live.quality.reset()
                if self.cfg.capture.countdown_s:
                    self._notify_state(CAPTURING)  # the countdown is over: recording
            elif outcome is FrameOutcome.DONE:
                self._finish(cap, "stop", f"{self.cfg.capture.duration_s:g} s captured")
            elif outcome is FrameOutcome.CLOCK_FAULT and cap.recorder.clock_fault is not None:
                # a camera whose clock broke has failed like an unplugged one
                self._on_camera_error(cap.recorder.clock_fault)
            elif cap.recorder.error is not None:  # the pose spool failed (SPOOL_FAILED, disk)
                self.fail_capture(self._spool_failure(cap))
        elif cap is None:
            self._check_idle_time(frame)
        self.live.offer(frame, picture)

    def _check_idle_time(self, frame: Frame) -> None:
        """Keep the camera's clock between captures; a step that stays (the camera restarted
        its count, or a capture ended on a broken clock) is the new time line."""
        if self._camera_clock.check(frame.index, frame.t) is not None and self._camera_clock.broken:
            self._camera_clock = CameraClock()
            self._camera_clock.check(frame.index, frame.t)

    def _spool_failure(self, cap: _Capture) -> str:
        if cap.recorder.disk_full and not cap.recorder.began:
            return (
                "disk full: the recording could not start; free space (delete old sessions) and start again"
            )
        if cap.recorder.disk_full:
            return (
                f"disk full while recording: the {cap.recorder.writer.written} frames of keypoints "
                "stored before are kept; free space (delete old sessions) and start again"
            )
        return f"recording failed: {cap.recorder.error}"

    def _on_keypoints(self, frame: Frame, keypoints: np.ndarray) -> None:
        cap = self._capture
        if cap is not None:
            cap.recorder.on_keypoints(frame, keypoints)

    def _on_tick(self) -> None:
        now = time.monotonic()
        if now - self._hints_at >= 0.25:  # the hints look back ~2 s: 4 updates a second suffice
            self._hints_at = now
            self._hints = self._merged_hints()
        self.hub.publish(force=False)

    def _merged_hints(self) -> list[Hint]:
        cap = self._capture
        return merge_hints(self.live.hints(), cap.recorder.live_hints() if cap is not None else [])

    def _on_camera_open(self) -> None:
        cap = self._capture
        if cap is None:
            self._camera_clock = CameraClock()  # a camera opened again counts its time afresh
        else:
            cap.awaiting_restart = False
        with self._lock:
            if self._state in (IDLE, READY) and self._message.startswith(("camera", "starting")):
                self._message = ""
        self.live.reset()
        self.hub.publish()

    def _on_camera_error(self, message: str) -> None:
        self.live.reset()
        if not self.fail_capture(message):
            with self._lock:
                self._message = (
                    message if message.startswith("camera") else f"camera not available: {message}"
                )
            self.hub.publish()

    def _on_pose_error(self, message: str) -> None:
        self.fail_capture(message)

    def _on_source_end(self) -> None:
        """A finite source (video file) reached its end: a capture ends there and is analysed."""
        cap = self._capture
        if cap is None or cap.awaiting_restart:
            return
        if not cap.recorder.began:
            self.fail_capture("the video ended before the capture began")
        else:
            self._finish(cap, "stop", "end of video")

    def _watch(self) -> None:
        """Fail a capture whose camera stopped delivering (read() blocked or the driver hung),
        whose disk filled up, or whose camera's clock runs so slow that its length would never
        be reached; settle a shown result back to idle."""
        timeout = self.cfg.capture.stall_timeout_s
        while not self._stop.wait(0.25):
            cap = self._capture
            if cap is not None or self._progress is not None:
                # Viewers see the capture's clock and the catch-up move even while the pose
                # model is slow (the live view's own updates follow its inference rate).
                self.hub.publish(force=False)
            if cap is None:
                self._settle_result()
                continue
            last = max(self.camera.last_frame_wall or 0.0, cap.wall_start)
            if time.monotonic() - last > timeout:
                self.fail_capture(f"camera stopped delivering frames for {timeout:g} s")
            elif cap.recorder.disk_full:
                # Stop now rather than run on with frames that can no longer be stored.
                self.fail_capture(self._spool_failure(cap))
            elif self.camera.is_live and (slow := self._slow_clock(cap)) is not None:
                # (a file is read faster than real time, and its end ends the capture anyway)
                self.fail_capture(slow)

    @staticmethod
    def _slow_clock(cap: _Capture) -> str | None:
        """Why the capture must end for its camera's slow clock, None while it is in time."""
        return cap.real_time.overrun(time.monotonic() - cap.wall_start, cap.recorder.figures().elapsed_s)

    def _settle_result(self) -> None:
        """After done/failed has been shown for ``result_hold_s`` the station is idle again (LED
        too); the outcome stays readable in ``status()['last_result']`` and the message."""
        with self._lock:
            if self._state not in (DONE, FAILED) or self._ended_at is None:
                return
            if time.monotonic() - self._ended_at < self.cfg.capture.result_hold_s:
                return
            last = self.last_result or {}
            word = "done" if last.get("ok") else "failed"
            message = f"last session {last.get('session_id')} {word}: {last.get('message', '')}".rstrip(": ")
        self._set_state(IDLE, message)

    def healthy(self, max_stall_s: float = 10.0) -> bool:
        """True while the camera loop turns (a frame, a retry or a wait within ``max_stall_s``)."""
        return self.camera.alive() and time.monotonic() - self.camera.beat < max_stall_s

    # -- what viewers see --------------------------------------------------------------------

    def latest_preview(self) -> tuple[int, bytes] | None:
        return self.live.latest_preview()

    def status(self) -> Status:
        with self._lock:
            cap = self._capture
            state = self._state
            message = self._message
        elapsed = remaining = cadence = strides = countdown = None
        recorded = missed = None
        sid = cap.session_id if cap is not None else self.last_session_id
        if cap is not None:
            rec = cap.recorder
            f = rec.figures()
            if f.elapsed_s is not None:
                elapsed = round(f.elapsed_s, 2)
                remaining = round(max(0.0, self.cfg.capture.duration_s - f.elapsed_s), 2)
            countdown = rec.countdown_left
            cadence, strides = rec.live_cadence()
            recorded, missed = f.frames_spooled, f.frames_missed
        p = self._progress
        catchup = None
        if p is not None and p.total:
            catchup = {
                "session_id": p.session_id,
                "done": p.done,
                "total": p.total,
                "percent": round(100.0 * p.done / p.total, 1),
            }
        frame_t = self.live.frame_t
        hints = [HINT_WORDS[h] for h in self._hints]
        if self.camera.error:
            hints.insert(0, self.camera.error)
        return {
            "state": state,
            "session_id": sid,
            "elapsed_s": elapsed,
            "remaining_s": remaining,
            "duration_s": self.cfg.capture.duration_s,
            "countdown_s": round(countdown, 1) if countdown is not None else None,
            "cadence_spm": round(cadence, 1) if cadence is not None else None,
            "strides": strides,
            "quality_hints": hints,
            "message": message,
            "inference_fps": round(self.live.inference_fps, 1),
            # a mistimed frame (inf, nan) reaches the live view too: never the status' JSON
            "frame_t": frame_t if frame_t is not None and math.isfinite(frame_t) else None,
            "camera_ok": self.camera.source_ok,
            # the drawn runner, not a camera: the dashboard says so before anyone is filmed "on" it
            "synthetic_runner": is_synthetic(self.source_name),
            "armed": self._armed is not None,
            "frames_recorded": recorded,
            "frames_missed": missed,
            "catchup": catchup,
            "last_result": dict(self.last_result) if self.last_result else None,
            **(self.rear.status() if self.rear is not None else {}),
        }

    def subscribe(self, maxsize: int = 16) -> Subscription:
        return self.hub.subscribe(maxsize)

    def unsubscribe(self, sub: Subscription) -> None:
        self.hub.unsubscribe(sub)
